"""Pages of case work. Every view is for case managers and provider leads only, and
fetches personal data through `visible_or_404` / `Model.objects.visible_to(user)`."""

from decimal import Decimal

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Case as DbCase
from django.db.models import Count, F, OuterRef, Prefetch, Q, Subquery, When, Window
from django.db.models.functions import Coalesce
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from kim.core.access import as_id, personal_data_view, visible_or_404
from kim.core.models import LifeDomain
from kim.core.views import form_errors_from, posted, render_form

from . import services
from .clock import title_warning, title_warnings
from .forms import (
    AppointmentForm,
    AssessmentForm,
    CaseFilterForm,
    CaseForm,
    CloseCaseForm,
    ConsentForm,
    DeputyForm,
    GoalForm,
    GoalStatusForm,
    NewParticipantForm,
    ParticipantForm,
    PlanActionForm,
    WithdrawConsentForm,
)
from .models import (
    Appointment,
    Assessment,
    AssessmentItem,
    Case,
    CaseKind,
    Consent,
    DeputyGrant,
    Goal,
    Household,
    Participant,
    Phase,
    PlanAction,
    reassessment_due_before,
    reassessment_due_on,
    stale_before,
)
from .reads import audit_read
from .search import participant_matches


def opened(request, shown):
    """Showing personal data (`shown`: the page's record, or the records of a list page)
    leaves a read entry (casework.reads decides what counts), whatever the request's method:
    a form re-shown after a POST, or a page asked for with OPTIONS or HEAD, shows the record
    as much as the GET does, and a POST need not follow a GET."""
    audit_read(request.user, shown)


def anonymised_trace(request, trace):
    """The page of a record that is a statistical trace now (kim.privacy.retention): it says so,
    shows nothing of it (not even its new code: a file could name it again) and offers no form."""
    return render(request, "privacy/anonymised.html", {"anonymised_on": trace.anonymised_on}, status=410)


def handle_form(request, form, on_valid, template, context, shown=None):
    """Render `form`; on a valid POST call `on_valid(cleaned_data)`, which returns the
    response (the service audits the change). A service's ValidationError is shown on the
    form: nothing was changed. `shown`: the record of personal data the page shows; showing
    it (the form, or the form again with its errors) is a read (see `opened`)."""
    if request.method == "POST" and form.is_valid():
        try:
            return on_valid(form.cleaned_data)
        except ValidationError as exc:
            form_errors_from(exc, form)
    if shown is not None:
        opened(request, shown)
    return render_form(request, template, {"form": form, **context})


def latest(model, date_field):
    """The latest `date_field` of a case's `model` records, as a subquery per case: unlike a Max
    over a join, it multiplies no rows (appointments × assessments of every case), and the
    database computes it for the rows of the page only, after sorting and the limit, where the
    order does not need it. The dates are never empty, so the first in order is the maximum.
    The base manager, as a join would: the case itself is chosen through visible_to."""
    return Subquery(model._base_manager.filter(case=OuterRef("pk")).order_by(f"-{date_field}")
                    .values(date_field)[:1])


def annotate_case_state(cases):
    return cases.annotate(
        last_appointment=latest(Appointment, "date"), last_assessment=latest(Assessment, "assessed_on"),
        # Open case-management cases by the date their re-assessment is due: the most overdue first.
        reassessment_order=DbCase(When(kind=CaseKind.CASE_MANAGEMENT, closed_on__isnull=True,
                                       then=F("last_assessment"))),
    )


BY_URGENCY = (F("reassessment_order").asc(nulls_last=True), "-opened_on", "-pk")


# ---------------------------------------------------------------- my cases

@personal_data_view
@require_safe  # a page that only shows: no other method renders it
def my_cases(request):
    user = request.user
    form = CaseFilterForm(request.GET or None)
    cases = annotate_case_state(
        # An anonymised case is a statistical trace, nobody's case any more (kim.privacy.retention).
        Case.objects.visible_to(user).filter(anonymised_on__isnull=True)
        .select_related("participant", "target_group", "municipality", "case_manager")
    )
    filters = form.cleaned_data if form.is_valid() else {}
    status = filters.get("status") or "open"
    if status != "all":
        cases = cases.filter(closed_on__isnull=status != "closed")
    if status == "stale":
        cases = cases.filter(
            Q(last_appointment__lt=stale_before()) | Q(last_appointment__isnull=True, opened_on__lt=stale_before())
        )
    if status == "reassessment":
        cases = cases.filter(kind=CaseKind.CASE_MANAGEMENT, last_assessment__lt=reassessment_due_before())
    if filters.get("kind"):
        cases = cases.filter(kind=filters["kind"])
    query = (filters.get("q") or "").strip()
    if query:
        match = participant_matches(query, "participant__") or Q(pk__in=[])
        number = as_id(query.upper().removeprefix("F-"))
        if number is not None:  # a case number such as F-00042
            match |= Q(pk=number)
        cases = cases.filter(match)
    page = Paginator(cases.order_by(*BY_URGENCY), 50).get_page(request.GET.get("page"))
    warnings = title_warnings(Case.objects.visible_to(user))
    shown = {case.pk for case in page.object_list}
    # One read entry for the page: the cases listed and those named in a warning.
    opened(request, [*page.object_list, *(w.case for w in warnings if w.case.pk not in shown)])
    for case in page.object_list:
        case.reassessment_due = reassessment_due_on(case.last_assessment) if case.is_case_management else None
    from kim.reports.completeness import (  # reports build on case work
        current_deadline,
        gap_cases,
        gaps_params,
    )

    return render(request, "casework/my_cases.html", {
        "form": form, "page": page, "caseload": caseload(user), "time_split": time_split(user), "gap_count": gap_cases(user, gaps_params(current_deadline())).count(),
        "stale_before": stale_before(), "today": timezone.localdate(),
        "title_warnings": warnings,
    })


def caseload(user):
    """Open case-management cases of the user against the planning key per FTE."""
    open_cm = Case.objects.visible_to(user).filter(
        case_manager=user, kind=CaseKind.CASE_MANAGEMENT, closed_on__isnull=True
    )
    cutoff = stale_before()
    counts = open_cm.annotate(last=latest(Appointment, "date")).aggregate(
        total=Count("pk"), stale=Count("pk", filter=Q(last__lt=cutoff) | Q(last__isnull=True, opened_on__lt=cutoff)),
    )
    from kim.staffing.figures import person_fte_by_town_on  # staffing builds on case work
    from kim.staffing.models import CASELOAD_FUNCTIONS

    key = user.district.caseload_key
    fte = sum(person_fte_by_town_on(timezone.localdate(), CASELOAD_FUNCTIONS, person=user).values(), Decimal(0))
    capacity = (Decimal(key) * fte).quantize(Decimal("1")) if fte else Decimal(0)
    share = round(100 * counts["total"] / capacity) if capacity else None
    return {"open": counts["total"], "stale": counts["stale"], "key": key, "fte": fte, "capacity": capacity, "share": share}


def time_split(user):
    """The user's own hours of counselling against other work this year so far (target 60/40)."""
    from kim.staffing.reports import own_time_split

    today = timezone.localdate()
    return own_time_split(user, today.replace(month=1, day=1), today)


# ---------------------------------------------------------------- participants

@personal_data_view
@require_safe  # a page that only shows: no other method renders it
def participants(request):
    # An anonymised record is a statistical trace, nobody's participant any more.
    people = (Participant.objects.visible_to(request.user).filter(anonymised_on__isnull=True)
              .select_related("municipality", "household"))
    query = request.GET.get("q", "").strip()
    match = participant_matches(query)
    if match is not None:
        people = people.filter(match)
    # Count only cases the user may see: a participant can also have a colleague's case.
    visible_open = (Case.objects.visible_to(request.user).open().filter(participant=OuterRef("pk"))
                    .order_by().values("participant").annotate(n=Count("pk")).values("n"))
    people = people.annotate(open_cases=Coalesce(Subquery(visible_open), 0))
    page = Paginator(people.order_by("sort_name", "pk"), 50).get_page(request.GET.get("page"))
    opened(request, page.object_list)
    return render(request, "casework/participants.html", {"page": page, "q": query})


PARTICIPANT_FIELDS = ParticipantForm.Meta.fields


def _household_for(user, data):
    name = data.get("new_household", "").strip()
    if name:
        return services.create_household(user, name)
    return data.get("household")


@transaction.atomic  # a new household and the person: both or neither
def create_participant_from_form(user, data):
    """What a valid NewParticipantForm creates (the page and the API): the participant, a new
    household if named, and the consent if dated. Refuses a likely duplicate unless confirmed."""
    duplicates = services.find_possible_duplicates(user, data["first_name"], data["last_name"], data["birth_date"])
    if duplicates and not data["confirm_duplicate"]:
        raise ValidationError({"confirm_duplicate": _(
            "A participant with the same name and date of birth already exists at your provider. "
            "Check the participant list, or confirm that this is a different person."
        )})
    values = {f: data[f] for f in PARTICIPANT_FIELDS}
    values["household"] = _household_for(user, data)
    consent = None
    if data["consent_given_on"]:
        consent = {"given_on": data["consent_given_on"], "covers_processing": True,
                   "released_to": data["consent_released_to"]}
    return services.create_participant(user, values, consent)


@transaction.atomic
def update_participant_from_form(user, participant, data):
    values = {f: data[f] for f in PARTICIPANT_FIELDS}
    values["household"] = _household_for(user, data)
    return services.update_participant(user, participant, values)


@personal_data_view
@require_http_methods(["GET", "POST"])
def participant_new(request):
    user = request.user
    form = NewParticipantForm(posted(request), user=user)

    def save(data):
        participant = create_participant_from_form(user, data)
        messages.success(request, _("Participant %(code)s has been created.") % {"code": participant.code})
        return redirect("casework:participant", pk=participant.pk)

    # The page names the households (families) the new person may join.
    return handle_form(request, form, save, "casework/participant_form.html",
                       {"title": _("New participant")}, shown=form.fields["household"].queryset)


@personal_data_view
@require_safe  # a page that only shows: no other method renders it
def participant_detail(request, pk):
    participant = visible_or_404(Participant, request.user, pk=pk)
    if participant.anonymised_on:
        return anonymised_trace(request, participant)
    opened(request, participant)
    return render(request, "casework/participant_detail.html", participant_context(request, participant))


def participant_context(request, participant, restriction_form=None):
    """What the participant's page shows; the restriction form (for the provider lead) with
    its errors when a restriction was refused."""
    from kim.privacy.forms import RestrictionForm
    from kim.privacy.models import Erasure
    from kim.privacy.restriction import may_restrict

    may_decide = may_restrict(request.user, participant)
    return {
        "participant": participant,
        "consents": participant.consents.prefetch_related("released_to"),
        "active_consent": participant.active_consent(),
        "cases": Case.objects.visible_to(request.user).filter(participant=participant)
        .select_related("target_group", "case_manager"),
        # Only members the user may see: a household can span colleagues' caseloads.
        "household_members": Participant.objects.visible_to(request.user)
        .filter(household_id=participant.household_id).exclude(pk=participant.pk)
        if participant.household_id else [],
        "may_restrict": may_decide,
        "erasure": Erasure.objects.pending_for(participant),  # shown to everyone who sees the record
        "restriction_form": (restriction_form or RestrictionForm(prefix="restriction")) if may_decide else None,
    }


@personal_data_view
@require_http_methods(["GET", "POST"])
def participant_edit(request, pk):
    user = request.user
    participant = visible_or_404(Participant, user, pk=pk)
    if participant.anonymised_on:
        return anonymised_trace(request, participant)
    form = ParticipantForm(posted(request), instance=participant, user=user)

    def save(data):
        update_participant_from_form(user, Participant.objects.visible_to(user).get(pk=pk), data)
        messages.success(request, _("The participant's data has been saved."))
        return redirect("casework:participant", pk=pk)

    return handle_form(request, form, save, "casework/participant_form.html",
                       {"title": _("Edit participant"), "participant": participant}, shown=participant)


@personal_data_view
@require_http_methods(["GET", "POST"])
def consent_new(request, pk):
    participant = visible_or_404(Participant, request.user, pk=pk)

    def save(data):
        services.add_consent(request.user, participant, data)
        messages.success(request, _("The consent has been recorded."))
        return redirect("casework:participant", pk=pk)

    return handle_form(request, ConsentForm(posted(request)), save, "casework/form.html", {
        "title": _("Record consent"), "participant": participant,
        "back_url": reverse("casework:participant", args=[pk]),
    }, shown=participant)


@personal_data_view
@require_http_methods(["GET", "POST"])
def consent_withdraw(request, pk):
    consent = visible_or_404(Consent, request.user, pk=pk)
    participant = consent.participant

    def save(data):
        services.withdraw_consent(request.user, consent, data["withdrawn_on"])
        messages.warning(request, _(
            "The withdrawal has been recorded. Nothing more can be recorded in case management "
            "without a new consent; close the open cases."
        ))
        return redirect("casework:participant", pk=participant.pk)

    form = WithdrawConsentForm(posted(request), initial={"withdrawn_on": timezone.localdate()})
    return handle_form(request, form, save, "casework/form.html", {
        "title": _("Record withdrawal of consent"), "participant": participant,
        "back_url": reverse("casework:participant", args=[participant.pk]),
    }, shown=consent)


# ---------------------------------------------------------------- cases

def case_values(data, with_kind=True):
    """What a valid CaseForm passes to the service (the page and the API): the kind only
    when a case is opened, and whether the user confirmed a doubted target group."""
    fields = [f for f in CaseForm.Meta.fields if with_kind or f != "kind"]
    return {**{f: data[f] for f in fields}, "confirm_target_group": data.get("confirm_target_group", False)}


@personal_data_view
@require_http_methods(["GET", "POST"])
def case_new(request, pk):
    user = request.user
    participant = visible_or_404(Participant, user, pk=pk)
    initial = {"municipality": participant.municipality_id, "kind": request.GET.get("kind", CaseKind.CASE_MANAGEMENT)}
    form = CaseForm(posted(request), user=user, initial=initial)

    def save(data):
        case = services.open_case(user, participant, case_values(data))
        messages.success(request, _("Case %(number)s has been opened.") % {"number": case.number})
        return redirect("casework:case", pk=case.pk)

    return handle_form(request, form, save, "casework/form.html", {
        "title": _("Open a case"), "participant": participant,
        "back_url": reverse("casework:participant", args=[pk]),
    }, shown=participant)


@personal_data_view
@require_http_methods(["GET", "POST"])
def case_edit(request, pk):
    user = request.user
    case = visible_or_404(Case, user, pk=pk)
    if case.anonymised_on:
        return anonymised_trace(request, case)
    form = CaseForm(posted(request), instance=case, user=user)

    def save(data):
        services.update_case(user, Case.objects.visible_to(user).get(pk=pk), case_values(data, with_kind=False))
        messages.success(request, _("The case has been saved."))
        return redirect("casework:case", pk=pk)

    return handle_form(request, form, save, "casework/form.html", {
        "title": _("Edit case %(number)s") % {"number": case.number}, "participant": case.participant,
        "back_url": reverse("casework:case", args=[pk]),
    }, shown=case)


# What the case page shows of the case's own links: fetched with the case, not one query each.
CASE_PAGE_RELATED = ("participant", "provider", "case_manager", "municipality", "target_group", "referral_source",
                     "closure_reason", "screening_outcome", "transfer_in__sender")
APPOINTMENTS_SHOWN = 20


def latest_appointments(case) -> dict:
    """The case's latest appointments for its page, and the number of all of them, which comes
    with the rows (a window over the case's appointments) instead of a query of its own."""
    appointments = list(case.appointments.prefetch_related("topics", "language_support")
                        .annotate(of_case=Window(Count("pk")))[:APPOINTMENTS_SHOWN])
    return {"appointments": appointments, "appointment_count": appointments[0].of_case if appointments else 0}


def case_context(case):
    items = Prefetch("items", queryset=AssessmentItem.objects.select_related("life_domain"))
    assessments = list(case.assessments.prefetch_related(items))
    return {
        "case": case,
        "participant": case.participant,
        "consent": case.participant.active_consent() if case.participant else None,
        "goals": case.goals.select_related("category"),
        "actions": case.actions.select_related("goal"),
        "assessments": assessments,
        **latest_appointments(case),
        "referrals": case.referrals.select_related("target"),
        "appointment_form": AppointmentForm(with_case=True, prefix="appt"),
        "phases": [p for p in Phase if p != Phase.CLOSED],
        "next_phases": services.NEXT_PHASES.get(case.phase, set()) if case.is_open else set(),
        "title_warning": title_warning(case),
    }


@personal_data_view
@require_safe  # a page that only shows: no other method renders it
def case_detail(request, pk):
    case = visible_or_404(Case, request.user, related=CASE_PAGE_RELATED, pk=pk)
    if case.anonymised_on:
        return anonymised_trace(request, case)  # its address is the old case number
    opened(request, case)
    return render(request, "casework/case_detail.html", case_context(case))


@personal_data_view
@require_POST
def case_advance(request, pk):
    case = visible_or_404(Case, request.user, pk=pk)
    try:
        services.advance_phase(request.user, case, request.POST.get("phase", ""))
    except (ValidationError, ValueError) as exc:
        messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
    else:
        messages.success(request, _("The case is now in the phase “%(phase)s”.") % {"phase": case.get_phase_display()})
    return redirect("casework:case", pk=pk)


@personal_data_view
@require_http_methods(["GET", "POST"])
def case_close(request, pk):
    case = visible_or_404(Case, request.user, pk=pk)

    def save(data):
        services.close_case(request.user, case, data["closed_on"], data["closure_reason"],
                            data.get("open_goals_status", ""))
        messages.success(request, _("The case has been closed."))
        return redirect("casework:case", pk=pk)

    return handle_form(request, CloseCaseForm(posted(request), case=case), save, "casework/form.html", {
        "title": _("Close case %(number)s") % {"number": case.number}, "participant": case.participant,
        "back_url": reverse("casework:case", args=[pk]),
    }, shown=case)


@personal_data_view
@require_http_methods(["GET", "POST"])
def assessment_new(request, pk):
    case = visible_or_404(Case, request.user, pk=pk)
    previous = case.assessments.prefetch_related("items").first()
    previous_items = {item.life_domain_id: item for item in previous.items.all()} if previous else {}
    form = AssessmentForm(posted(request), domains=LifeDomain.objects.filter(active=True),
                          previous_items=previous_items)

    def save(data):
        services.record_assessment(request.user, case, data["assessed_on"], data["summary"], form.items())
        messages.success(request, _("The assessment has been saved. Next: agree the goals."))
        return redirect("casework:case", pk=pk)

    title = _("Re-assessment") if case.phase == Phase.REASSESSMENT else _("Assessment")
    return handle_form(request, form, save, "casework/assessment_form.html", {
        "title": title, "case": case, "participant": case.participant, "previous": previous,
        "previous_items": previous_items,
    }, shown=case)


@personal_data_view
@require_safe  # a page that only shows: no other method renders it
def assessment_detail(request, pk):
    assessment = visible_or_404(Assessment, request.user, pk=pk)
    items = list(assessment.items.select_related("life_domain"))
    previous = {i.life_domain_id: i for i in assessment.previous.items.all()} if assessment.previous else {}
    rows = [(item, previous.get(item.life_domain_id)) for item in items]
    opened(request, assessment)
    return render(request, "casework/assessment_detail.html", {
        "assessment": assessment, "case": assessment.case, "rows": rows, "participant": assessment.case.participant,
    })


@personal_data_view
@require_http_methods(["GET", "POST"])
def goal_new(request, pk):
    case = visible_or_404(Case, request.user, pk=pk)

    def save(data):
        services.add_goal(request.user, case, dict(data))
        messages.success(request, _("The goal has been added."))
        if "again" in request.POST:
            return redirect("casework:goal-new", pk=pk)
        return redirect("casework:case", pk=pk)

    return handle_form(request, GoalForm(posted(request)), save, "casework/form.html", {
        "title": _("Agree a goal"), "participant": case.participant, "again_label": _("Save and add another goal"),
        "back_url": reverse("casework:case", args=[pk]),
    }, shown=case)


@personal_data_view
@require_http_methods(["GET", "POST"])
def goal_status(request, pk):
    goal = visible_or_404(Goal, request.user, pk=pk)
    form = GoalStatusForm(posted(request), initial={"status": goal.status})

    def save(data):
        services.set_goal_status(request.user, goal, data["status"], data["status_changed_on"])
        messages.success(request, _("The status of the goal has been saved."))
        return redirect("casework:case", pk=goal.case_id)

    return handle_form(request, form, save, "casework/form.html", {
        "title": _("Status of the goal"), "subtitle": goal.text, "participant": goal.case.participant,
        "back_url": reverse("casework:case", args=[goal.case_id]),
    }, shown=goal)


@personal_data_view
@require_http_methods(["GET", "POST"])
def action_new(request, pk):
    case = visible_or_404(Case, request.user, pk=pk)

    def save(data):
        services.add_plan_action(request.user, case, dict(data))
        messages.success(request, _("The step has been added to the plan."))
        return redirect("casework:case", pk=pk)

    return handle_form(request, PlanActionForm(posted(request), case=case), save, "casework/form.html", {
        "title": _("Add a step to the support plan"), "participant": case.participant,
        "back_url": reverse("casework:case", args=[pk]),
    }, shown=case)


@personal_data_view
@require_POST
def action_done(request, pk):
    action = visible_or_404(PlanAction, request.user, pk=pk)
    try:
        services.mark_plan_action_done(request.user, action, timezone.localdate())
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("casework:case", pk=action.case_id)


# ---------------------------------------------------------------- appointments

def appointment_values(data):
    return {f: data[f] for f in AppointmentForm.Meta.fields if f in data}


@personal_data_view
@require_POST
def case_appointment_new(request, pk):
    """Quick entry from the case page: with htmx only the appointment panel is replaced."""
    case = visible_or_404(Case, request.user, pk=pk)
    form = AppointmentForm(request.POST, with_case=True, prefix="appt")
    saved = False
    if form.is_valid():
        try:
            services.record_appointment(request.user, appointment_values(form.cleaned_data), case=case)
        except ValidationError as exc:
            form_errors_from(exc, form)
        else:
            saved = True
            form = AppointmentForm(with_case=True, prefix="appt")
    if not request.htmx:
        if saved:
            messages.success(request, _("The appointment has been recorded."))
            return redirect("casework:case", pk=pk)
        context = case_context(case)
        context["appointment_form"] = form
        opened(request, case)
        return render(request, "casework/case_detail.html", context, status=422)
    context = {
        "case": case, "appointment_form": form, "saved": saved, **latest_appointments(case),
    }
    opened(request, case)  # the panel lists the case's appointments
    return render(request, "casework/_appointments.html", context, status=200 if saved or not form.errors else 422)


@personal_data_view
@require_safe  # a page that only shows: no other method renders it
def appointments(request):
    user = request.user
    items = (Appointment.objects.visible_to(user).exclude(case__anonymised_on__isnull=False)
             .select_related("case", "case__participant").prefetch_related("topics"))
    kind = request.GET.get("kind")
    if kind in Appointment.Kind.values:
        items = items.filter(kind=kind)
    page = Paginator(items, 50).get_page(request.GET.get("page"))
    opened(request, page.object_list)
    return render(request, "casework/appointments.html", {"page": page, "kind": kind})


@personal_data_view
@require_http_methods(["GET", "POST"])
def appointment_new(request):
    """Other work without a case: network meetings, working groups, case reconstructions..."""

    def save(data):
        services.record_appointment(request.user, appointment_values(data))
        messages.success(request, _("The appointment has been recorded."))
        return redirect("casework:appointments")

    return handle_form(request, AppointmentForm(posted(request), with_case=False), save,
                       "casework/form.html", {"title": _("Record other work"),
                                              "back_url": reverse("casework:appointments")})


@personal_data_view
@require_http_methods(["GET", "POST"])
def appointment_edit(request, pk):
    appointment = visible_or_404(Appointment, request.user, pk=pk)
    if appointment.case_id and appointment.case.anonymised_on:
        return anonymised_trace(request, appointment.case)
    form = AppointmentForm(posted(request), instance=appointment, with_case=appointment.case_id is not None)
    back = reverse("casework:case", args=[appointment.case_id]) if appointment.case_id else reverse("casework:appointments")

    def save(data):
        services.update_appointment(request.user, appointment, appointment_values(data))
        messages.success(request, _("The appointment has been saved."))
        return redirect(back)

    return handle_form(request, form, save, "casework/form.html", {
        "title": _("Edit appointment"), "back_url": back,
        "participant": appointment.case.participant if appointment.case_id else None,
    }, shown=appointment)


# ---------------------------------------------------------------- deputyship

@personal_data_view
@require_http_methods(["GET", "POST"])
def deputies(request):
    user = request.user
    form = DeputyForm(posted(request), user=user)

    def save(data):
        services.grant_deputyship(user, user, data["deputy"], data["valid_until"])
        messages.success(request, _("The deputyship has been granted."))
        return redirect("casework:deputies")

    return handle_form(request, form, save, "casework/deputies.html", {
        "grants": DeputyGrant.objects.visible_to(user).select_related("grantor", "deputy"),
    })


@personal_data_view
@require_POST
def deputy_revoke(request, pk):
    grant = visible_or_404(DeputyGrant, request.user, pk=pk)
    services.revoke_deputyship(request.user, grant)
    messages.success(request, _("The deputyship has been revoked."))
    return redirect("casework:deputies")


@personal_data_view
@require_safe  # a page that only shows: no other method renders it
def household_detail(request, pk):
    household = visible_or_404(Household, request.user, pk=pk)
    members = Participant.objects.visible_to(request.user).filter(household=household)
    opened(request, household)
    return render(request, "casework/household.html", {"household": household, "members": members})

