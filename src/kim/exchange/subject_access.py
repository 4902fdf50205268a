"""Data-subject access (Art. 15 GDPR): everything stored about one participant, as JSON and
as PDF, including who opened, changed or passed on the record. Only for a reader who sees the
participant (`visible_to`). The JSON is for machines (ISO dates, record numbers); the PDF is
for the person: a plain introduction, the controller and the rights, labels instead of keys,
no database numbers and no internal names of record types."""

import json
from datetime import date, datetime

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from kim.casework.models import Appointment, Assessment, Case, Consent, Goal, PlanAction, Referral
from kim.core.models import AuditEntry
from kim.privacy.models import Erasure
from kim.privacy.release import CATEGORIES

from .mapping import staff_name
from .workbook import fixed_lists


# What each kind of record is called in the person's copy (never the internal type).
RECORD_NAMES = {
    "casework.participant": "Ihre persönlichen Angaben",
    "casework.consent": "Einwilligung",
    "casework.case": "Fall",
    "casework.assessment": "Einschätzung der Lebenslage (Assessment)",
    "casework.goal": "Ziel",
    "casework.planaction": "Maßnahme",
    "casework.referral": "Verweis",
    "casework.appointment": "Termin",
    "residence.procedure": "Verfahren bei einer Behörde",
    "privacy.erasure": "Antrag auf Löschung",
    "privacy.transfer": "Übergabe an einen anderen Träger",
}
# Actions the audit log may hold beyond AuditEntry.Action (a transfer to another provider).
MORE_ACTIONS = {"transfer": "übermittelt", "restrict": "eingeschränkt"}
# Keys that only the JSON keeps: database numbers and internal names (the PDF leaves them out).
MACHINE_KEYS = frozenset({"Nr.", "Fall-Kennung", "Objekttyp", "Objekt-Nr."})
REDACTED = "geschwärzt"


def participant_record(user, participant) -> dict:
    """Everything stored about the participant, as {German heading: value}: dates as dates,
    times as times (the renderers write them for their reader), choices by their labels.

    The reader sees the participant (`visible_to`); what belongs to the person is then given
    whole, also parts the reader would not open one by one (module 3's procedures linked to the
    person, need reports of colleagues naming the person's cases): the controller answers, not
    the reader. Database numbers are kept under MACHINE_KEYS for the JSON only."""
    labels = fixed_lists()

    def label(list_name, value):
        return labels[list_name].get(value, value) if value not in (None, "") else None

    cases = list(Case.objects.visible_to(user).filter(participant=participant).select_related(
        "target_group", "referral_source", "municipality", "closure_reason", "screening_outcome", "case_manager"
    ).order_by("opened_on", "pk"))
    case_ids = [c.pk for c in cases]
    case_names = {case.pk: f"Fall {index} (seit {case.opened_on:%d.%m.%Y})" for index, case in enumerate(cases, start=1)}
    consents = list(Consent.objects.visible_to(user).filter(participant=participant).prefetch_related("released_to"))
    record = {
        "Kennung": participant.code,
        "Vorname": participant.first_name, "Nachname": participant.last_name,
        "Geburtsdatum": participant.birth_date,
        "Geschlecht": label("gender", participant.gender),
        "Staatsangehörigkeit": participant.nationalities, "Sprachen": participant.languages,
        "Kommune": participant.municipality.name, "Einreisedatum": participant.entry_date,
        "Aufenthaltsstatus": label("residence_status", participant.residence_status),
        "Telefon": participant.phone, "E-Mail": participant.email, "Anschrift": participant.address,
        "Haushalt": participant.household.name if participant.household_id else None,
        "Verantwortlich": str(participant.provider),
        "Zuständige Fachkraft": staff_name(participant.responsible),
        "Verantwortliche Stelle": {"Träger": str(participant.provider), "Kreis": str(participant.district)},
        "Einschränkung der Verarbeitung": {
            "eingeschränkt": participant.restricted_on is not None, "seit": participant.restricted_on,
            "Grund": participant.restriction_reason},
        "Einwilligungen": [
            {"Nr.": c.pk, "erteilt am": c.given_on, "Verarbeitung": c.covers_processing, "widerrufen am": c.withdrawn_on,
             "Schweigepflichtentbindung für": [str(t) for t in c.released_to.all()],
             "Freigegebene Daten": [str(CATEGORIES[key][0]) for key in c.released_categories if key in CATEGORIES],
             "Bemerkung": c.note}
            for c in consents
        ],
        "Fälle": [],
    }
    goals = list(Goal.objects.visible_to(user).filter(case_id__in=case_ids).select_related("category"))
    actions = list(PlanAction.objects.visible_to(user).filter(case_id__in=case_ids))
    referrals = list(Referral.objects.visible_to(user).filter(case_id__in=case_ids).select_related("target"))
    assessments = list(Assessment.objects.visible_to(user).filter(case_id__in=case_ids).select_related("author")
                       .prefetch_related("items__life_domain"))
    appointments = list(Appointment.objects.visible_to(user).filter(case_id__in=case_ids).prefetch_related(
        "topics", "language_support"))
    for case in cases:
        record["Fälle"].append({
            "Fall": case_names[case.pk], "Fall-Kennung": case.number, "Art": label("case_kind", case.kind),
            "Phase": label("phase", case.phase), "Case Manager*in": staff_name(case.case_manager),
            "Zielgruppe": str(case.target_group or ""), "Zugangsweg": str(case.referral_source or ""),
            "Kommune": str(case.municipality), "Beginn": case.opened_on, "Ende": case.closed_on,
            "Abschlussgrund": str(case.closure_reason or ""), "Verwiesen an": str(case.screening_outcome or ""),
            "Assessments": [
                {"Art": label("assessment_kind", a.kind), "Datum": a.assessed_on, "Zusammenfassung": a.summary,
                 "verfasst von": staff_name(a.author), "Lebensbereiche": [
                     {"Bereich": str(i.life_domain), "Bedarf": label("need", i.need), "Situation": i.situation,
                      "Ressourcen": i.resources, "Wünsche": i.wishes} for i in a.items.all()]}
                for a in assessments if a.case_id == case.pk
            ],
            "Ziele": [{"Zielkategorie": str(g.category), "Beschreibung": g.text, "vereinbart am": g.agreed_on,
                       "fällig am": g.due_on, "Status": label("goal_status", g.status), "Status seit": g.status_changed_on}
                      for g in goals if g.case_id == case.pk],
            "Maßnahmen": [{"Was": a.description, "Wer": a.responsible, "Bis": a.due_on, "Erledigt": a.done_on}
                          for a in actions if a.case_id == case.pk],
            "Verweise": [{"An": str(r.target), "Datum": r.referred_on, "Bemerkung": r.note}
                         for r in referrals if r.case_id == case.pk],
            "Termine": [{"Datum": a.date, "Art": label("appointment_kind", a.kind),
                         "Ort": label("place", a.place), "Dauer (Minuten)": a.duration_minutes,
                         "Themen": [str(t) for t in a.topics.all()], "Sprachmittlung": [str(s) for s in a.language_support.all()],
                         "Bemerkung": a.note} for a in appointments if a.case_id == case.pk],
        })
    procedures = _procedures(participant)
    record["Verfahren bei Ausländer- und Einbürgerungsbehörden"] = [
        {"Nr.": p.pk, "Behörde": p.office.name, "Art": p.get_kind_display(), "Aktenzeichen": p.reference,
         "Antrag eingegangen am": p.received_on, "vollständig am": p.complete_on, "entschieden am": p.decided_on,
         "Ergebnis": p.get_outcome_display() or None} for p in procedures]
    record["Bedarfsmeldungen an die Koordinierung"] = [
        {"Nr.": n.pk, "gesendet am": n.sent_at, "Herausforderung": n.challenge, "Status": n.get_status_display(),
         "Fälle": [case_names[c.pk] for c in n.cases.all() if c.pk in case_names]}
        for n in _need_reports(participant, case_ids)]
    erasures = list(Erasure.objects.filter(participant=participant).order_by("requested_at"))
    record["Anträge auf Löschung"] = [
        {"Nr.": e.pk, "gestellt am": e.requested_at, "Grund": e.reason, "Status": e.get_status_display(),
         "Löschung am oder nach dem": e.due_on, "entschieden am": e.decided_at} for e in erasures]
    transfers = _transfers(case_ids)
    record["Übergaben an andere Träger"] = [
        {"Nr.": t.pk, "Art": t.get_kind_display(), "am": t.transferred_on, "von": str(t.sender), "an": str(t.receiver),
         "Fall": case_names.get(t.source_case_id) or case_names.get(t.target_case_id),
         "übergebene Daten": [str(CATEGORIES[key][0]) for key in t.categories if key in CATEGORIES]}
        for t in transfers]
    by_type = {
        "privacy.transfer": [t.pk for t in transfers],
        "casework.participant": [participant.pk], "casework.case": case_ids,
        "casework.consent": [c.pk for c in consents], "casework.assessment": [a.pk for a in assessments],
        "casework.goal": [g.pk for g in goals], "casework.planaction": [a.pk for a in actions],
        "casework.referral": [r.pk for r in referrals], "casework.appointment": [a.pk for a in appointments],
        "residence.procedure": [p.pk for p in procedures], "privacy.erasure": [e.pk for e in erasures],
    }
    case_of = {("casework.case", pk): case_names[pk] for pk in case_ids}
    for kind, records in (("casework.goal", goals), ("casework.planaction", actions), ("casework.referral", referrals),
                          ("casework.assessment", assessments), ("casework.appointment", appointments)):
        case_of.update({(kind, r.pk): case_names[r.case_id] for r in records})
    record["Zugriffe und Änderungen"] = _trail(participant, by_type, case_of)
    record["Erstellt am"] = timezone.now()
    return record


def _transfers(case_ids):
    """Transfers and handovers from or to one of the person's cases (the provider answers for
    both sides it took part in)."""
    from kim.privacy.models import Transfer

    if not case_ids:
        return []
    return list(Transfer.objects.filter(Q(source_case_id__in=case_ids) | Q(target_case_id__in=case_ids))
                .select_related("sender", "receiver").order_by("transferred_on", "pk"))


def _procedures(participant):
    from kim.residence.models import Procedure  # module 3 builds on case work

    return list(Procedure.objects.filter(participant=participant, district_id=participant.district_id)
                .select_related("office").order_by("received_on", "pk"))


def _need_reports(participant, case_ids):
    from kim.system.models import NeedReport

    if not case_ids:
        return []
    return list(NeedReport.objects.filter(provider_id=participant.provider_id, cases__in=case_ids).distinct()
                .prefetch_related("cases").order_by("sent_at", "pk"))


def _trail(participant, ids_by_type: dict, case_of: dict) -> list:
    """Who opened or changed the participant's records, and when, whatever the action (a
    transfer too). A redacted entry says so instead of what it held."""
    entries = []
    for object_type, ids in ids_by_type.items():
        if ids:
            entries += list(AuditEntry.objects.filter(object_type=object_type, object_id__in=[str(pk) for pk in ids],
                                                      district_id=participant.district_id).select_related("actor"))
    return [_trail_entry(entry, case_of) for entry in sorted(entries, key=lambda entry: (entry.at, entry.pk))]


def _trail_entry(entry, case_of) -> dict:
    key = (entry.object_type, int(entry.object_id) if entry.object_id.isdigit() else None)
    return {
        "Zeit": entry.at, "Wer": staff_name(entry.actor) if entry.actor else "System",
        "Was": _action(entry), "Datensatz": RECORD_NAMES.get(entry.object_type, "sonstiger Eintrag"),
        "Bezug": REDACTED if entry.redacted else case_of.get(key, ""),
        "Angaben": REDACTED if entry.redacted else _changed_fields(entry),
        "Objekttyp": entry.object_type, "Objekt-Nr.": entry.object_id,
    }


def _action(entry) -> str:
    if entry.action == AuditEntry.Action.READ and "subject_access" in (entry.changes or {}):
        return "Auskunft erstellt"
    if entry.action in AuditEntry.Action.values:
        return str(AuditEntry.Action(entry.action).label)
    return MORE_ACTIONS.get(entry.action, entry.action)


def _changed_fields(entry) -> list:
    """The names (labels) of the fields an entry changed; not their values, which the record
    above shows as they are now."""
    if entry.action == AuditEntry.Action.READ or not isinstance(entry.changes, dict):
        return []
    try:
        model = apps.get_model(entry.object_type)
    except (LookupError, ValueError):
        return []
    names = []
    for key in entry.changes:
        try:
            names.append(str(model._meta.get_field(key).verbose_name))
        except FieldDoesNotExist:
            continue  # bookkeeping of the entry (the import's name), no field of the record
    return names


def for_the_person(value):
    """The record as the person reads it: without database numbers and internal names."""
    if isinstance(value, dict):
        return {k: for_the_person(v) for k, v in value.items() if k not in MACHINE_KEYS}
    if isinstance(value, list):
        return [for_the_person(v) for v in value]
    return value


def as_json(record) -> str:
    """The record for machines: ISO dates, times with their offset in the district's time zone."""

    def plain(value):
        if isinstance(value, datetime):
            return timezone.localtime(value).isoformat()
        if isinstance(value, date):
            return value.isoformat()
        raise TypeError(type(value).__name__)

    return json.dumps(record, ensure_ascii=False, indent=2, default=plain)


def as_html(value, level=2) -> str:
    """The record as nested definition lists and sections, every value escaped."""
    if isinstance(value, dict):
        scalars = [(k, v) for k, v in value.items() if not isinstance(v, (list, dict))]
        nested = [(k, v) for k, v in value.items() if isinstance(v, (list, dict))]
        parts = [format_html("<dl>{}</dl>", format_html_join("", "<dt>{}</dt><dd>{}</dd>",
                                                                 ((k, _text(v)) for k, v in scalars)))]
        for key, inner in nested:
            parts.append(format_html("<h{}>{}</h{}>", min(level, 4), key, min(level, 4)))
            parts.append(as_html(inner, level + 1))
        return mark_safe("".join(parts))  # every part comes from format_html, so escaped
    if isinstance(value, list):
        if not value:
            return format_html("<p>{}</p>", "keine")
        if all(not isinstance(v, (dict, list)) for v in value):
            return format_html("<p>{}</p>", ", ".join(_text(v) for v in value))
        return mark_safe("".join(format_html("<section>{}</section>", as_html(v, level)) for v in value))
    return format_html("<p>{}</p>", _text(value))


def _text(value) -> str:
    """A value as a person reads it: German dates, local times, yes and no."""
    if value is None or value == "":
        return "–"
    if isinstance(value, datetime):
        return f"{timezone.localtime(value):%d.%m.%Y, %H:%M} Uhr"
    if isinstance(value, date):
        return f"{value:%d.%m.%Y}"
    if value is True:
        return "ja"
    if value is False:
        return "nein"
    if isinstance(value, list):
        return ", ".join(_text(v) for v in value) or "–"
    return str(value)


def record_pdf(record) -> bytes:
    from weasyprint import HTML

    readable = for_the_person(record)
    person = {k: v for k, v in readable.items() if not isinstance(v, (list, dict)) and k != "Erstellt am"}
    sections = {k: v for k, v in readable.items() if isinstance(v, (list, dict))}
    trail = sections.pop("Zugriffe und Änderungen")  # a table: one line per entry reads best
    html = render_to_string("exchange/subject_access.html", {
        "record": record, "person": as_html(person), "body": as_html(sections, level=2),
        "trail": [{k: _text(v) for k, v in entry.items()} for entry in trail],
        "created": _text(record["Erstellt am"]), "district": record["Verantwortliche Stelle"]["Kreis"]})
    return HTML(string=html).write_pdf()
