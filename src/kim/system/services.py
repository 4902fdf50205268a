"""Changes of the system level: one transaction and one audit entry each."""

import logging

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kim.casework.models import Case
from kim.core.models import Role, User
from kim.core import audit
from kim.core.sandbox import BoundedWorkFailed, run_bounded
from kim.core.services import create_object, delete_object, refuse_implausible_dates, update_object
from kim.reports.services import check_word_file

from .guard import personal_data_in
from .models import LegalDomain, NeedReport, Theme

log = logging.getLogger(__name__)

HIT_KINDS = {"name": gettext_lazy("a name"), "birth date": gettext_lazy("a date of birth"),
             "code": gettext_lazy("a participant code"), "case number": gettext_lazy("a case number")}


def refuse_personal_data(user, **texts):
    """Refuse texts that name a participant `user` can see: {field: text}. The message says what
    was found in which field, in the words of the text, so the author can rewrite it."""
    errors = {}
    for field, text in texts.items():
        hits = personal_data_in(text, user)
        if hits:
            found = ", ".join(f"{HIT_KINDS[hit.kind]} („{hit.text}“)" for hit in hits[:5])
            errors[field] = _("The text names a participant: %(found)s. Write in general terms, for example "
                              "“a participant”, without names, dates of birth or case numbers.") % {"found": found}
    if errors:
        raise ValidationError(errors)


def coordinators_of(district_id):
    """Who may be responsible for a theme: the district's own coordination (accounts are not
    scoped by district)."""
    return User.objects.filter(district_id=district_id, role=Role.COORDINATION, is_active=True)


def _ensure(actor, permission):
    if not actor.has_perm(permission):
        raise PermissionDenied


@transaction.atomic
def send_need_report(actor, values: dict, cases=()) -> NeedReport:
    """A case manager (or lead) reports a structural problem, from a case or on its own."""
    _ensure(actor, "system.report_need")
    refuse_personal_data(actor, challenge=values.get("challenge", ""))
    _refuse_sent_twice(actor, values.get("challenge", ""))
    unknown = set(values.get("legal_domains", [])) - set(LegalDomain.values)
    if unknown:
        raise ValidationError({"legal_domains": _("Unknown legal domain.")})
    cases = list(cases)
    visible = set(Case.objects.visible_to(actor).filter(pk__in=[c.pk for c in cases]).values_list("pk", flat=True))
    if len(visible) != len({c.pk for c in cases}):
        raise PermissionDenied  # a case the author cannot see
    return create_object(actor, NeedReport, district=actor.district, provider=actor.provider, author=actor,
                         cases=cases, **values)


def _refuse_sent_twice(actor, challenge):
    """The same report sent twice (a double click, two tabs, a script) is received once: the
    author's row is locked, so a second request waits and then finds the first."""
    User.objects.select_for_update().filter(pk=actor.pk).exists()
    text = " ".join(challenge.split())
    if text and any(" ".join(other.split()) == text for other in
                    NeedReport.objects.filter(author=actor).values_list("challenge", flat=True)):
        raise ValidationError({"challenge": _("You have already sent this report.")})


TRIAGE = {NeedReport.Status.ACCEPTED, NeedReport.Status.MERGED, NeedReport.Status.ANSWERED,
          NeedReport.Status.DECLINED}


@transaction.atomic
def triage_need_report(actor, report: NeedReport, status: str, response: str = "", theme: Theme | None = None):
    """Coordination's answer to a report: accepted, merged into a theme, answered, declined."""
    _ensure(actor, "system.coordinate")
    if status not in TRIAGE:
        raise ValidationError({"status": _("Choose how the report is dealt with.")})
    if status == NeedReport.Status.MERGED and theme is None:
        raise ValidationError({"theme": _("Choose the theme the report is merged into.")})
    if status in (NeedReport.Status.ANSWERED, NeedReport.Status.DECLINED) and not response.strip():
        raise ValidationError({"response": _("Say what the answer is, or why the report is declined.")})
    report = NeedReport.objects.select_for_update().get(pk=report.pk)
    return update_object(actor, report, {"status": status, "response": response,
                                         "theme": theme if status == NeedReport.Status.MERGED else report.theme,
                                         "triaged_at": timezone.now()})


def _check_theme(actor, values: dict, theme: Theme | None = None):
    """What a theme must say, by field (the database's constraint is the backstop): a reason
    where it did not come about, and a responsible coordinator of the district's own."""
    status = values.get("status", theme.status if theme else Theme.Status.COLLECTED)
    reason = values.get("failure_reason", theme.failure_reason if theme else "")
    if status == Theme.Status.FAILED and not (reason or "").strip():
        raise ValidationError({"failure_reason": _("Say why the theme did not come about.")})
    responsible = values.get("responsible")
    if responsible is not None and not coordinators_of(actor.district_id).filter(pk=responsible.pk).exists():
        raise ValidationError({"responsible": _("The responsible person is one of the district's coordinators.")})


@transaction.atomic
def create_theme(actor, values: dict) -> Theme:
    _ensure(actor, "system.coordinate")
    _check_theme(actor, values)
    return create_object(actor, Theme, district=actor.district, **values)


@transaction.atomic
def update_theme(actor, theme: Theme, values: dict) -> Theme:
    _ensure(actor, "system.coordinate")
    theme = Theme.objects.select_for_update().get(pk=theme.pk)
    _check_theme(actor, values, theme)
    return update_object(actor, theme, values)


def linked_case_count(report: NeedReport) -> int:
    """What coordination learns of the cases behind a report: how many, not which."""
    return report.cases.count()



# ---------------------------------------------------------------- records of the system level
# Free texts about participants (not about professionals): the guard checks them.
# A reconstruction's focus is shown in the list the steering group reads: guarded like its texts.
GUARDED_TEXTS = {"CaseReconstruction": ("focus", "vignette", "findings"), "ParticipationForum": ("topics_raised",)}
# Putting a theme on the agenda presents it; a decision on it decides it (never backwards).
THEME_ORDER = [Theme.Status.COLLECTED, Theme.Status.PREPARED, Theme.Status.PRESENTED, Theme.Status.DECIDED,
               Theme.Status.IMPLEMENTING, Theme.Status.CLOSED]
MAX_DOCUMENT_BYTES = 5 * 1024 * 1024


def group_member_candidates(district_id):
    """Who can be a member of a working group with an account: the district's case managers,
    leads and module 3 staff (coordination and the steering group read every group anyway)."""
    return User.objects.filter(district_id=district_id, is_active=True,
                               role__in=[Role.CASE_MANAGER, Role.PROVIDER_LEAD, Role.MODULE3])


MAX_VOTES = 999


def _check_record(actor, model, values: dict, record=None):
    refuse_personal_data(actor, **{name: values.get(name, "") for name in GUARDED_TEXTS.get(model.__name__, ())})
    refuse_implausible_dates(values)
    _check_order(values, ("starts_on", "due_on"), _("The due date cannot be before the start."))
    _check_order(values, ("concluded_on", "review_on"), _("The review cannot be before the agreement was concluded."))
    if model.__name__ == "Decision":
        _check_votes(values, values.get("mode", getattr(record, "mode", None)))
    if any(sign in (values.get("website") or "") for sign in "\"'<>`\\"):
        # A web address goes into Integreat and other machines' files: nothing that closes an attribute.
        raise ValidationError({"website": _("The web address contains characters that do not belong in one.")})
    members = values.get("members")
    if members is not None:
        allowed = set(group_member_candidates(actor.district_id).values_list("pk", flat=True))
        if any(member.pk not in allowed for member in members):
            raise ValidationError({"members": _("Members are case managers, leads or module 3 staff of the district.")})
    mode = values.get("mode", getattr(record, "mode", None))
    if model.__name__ == "Decision" and mode == "vote" and values.get("votes_for", getattr(record, "votes_for", None)) is None:
        raise ValidationError({"votes_for": _("A decision by vote records the votes for it.")})
    if model.__name__ == "Decision" and values.get("follow_up") == "standard" and not values.get("standard", "").strip():
        raise ValidationError({"standard": _("Name the standard the decision sets.")})


def _refuse_twice(model, values, parent):
    """An item (agenda item, decision, group meeting) sent twice, by a double click or two
    tabs, is added once: the owner's row is locked, so a second request waits and then finds
    the first item."""
    (name, owner), = parent.items()
    type(owner).objects.select_for_update().filter(pk=owner.pk).exists()
    plain = {key: value for key, value in values.items() if not model._meta.get_field(key).many_to_many}
    if model.objects.filter(**{name: owner}, **plain).exists():
        raise ValidationError(_("This item has already been added."))


def _check_order(values, names, message):
    first, second = (values.get(name) for name in names)
    if first and second and second < first:
        raise ValidationError({names[1]: message})


def _check_votes(values, mode):
    votes = {name: values.get(name) for name in ("votes_for", "votes_against", "abstentions")}
    if mode == "consensus" and any(value is not None for value in votes.values()):
        raise ValidationError({"votes_for": _("A decision by consensus has no votes; choose “vote” to record them.")})
    for name, value in votes.items():
        if value is not None and value > MAX_VOTES:
            raise ValidationError({name: _("At most %(n)s votes.") % {"n": MAX_VOTES}})


def _derived_theme(values: dict):
    """A measure, group or agreement belongs to the theme of the decision or group it follows."""
    if values.get("theme") is None:
        for source in ("decision", "mandate", "group"):
            if values.get(source) is not None and values[source].theme_id:
                return values[source].theme
    return values.get("theme")


def _advance_theme(actor, theme, status):
    """Move a theme forward along the chain, never back (coordination sets it back by hand)."""
    if theme is None or theme.status not in THEME_ORDER or THEME_ORDER.index(theme.status) >= THEME_ORDER.index(status):
        return
    update_object(actor, Theme.objects.select_for_update().get(pk=theme.pk), {"status": status})


@transaction.atomic
def save_record(actor, model, values: dict, record=None, **parent):
    """Create (record None) or change one record of the system level, with its audit entry.
    `parent` names the meeting or group an item belongs to."""
    _ensure(actor, "system.coordinate")
    values = dict(values)
    _check_record(actor, model, values, record)
    if record is None and parent:
        _refuse_twice(model, values, parent)
    if "theme" in values and any(name in values for name in ("decision", "mandate", "group")):
        values["theme"] = _derived_theme(values)
    if record is None:
        record = create_object(actor, model, district=actor.district, **parent, **values)
    else:
        record = update_object(actor, model.objects.select_for_update().get(pk=record.pk), values)
    if model.__name__ == "AgendaItem":
        _advance_theme(actor, record.theme, Theme.Status.PRESENTED)
    elif model.__name__ == "Decision":
        _advance_theme(actor, record.theme, Theme.Status.DECIDED)
    return record


@transaction.atomic
def delete_record(actor, record):
    """Remove an agenda item or a group's meeting (what was entered by mistake); the audit
    entry keeps what it said."""
    _ensure(actor, "system.coordinate")
    if type(record).__name__ not in ("AgendaItem", "GroupMeeting"):
        raise PermissionDenied
    delete_object(actor, type(record).objects.select_for_update().get(pk=record.pk))


# The PDF check (kim.system.pdfcheck) runs in a bounded child: hostile files are parsed there.
PDF_CHECK_MEMORY_MB, PDF_CHECK_CPU_SECONDS = 512, 20
PDF_REFUSALS = {
    "scripts": gettext_lazy("PDF documents with scripts, forms with scripts (XFA), embedded files or actions that "
                            "open other files are not accepted."),
    "actions": gettext_lazy("PDF documents that do something by themselves when opened (for example call up a web "
                            "address) are not accepted. Links that the reader clicks are fine."),
    "encrypted": gettext_lazy("Encrypted or password-protected PDF documents cannot be checked and are not accepted. "
                              "Save the document without password protection."),
    "unreadable": gettext_lazy("The PDF document contains parts that cannot be checked (an unusual compression). "
                               "Export it again as PDF, for example with “Save as PDF”."),
    "size": gettext_lazy("The PDF document cannot be checked: it unpacks to an implausible size, or checking it "
                         "takes too long. Export it again as PDF."),
}


def _pdf_refusal(content: bytes) -> str:
    """The German reason a PDF is refused, or "" (see kim.system.pdfcheck for the rule)."""
    try:
        reason = run_bounded("kim.system.pdfcheck:scan", content, memory_mb=PDF_CHECK_MEMORY_MB,
                             cpu_seconds=PDF_CHECK_CPU_SECONDS)
    except BoundedWorkFailed as failure:
        log.warning("checking an agreement's PDF stopped: %s", failure)
        reason = "unreadable" if failure.reason == "crash" else "size"
    return str(PDF_REFUSALS[reason]) if reason else ""


def check_document(content: bytes, name: str):
    """An agreement's document: a PDF without scripts, automatic actions, embedded files or
    encryption (kim.system.pdfcheck), or a Word document without macros, embedded objects or
    external content (check_word_file); anything else gets a German message and is not stored."""
    if len(content) > MAX_DOCUMENT_BYTES:
        raise ValidationError({"document": _("The document is larger than 5 MB.")})
    if not content.strip():
        raise ValidationError({"document": _("The file is empty.")})
    lowered = name.lower()
    if lowered.endswith(".pdf"):
        if not content.startswith(b"%PDF-"):
            raise ValidationError({"document": _("The file is not a PDF document.")})
        refusal = _pdf_refusal(content)
        if refusal:
            raise ValidationError({"document": refusal})
    elif lowered.endswith(".docx"):
        try:
            check_word_file(content)
        except ValidationError as exc:
            raise ValidationError({"document": exc.messages}) from None
    else:
        raise ValidationError({"document": _("Upload the agreement as PDF (.pdf) or Word document (.docx).")})


@transaction.atomic
def attach_document(actor, agreement, content: bytes, name: str):
    """Store (or replace) an agreement's document; the audit entry names the file, not its
    content."""
    _ensure(actor, "system.coordinate")
    check_document(content, name)
    agreement = type(agreement).objects.select_for_update().get(pk=agreement.pk)
    before = agreement.document_name
    agreement.document, agreement.document_name = content, name[-200:]
    agreement.save(update_fields=["document", "document_name"])
    audit.record(actor, audit.Action.UPDATE, agreement, changes={
        "document_name": [before or None, agreement.document_name], "document_bytes": [None, len(content)]})
    return agreement
