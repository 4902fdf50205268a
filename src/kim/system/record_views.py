"""Pages of the records coordination keeps (kim.system.records): a list, a page, a form each;
items of a meeting or group are added from its page."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models as db
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import formats
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from kim.core.access import permission_required
from kim.core.views import form_errors_from, posted, render_form

from . import directory, indicators, models, services
from .records import BY_MODEL, BY_SLUG, form_class

# The page answers what the reader's role allows (records.Kind.read, groups by membership).
reading_view = permission_required("system.read_directory")
coordination_view = permission_required("system.coordinate")
MEMBERSHIP_SCOPED = (models.WorkingGroup, models.Measure)


def kind_of(slug, with_list=True):
    kind = BY_SLUG.get(slug)
    if kind is None or (with_list and kind.parent):
        raise Http404
    return kind


def readable(user, kind):
    """The records of this kind the user may read (403 where the role reads none)."""
    model = kind.model
    if model in MEMBERSHIP_SCOPED:
        return model.objects.visible_to(user)
    if model is models.GroupMeeting:
        return model.objects.filter(group__in=models.WorkingGroup.objects.visible_to(user))
    if not user.has_perm(kind.read):
        raise PermissionDenied
    return model.objects.all()


def display(record, name, user=None) -> str:
    """A field's value as a page shows it: choices by label, dates in German, lists joined."""
    field = record._meta.get_field(name)
    if field.many_to_many:
        return ", ".join(str(item) for item in getattr(record, name).all()) or "–"
    if name == "indicator":
        return indicators.indicator_label(user, record.indicator) if record.indicator else "–"
    value = getattr(record, name)
    if field.choices:
        return getattr(record, f"get_{name}_display")()
    if isinstance(field, db.BooleanField):
        return _("yes") if value else _("no")
    if value in (None, ""):
        return "–"
    if isinstance(field, (db.DateField, db.DecimalField)):
        return formats.localize(value)
    return str(value)


def described(user, record, names):
    return [(record._meta.get_field(name).verbose_name, display(record, name, user)) for name in names]


@reading_view
@require_safe
def record_list(request, slug):
    kind = kind_of(slug)
    items = readable(request.user, kind)
    extra = {}
    if kind.model is models.Service:
        items, extra = directory.search(items, request.GET), {"search": directory.search_form_context(request.GET)}
    many = [n for n in kind.columns if kind.model._meta.get_field(n).many_to_many]
    items = items.prefetch_related(*many).select_related(
        *[n for n in kind.columns if kind.model._meta.get_field(n).many_to_one])
    rows = [(item, [display(item, name) for name in kind.columns]) for item in items]
    headings = [kind.model._meta.get_field(name).verbose_name for name in kind.columns]
    return render(request, "system/records.html", {"kind": kind, "rows": rows, "headings": headings, **extra})


@reading_view
@require_safe
def record_detail(request, slug, pk):
    kind = kind_of(slug)
    record = get_object_or_404(readable(request.user, kind), pk=pk)
    context = {"kind": kind, "record": record, "fields": described(request.user, record, kind.fields)}
    context.update(DETAILS.get(kind.model, lambda user, record: {})(request.user, record))
    return render(request, kind.template, context)


def _meeting_details(user, meeting):
    return {"agenda": meeting.agenda.select_related("theme"),
            "decisions": meeting.decisions.select_related("theme").prefetch_related("groups", "measures", "agreements"),
            "item_kinds": [BY_SLUG["tagesordnung"], BY_SLUG["beschluesse"]]}


def _group_details(user, group):
    return {"meetings": group.meetings.all(), "measures": models.Measure.objects.visible_to(user).filter(group=group),
            "item_kinds": [BY_SLUG["gruppentreffen"]]}


def _measure_details(user, measure):
    return {"readings": indicators.before_and_after(user, measure)}


def _service_details(user, service):
    return {"hours_for_integreat": directory.weekly_hours(service.opening_hours) is not None}


DETAILS = {models.Service: _service_details, models.Meeting: _meeting_details, models.WorkingGroup: _group_details, models.Measure: _measure_details}


def _save(request, kind, record, form, parent):
    data = {name: value for name, value in form.cleaned_data.items() if name != "upload"}
    upload = form.cleaned_data.get("upload")
    if upload is not None:
        # Checked before anything is stored: a refused file leaves the agreement as it was.
        services.check_document(upload.read(), upload.name)
        upload.seek(0)
    saved = services.save_record(request.user, kind.model, data, record, **parent)
    if upload is not None:
        services.attach_document(request.user, saved, upload.read(), upload.name)
    return saved


@coordination_view
@require_http_methods(["GET", "POST"])
def record_edit(request, slug, pk=None, parent_pk=None):
    """New record (of a list, or an item of a meeting or group) or a change of one."""
    kind = kind_of(slug, with_list=False)
    record = get_object_or_404(kind.model.objects.all(), pk=pk) if pk else None
    parent = {}
    if kind.parent:
        parent_model = models.Meeting if kind.parent == "meeting" else models.WorkingGroup
        owner = getattr(record, kind.parent) if record else get_object_or_404(parent_model.objects.all(), pk=parent_pk or 0)
        parent = {} if record else {kind.parent: owner}
        back = owner_url(owner)
    elif record is None and parent_pk is not None:
        raise Http404
    else:
        back = reverse("system:record", args=[kind.slug, record.pk]) if record else reverse("system:records", args=[kind.slug])
    form = form_class(kind)(posted(request), request.FILES or None, instance=record, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            saved = _save(request, kind, record, form, parent)
        except ValidationError as exc:
            form_errors_from(exc, form)
        else:
            messages.success(request, _("Saved."))
            return redirect(owner_url(getattr(saved, kind.parent)) if kind.parent else
                            reverse("system:record", args=[kind.slug, saved.pk]))
    title = _("Change: %(record)s") % {"record": kind.model._meta.verbose_name} if record else kind.new_label
    return render_form(request, "casework/form.html", {"form": form, "title": title, "back_url": back})


def owner_url(owner):
    return reverse("system:record", args=[BY_MODEL[type(owner)].slug, owner.pk])


@coordination_view
@require_POST
def record_delete(request, slug, pk):
    kind = kind_of(slug, with_list=False)
    if not kind.parent:
        raise Http404
    record = get_object_or_404(kind.model.objects.all(), pk=pk)
    owner = getattr(record, kind.parent)
    services.delete_record(request.user, record)
    messages.success(request, _("Removed."))
    return redirect(owner_url(owner))


@permission_required("system.read")
@require_safe
def agreement_document(request, pk):
    agreement = get_object_or_404(models.Agreement.objects.exclude(document=None), pk=pk)
    kind = "application/pdf" if agreement.document_name.lower().endswith(".pdf") else (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document")
    response = HttpResponse(bytes(agreement.document), content_type=kind)
    response["Content-Disposition"] = f'attachment; filename="{_ascii(agreement.document_name)}"'
    return response


def _ascii(name):
    return "".join(c if c.isascii() and (c.isalnum() or c in "._- ") else "_" for c in name) or "dokument"
