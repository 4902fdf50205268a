"""Completeness around a deadline: the coordination sets, corrects and withdraws deadlines,
the provider leads confirm their data and correct their note; earlier deadlines stay listed
with their confirmations."""

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kim.casework.reads import audit_read
from kim.core.access import permission_required
from kim.core.forms import DateInput, KernForm
from kim.core.views import form_errors_from, posted, render_form

from . import services
from .completeness import (
    completeness_table,
    confirmations,
    current_deadline,
    my_gaps,
    provider_share,
)
from .formatting import whole_percent
from .models import DataConfirmation, ReportingDeadline
from .renderers import cell_texts

report_view = permission_required("reports.read")
coordination_view = permission_required("reports.coordinate")
lead_view = permission_required("reports.confirm_data")


class DeadlineForm(KernForm):
    title = forms.CharField(label=gettext_lazy("Occasion"), max_length=160,
                            help_text=gettext_lazy("e.g. steering group 12/2026"))
    due_on = forms.DateField(label=gettext_lazy("Deadline"), widget=DateInput(),
                             help_text=gettext_lazy("By this day the providers complete and confirm their data."))
    year = forms.IntegerField(label=gettext_lazy("Year of the figures"), min_value=1990, max_value=2100,
                              help_text=gettext_lazy("A year that has ended."))


class ConfirmationForm(KernForm):
    note = forms.CharField(label=gettext_lazy("Note"), max_length=300, required=False,
                           widget=forms.Textarea(attrs={"rows": 2}))


@report_view
def completeness(request, confirm_form=None, status=200):
    """The current deadline: completeness, the providers' confirmations, the reader's own gaps."""
    user = request.user
    deadline = current_deadline()
    context = {"deadline": deadline}
    if deadline is not None:
        table = completeness_table(user, deadline)
        rows = confirmations(deadline, user)
        context.update({"table": table, "lines": cell_texts(table), "confirmations": rows})
        if user.is_provider_lead:
            own = next((c["confirmation"] for c in rows if c["provider"].pk == user.provider_id), None)
            share, cases = provider_share(user, deadline)
            context.update({
                "own_confirmation": own, "own_share": whole_percent(share) if share is not None else None,
                "own_cases": cases,
                "confirm_form": confirm_form or ConfirmationForm(initial={"note": own.note if own else ""}),
            })
    if confirm_form is not None:
        context["confirm_form"] = confirm_form  # its errors stand on top, also when no deadline is left
    if user.sees_personal_data:
        context["gaps"] = my_gaps(user, deadline)
        audit_read(user, [row["case"] for row in context["gaps"]])  # the cases are listed by number
    return render(request, "reports/completeness.html", context, status=status)


@report_view
def deadlines(request):
    """Every deadline, the current one first, with how many providers confirmed it."""
    rows = []
    for deadline in ReportingDeadline.objects.select_related("created_by"):
        confirmed = sum(1 for c in confirmations(deadline) if c["confirmation"])
        rows.append({"deadline": deadline, "confirmed": confirmed})
    current = current_deadline()
    return render(request, "reports/deadlines.html", {"rows": rows, "current": current})


@report_view
def deadline_detail(request, pk):
    deadline = get_object_or_404(ReportingDeadline.objects.all(), pk=pk)
    return render(request, "reports/deadline.html", {
        "deadline": deadline, "confirmations": confirmations(deadline, request.user),
        "is_current": current_deadline() == deadline,
    })


@coordination_view
def deadline_new(request):
    form = DeadlineForm(posted(request))
    previous = current_deadline()
    if request.method == "POST" and form.is_valid():
        try:
            deadline = services.create_deadline(request.user, **form.cleaned_data)
        except ValidationError as exc:
            form_errors_from(exc, form)
        else:
            if previous is not None:
                messages.success(request, _(
                    "The deadline “%(title)s” is now current. The earlier deadline “%(previous)s” keeps its "
                    "confirmations under “Deadlines”."
                ) % {"title": deadline.title, "previous": previous.title})
            return redirect("reports:completeness")
    return render_form(request, "reports/deadline_form.html", {
        "form": form, "title": _("Set a deadline"), "previous": previous,
        "previous_confirmed": previous and sum(1 for c in confirmations(previous) if c["confirmation"]),
    })


@coordination_view
def deadline_edit(request, pk):
    deadline = get_object_or_404(ReportingDeadline.objects.all(), pk=pk)
    initial = {"title": deadline.title, "due_on": deadline.due_on, "year": deadline.year}
    form = DeadlineForm(posted(request), initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_deadline(request.user, deadline, **form.cleaned_data)
            return redirect("reports:deadline", pk=deadline.pk)
        except ValidationError as exc:
            form_errors_from(exc, form)
    return render_form(request, "reports/deadline_form.html", {
        "form": form, "title": _("Change the deadline"), "deadline": deadline,
    })


@coordination_view
def deadline_withdraw(request, pk):
    deadline = get_object_or_404(ReportingDeadline.objects.all(), pk=pk)
    if request.method == "POST":
        try:
            services.withdraw_deadline(request.user, deadline)
        except ValidationError as exc:
            return render(request, "reports/message.html", {"message": " ".join(exc.messages)}, status=422)
        messages.success(request, _("The deadline “%(title)s” has been withdrawn; its confirmations are kept.")
                         % {"title": deadline.title})
        return redirect("reports:deadlines")
    return render(request, "reports/confirm_action.html", {
        "title": _("Withdraw the deadline"), "object": deadline,
        "question": _("Withdraw the deadline “%(title)s”? It is then no longer current; the providers' "
                      "confirmations stay in the list of deadlines.") % {"title": deadline.title},
        "button": _("Withdraw"), "back_url": reverse("reports:deadline", args=[deadline.pk]),
    })


@lead_view
def confirm(request, pk):
    """The lead confirms the provider's data; a wrong note or a stale page answers on the
    completeness page, with the note kept."""
    deadline = get_object_or_404(ReportingDeadline.objects.all(), pk=pk)
    if request.method != "POST":
        return redirect("reports:completeness")
    form = ConfirmationForm(request.POST)
    if form.is_valid():
        share, cases = provider_share(request.user, deadline)
        try:
            services.confirm_data(request.user, deadline, share, cases, note=form.cleaned_data["note"])
            return redirect("reports:completeness")
        except IntegrityError:  # a second click that raced the first
            form.add_error(None, _("The data of this provider has already been confirmed for this deadline."))
        except ValidationError as exc:
            form_errors_from(exc, form)
    return completeness(request, confirm_form=form, status=422)


@lead_view
def confirmation_note(request, pk):
    """The lead corrects the note of the provider's confirmation (audited with the old text)."""
    confirmation = get_object_or_404(DataConfirmation.objects.select_related("deadline"), pk=pk)
    if confirmation.provider_id != request.user.provider_id:
        raise Http404
    if request.method != "POST":
        return redirect("reports:completeness")
    form = ConfirmationForm(request.POST)
    if form.is_valid():
        try:
            services.correct_confirmation_note(request.user, confirmation, form.cleaned_data["note"])
            messages.success(request, _("The note has been corrected."))
            return redirect("reports:completeness")
        except ValidationError as exc:
            form_errors_from(exc, form)
    return completeness(request, confirm_form=form, status=422)
