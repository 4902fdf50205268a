"""State changes of organisation data. Each function: one transaction, one audit entry."""

from django.db import transaction
from django.utils.text import slugify
from django_scopes import scopes_disabled

from . import defaults
from .audit import Action, diff, record, snapshot
from .models import CATALOGUE_MODELS, District, Municipality, Provider, ReferralTarget, User


def create_object(actor, model, **values):
    """Create one row and audit it with all its plain field values."""
    many = {k: values.pop(k) for k in list(values) if model._meta.get_field(k).many_to_many}
    obj = model(**values)
    obj.full_clean()
    obj.save()
    for name, items in many.items():
        getattr(obj, name).set(items)
    fields = list(values) + list(many)
    record(actor, Action.CREATE, obj, changes={k: [None, v] for k, v in snapshot(obj, fields).items()})
    return obj


def update_object(actor, obj, values: dict):
    """Change the given fields of one row and audit what changed (before and after)."""
    fields = list(values)
    # "Before" comes from the database: a ModelForm has already written its values onto
    # the instance it validated, so the instance alone would show no change.
    before = snapshot(type(obj)._base_manager.get(pk=obj.pk), fields)
    plain = {k: v for k, v in values.items() if not obj._meta.get_field(k).many_to_many}
    for name, value in plain.items():
        setattr(obj, name, value)
    obj.full_clean()
    obj.save()
    for name in set(fields) - set(plain):
        getattr(obj, name).set(values[name])
    changes = diff(before, snapshot(obj, fields))
    if changes:
        record(actor, Action.UPDATE, obj, changes=changes)
    return obj


@transaction.atomic
def create_district(actor, name: str, slug: str | None = None) -> District:
    """A new tenant with the statewide catalogue defaults copied in."""
    with scopes_disabled():
        district = create_object(actor, District, name=name, slug=slug or slugify(name))
        for model in CATALOGUE_MODELS.values():
            entries = defaults.BY_MODEL_NAME[model.__name__]
            model.objects.bulk_create(
                model(district=district, key=key, label=label, sort_order=index * 10,
                      **({"means_no_need": key == defaults.NO_NEED_KEY} if model is ReferralTarget else {}))
                for index, (key, label) in enumerate(entries, start=1)
            )
    return district


@transaction.atomic
def create_municipality(actor, district, name: str) -> Municipality:
    return create_object(actor, Municipality, district=district, name=name)


@transaction.atomic
def create_provider(actor, district, name: str, kind: str, slug: str | None = None) -> Provider:
    return create_object(
        actor, Provider, district=district, name=name, kind=kind, slug=slug or slugify(name)[:60]
    )


@transaction.atomic
def update_organisation_unit(actor, obj, values: dict):
    return update_object(actor, obj, values)


@transaction.atomic
def create_user(actor, *, district, username, password=None, **values) -> User:
    user = User(district=district, username=username, **values)
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.full_clean(exclude=["password"])
    user.save()
    fields = ["username", "first_name", "last_name", "email", "role", "provider", "fte", "is_active"]
    record(actor, Action.CREATE, user, changes={k: [None, v] for k, v in snapshot(user, fields).items()})
    return user


@transaction.atomic
def update_user(actor, user: User, values: dict) -> User:
    return update_object(actor, user, values)


@transaction.atomic
def set_password(actor, user: User, password: str) -> None:
    user.set_password(password)
    user.save(update_fields=["password"])
    record(actor, Action.UPDATE, user, changes={"password": ["***", "***"]})


@transaction.atomic
def confirm_second_factor(user: User, device) -> None:
    """The user proved possession of the authenticator: the device counts from now on."""
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    record(user, Action.UPDATE, user, changes={"second_factor": [False, True]})


@transaction.atomic
def add_catalogue_entry(actor, model, district, label: str, sort_order: int = 500):
    return create_object(actor, model, district=district, label=label, sort_order=sort_order)


@transaction.atomic
def update_catalogue_entry(actor, entry, values: dict):
    return update_object(actor, entry, values)
