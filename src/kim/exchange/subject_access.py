"""Data-subject access (Art. 15 GDPR): everything stored about one participant, as JSON and
as PDF, including who opened or changed the record. Only through the reader's scope."""

from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from kim.casework.models import Appointment, Assessment, Case, Consent, Goal, PlanAction, Referral
from kim.core.models import AuditEntry

from .workbook import CASE_KINDS, fixed_lists


def _date(value):
    return value.isoformat() if value else None


def participant_record(user, participant) -> dict:
    fixed = fixed_lists()
    labels = {"Geschlecht": fixed["gender"], "Aufenthaltsstatus": fixed["residence_status"],
              "Phase": fixed["phase"], "Status": fixed["goal_status"]}
    cases = Case.objects.visible_to(user).filter(participant=participant).select_related(
        "target_group", "referral_source", "municipality", "closure_reason", "screening_outcome", "case_manager"
    ).order_by("opened_on", "pk")
    case_ids = [c.pk for c in cases]
    record = {
        "Kennung": participant.code,
        "Vorname": participant.first_name, "Nachname": participant.last_name,
        "Geburtsdatum": _date(participant.birth_date),
        "Geschlecht": labels["Geschlecht"].get(participant.gender, ""),
        "Staatsangehörigkeit": participant.nationalities, "Sprachen": participant.languages,
        "Kommune": participant.municipality.name, "Einreisedatum": _date(participant.entry_date),
        "Aufenthaltsstatus": labels["Aufenthaltsstatus"].get(participant.residence_status, ""),
        "Telefon": participant.phone, "E-Mail": participant.email, "Anschrift": participant.address,
        "Haushalt": participant.household.name if participant.household_id else None,
        "Verantwortlich": str(participant.provider),
        "Einwilligungen": [
            {"erteilt am": _date(c.given_on), "Verarbeitung": c.covers_processing, "widerrufen am": _date(c.withdrawn_on),
             "Schweigepflichtentbindung für": [str(t) for t in c.released_to.all()], "Bemerkung": c.note}
            for c in Consent.objects.visible_to(user).filter(participant=participant).prefetch_related("released_to")
        ],
        "Fälle": [],
    }
    goals = Goal.objects.visible_to(user).filter(case_id__in=case_ids).select_related("category")
    actions = PlanAction.objects.visible_to(user).filter(case_id__in=case_ids)
    referrals = Referral.objects.visible_to(user).filter(case_id__in=case_ids).select_related("target")
    assessments = Assessment.objects.visible_to(user).filter(case_id__in=case_ids).prefetch_related("items__life_domain")
    appointments = Appointment.objects.visible_to(user).filter(case_id__in=case_ids).prefetch_related(
        "topics", "language_support")
    for case in cases:
        record["Fälle"].append({
            "Fall-Kennung": case.number, "Art": CASE_KINDS.get(case.kind, case.kind),
            "Phase": labels["Phase"].get(case.phase, case.phase), "Case Manager*in": str(case.case_manager),
            "Zielgruppe": str(case.target_group or ""), "Zugangsweg": str(case.referral_source or ""),
            "Kommune": str(case.municipality), "Beginn": _date(case.opened_on), "Ende": _date(case.closed_on),
            "Abschlussgrund": str(case.closure_reason or ""), "Verwiesen an": str(case.screening_outcome or ""),
            "Assessments": [
                {"Datum": _date(a.assessed_on), "Zusammenfassung": a.summary, "Lebensbereiche": [
                    {"Bereich": str(i.life_domain), "Bedarf": i.need, "Situation": i.situation,
                     "Ressourcen": i.resources, "Wünsche": i.wishes} for i in a.items.all()]}
                for a in assessments if a.case_id == case.pk
            ],
            "Ziele": [{"Zielkategorie": str(g.category), "Beschreibung": g.text, "vereinbart am": _date(g.agreed_on),
                       "Status": labels["Status"].get(g.status, g.status), "Status seit": _date(g.status_changed_on)}
                      for g in goals if g.case_id == case.pk],
            "Maßnahmen": [{"Was": a.description, "Wer": a.responsible, "Bis": _date(a.due_on), "Erledigt": _date(a.done_on)}
                          for a in actions if a.case_id == case.pk],
            "Verweise": [{"An": str(r.target), "Datum": _date(r.referred_on), "Bemerkung": r.note}
                         for r in referrals if r.case_id == case.pk],
            "Termine": [{"Datum": _date(a.date), "Dauer (Minuten)": a.duration_minutes,
                         "Themen": [str(t) for t in a.topics.all()], "Sprachmittlung": [str(s) for s in a.language_support.all()],
                         "Bemerkung": a.note} for a in appointments if a.case_id == case.pk],
        })
    trail = AuditEntry.objects.filter(
        object_type__in=["casework.participant", "casework.case"],
        object_id__in=[str(participant.pk)] + [str(pk) for pk in case_ids],
        district_id=participant.district_id,
    ).select_related("actor").order_by("at")
    record["Zugriffe und Änderungen"] = [
        {"Zeit": entry.at.isoformat(), "Wer": str(entry.actor or "System"), "Was": entry.get_action_display(),
         "Datensatz": entry.object_label} for entry in trail
    ]
    record["Erstellt am"] = timezone.now().isoformat()
    return record


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
    if value is None or value == "":
        return "–"
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
