"""Data-subject access (Art. 15 GDPR): everything stored about one participant, as JSON and
as PDF, including who opened or changed the record. Only through the reader's scope."""

import json
from datetime import date, datetime

from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from kim.casework.models import Appointment, Assessment, Case, Consent, Goal, PlanAction, Referral
from kim.core.models import AuditEntry

from .mapping import staff_name
from .workbook import fixed_lists


def participant_record(user, participant) -> dict:
    """Everything stored about the participant, as {German heading: value}: dates as dates,
    times as times (the renderers write them for their reader), choices by their labels."""
    labels = fixed_lists()

    def label(list_name, value):
        return labels[list_name].get(value, value) if value not in (None, "") else None

    cases = Case.objects.visible_to(user).filter(participant=participant).select_related(
        "target_group", "referral_source", "municipality", "closure_reason", "screening_outcome", "case_manager"
    ).order_by("opened_on", "pk")
    case_ids = [c.pk for c in cases]
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
        "Einwilligungen": [
            {"erteilt am": c.given_on, "Verarbeitung": c.covers_processing, "widerrufen am": c.withdrawn_on,
             "Schweigepflichtentbindung für": [str(t) for t in c.released_to.all()], "Bemerkung": c.note}
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
            "Fall-Kennung": case.number, "Art": label("case_kind", case.kind),
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
    record["Zugriffe und Änderungen"] = _trail(participant, {
        "casework.participant": [participant.pk], "casework.case": case_ids,
        "casework.consent": [c.pk for c in consents], "casework.assessment": [a.pk for a in assessments],
        "casework.goal": [g.pk for g in goals], "casework.planaction": [a.pk for a in actions],
        "casework.referral": [r.pk for r in referrals], "casework.appointment": [a.pk for a in appointments],
    })
    record["Erstellt am"] = timezone.now()
    return record


def _trail(participant, ids_by_type: dict) -> list:
    """Who opened or changed the participant's records, and when."""
    entries = []
    for object_type, ids in ids_by_type.items():
        if ids:
            entries += list(AuditEntry.objects.filter(object_type=object_type, object_id__in=[str(pk) for pk in ids],
                                                      district_id=participant.district_id).select_related("actor"))
    return [{"Zeit": entry.at, "Wer": str(entry.actor or "System"), "Was": str(entry.get_action_display()),
             "Datensatz": entry.object_label} for entry in sorted(entries, key=lambda entry: (entry.at, entry.pk))]


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

    html = render_to_string("exchange/subject_access.html", {"record": record, "body": as_html(record)})
    return HTML(string=html).write_pdf()
