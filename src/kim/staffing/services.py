"""Changes of staffing and funding: one transaction and one audit entry each. Coordination
keeps the positions, their fillings and vacancies, and the district's own rates."""

from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import formats
from django.utils.translation import gettext as _

from kim.core.models import Provider, Role, User
from kim.core.services import create_object, delete_object, refuse_implausible_dates, update_object

from .models import CASELOAD_FUNCTIONS, Filling, Module, Position, Rate, Vacancy

MANAGE = "staffing.manage"
# Who can hold a post with an account: the district's staff who work in KIM, each in its module.
HOLDER_ROLES = (Role.CASE_MANAGER, Role.PROVIDER_LEAD, Role.COORDINATION, Role.MODULE3)
HOLDERS_OF_MODULE = {Module.STRATEGIC: {Role.COORDINATION}, Module.CASE_MANAGEMENT: {Role.CASE_MANAGER, Role.PROVIDER_LEAD},
                     Module.OFFICES: {Role.MODULE3}}


def _ensure(actor):
    if not actor.has_perm(MANAGE):
        raise PermissionDenied


def holder_candidates(district_id):
    return User.objects.filter(district_id=district_id, role__in=HOLDER_ROLES, is_active=True)


def _own(actor, values, *names):
    """Refuse a town or provider of another district (forms list the district's own)."""
    for name in names:
        value = values.get(name)
        if value is not None and value.district_id != actor.district_id:
            raise ValidationError({name: _("Choose one of the district's own.")})


@transaction.atomic
def save_position(actor, values: dict, position: Position | None = None) -> Position:
    _ensure(actor)
    refuse_implausible_dates(values)
    _own(actor, values, "municipality", "employer", "passed_on_to")
    if position is None:
        return create_object(actor, Position, district=actor.district, **values)
    position = Position.objects.select_for_update().get(pk=position.pk)
    saved = update_object(actor, position, values)
    _check_parts(saved, None)  # a smaller approval must still hold what fills it
    for filling in saved.fillings.exclude(person=None).select_related("person", "person__provider"):
        # Another function or employer must still suit the people who fill the post.
        _check_holder(actor, saved, {"person": filling.person, "fte": filling.fte, "starts_on": filling.starts_on,
                                     "ends_on": filling.ends_on}, filling)
    return saved


def _overlapping(queryset, start, end):
    """Records of `queryset` that run on some day of [start, end] (end None: open)."""
    queryset = queryset.filter(Q(ends_on__isnull=True) | Q(ends_on__gte=start))
    return queryset.filter(starts_on__lte=end) if end else queryset


def _check_parts(position: Position, changed):
    """Filled plus not yet filled never exceeds what is approved, on any day; every part lies
    within the approval. `changed`: the filling or vacancy being saved (not yet stored)."""
    fillings = list(Filling.objects.filter(position=position).exclude(pk=getattr(changed, "pk", None)
                                                                      if isinstance(changed, Filling) else None))
    vacancies = list(Vacancy.objects.filter(position=position).exclude(pk=getattr(changed, "pk", None)
                                                                       if isinstance(changed, Vacancy) else None))
    parts = fillings + vacancies + ([changed] if changed is not None else [])
    for part in parts:
        if part.starts_on < position.approved_from or (
                position.approved_until and (part.ends_on is None or part.ends_on > position.approved_until)):
            raise ValidationError({"starts_on": _(
                "The position is approved from %(start)s%(until)s: fillings and vacancies lie within that time.") % {
                "start": formats.date_format(position.approved_from, "d.m.Y"),
                "until": (" " + _("until %(date)s") % {"date": formats.date_format(position.approved_until, "d.m.Y")}
                          if position.approved_until else "")}})
    # The sum only changes where a part begins: checking those days checks every day.
    for day in {part.starts_on for part in parts}:
        total = sum((p.fte for p in parts if p.starts_on <= day and (p.ends_on is None or p.ends_on >= day)), Decimal(0))
        if total > position.fte_approved:
            raise ValidationError({"fte": _(
                "On %(date)s the position would be filled or advertised with %(total)s FTE, more than the "
                "%(approved)s FTE approved.") % {"date": formats.date_format(day, "d.m.Y"),
                                                 "total": formats.localize(total),
                                                 "approved": formats.localize(position.fte_approved)}})


FULL_TIME = Decimal("1.00")


def _check_holder(actor, position, values, filling=None):
    person = values.get("person")
    if person is None:
        return
    if not holder_candidates(actor.district_id).filter(pk=person.pk).exists():
        raise ValidationError({"person": _("Choose a member of the district's staff.")})
    if position.function in CASELOAD_FUNCTIONS and person.role != Role.CASE_MANAGER:
        raise ValidationError({"person": _("A case-management position is filled by a case manager.")})
    if person.role not in HOLDERS_OF_MODULE[position.module]:
        raise ValidationError({"person": _("The person's role does not belong to this module: %(module)s.") % {
            "module": Module(position.module).label}})
    # A post without an employer is the district administration's: its holder works there too.
    employer_ok = (person.provider_id == position.employer_id if position.employer_id
                   else person.provider is None or person.provider.kind == Provider.Kind.DISTRICT)
    if person.provider_id and not employer_ok:
        raise ValidationError({"person": _("The person works for another employer than this position's.")})
    _check_full_time(person, values, filling)


def _check_full_time(person, values, filling):
    """One person fills at most one full position on any day, across all posts (R10 divides
    the person's cases by it)."""
    User.objects.select_for_update().filter(pk=person.pk).exists()  # two fillings of one person: one after the other
    start, end = values["starts_on"], values.get("ends_on")
    others = _overlapping(Filling.objects.filter(person=person).exclude(pk=getattr(filling, "pk", None)), start, end)
    parts = [(f.starts_on, f.ends_on, f.fte) for f in others] + [(start, end, values["fte"])]
    for day in {part[0] for part in parts} | {start}:
        if day < start or (end and day > end):
            continue
        total = sum((fte for s, e, fte in parts if s <= day and (e is None or e >= day)), Decimal(0))
        if total > FULL_TIME:
            raise ValidationError({"fte": _(
                "On %(date)s %(name)s would fill %(total)s FTE in all, more than one full position.") % {
                "date": formats.date_format(day, "d.m.Y"), "name": person.get_full_name() or person.username,
                "total": formats.localize(total)}})


def save_filling(actor, position: Position, values: dict, filling: Filling | None = None) -> Filling:
    return _save_part(actor, Filling, position, values, filling)


def save_vacancy(actor, position: Position, values: dict, vacancy: Vacancy | None = None) -> Vacancy:
    return _save_part(actor, Vacancy, position, values, vacancy)


@transaction.atomic
def _save_part(actor, model, position, values, part):
    """A filling or vacancy of `position`, new (part None) or changed, within its approval."""
    _ensure(actor)
    refuse_implausible_dates(values)
    position = Position.objects.select_for_update().get(pk=position.pk)  # one change of a post at a time
    if model is Filling:
        _check_holder(actor, position, values, part)
        if values.get("person") is not None:
            values["holder"] = ""
    _check_parts(position, model(pk=part.pk if part else None, position=position, **values))
    if part is None:
        return create_object(actor, model, district=actor.district, position=position, **values)
    return update_object(actor, model.objects.get(pk=part.pk, position=position), values)


@transaction.atomic
def delete_part(actor, part):
    """Remove a filling or vacancy entered by mistake (a filling that ended gets an end date
    instead); the audit entry keeps what it said."""
    _ensure(actor)
    if not isinstance(part, (Filling, Vacancy)):
        raise PermissionDenied
    delete_object(actor, type(part).objects.select_for_update().get(pk=part.pk))


@transaction.atomic
def save_rate(actor, values: dict, rate: Rate | None = None) -> Rate:
    """The district's own rate for a year (from its notice of grant); the statewide defaults
    are not changed here."""
    _ensure(actor)
    if rate is not None and rate.district_id != actor.district_id:
        raise PermissionDenied
    if rate is None:
        duplicate = Rate.objects.filter(district=actor.district, year=values.get("year"), expense=values.get("expense"),
                                        function=values.get("function", ""))
        if duplicate.exists():
            raise ValidationError({"year": _("There is already a rate of the district for this year and expense.")})
        return create_object(actor, Rate, district=actor.district, **values)
    return update_object(actor, Rate.objects.select_for_update().get(pk=rate.pk), values)


@transaction.atomic
def delete_rate(actor, rate: Rate):
    """Back to the statewide default for that year and expense."""
    _ensure(actor)
    if rate.district_id != actor.district_id:
        raise PermissionDenied
    delete_object(actor, Rate.objects.select_for_update().get(pk=rate.pk))
