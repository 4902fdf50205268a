"""State changes of organisation data. Each function: one transaction, one audit entry."""

from datetime import date

from axes.models import AccessAttempt
from axes.utils import reset as axes_reset
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_scopes import scopes_disabled

from kim.privacy.restriction import refuse_if_frozen

from . import defaults, permissions
from .audit import Action, diff, record, snapshot
from .models import (
    CATALOGUE_MODELS,
    PERSONAL_DATA_ROLES,
    District,
    Municipality,
    Provider,
    ReferralTarget,
    User,
)


PLAUSIBLE_YEARS = (1990, 2100)


def refuse_implausible_dates(values: dict):
    """Dates of the district's work (meetings, measures, positions) lie between 1990 and 2100:
    a year 1025 or 9999 is a typing error, and the reports cannot ask for it."""
    low, high = PLAUSIBLE_YEARS
    errors = {name: _("The date must lie between %(low)s and %(high)s.") % {"low": low, "high": high}
              for name, value in values.items() if isinstance(value, date) and not low <= value.year <= high}
    if errors:
        raise ValidationError(errors)


def _linked(many_values):
    """The records a many-to-many value links to (a need report's cases), for the restriction."""
    return [item for items in many_values for item in items if isinstance(item, models.Model)]


def create_object(actor, model, audit_extra: dict | None = None, **values):
    """Create one row and audit it with all its plain field values (and `audit_extra`: what
    else the one entry of the change should say)."""
    many = {k: values.pop(k) for k in list(values) if model._meta.get_field(k).many_to_many}
    obj = model(**values)
    # A new record of a restricted participant (Art. 18 GDPR), or one that links to one.
    refuse_if_frozen(obj, *_linked(many.values()))
    obj.full_clean()
    obj.save()
    for name, items in many.items():
        getattr(obj, name).set(items)
    fields = list(values) + list(many)
    changes = {k: [None, v] for k, v in snapshot(obj, fields).items()}
    record(actor, Action.CREATE, obj, changes={**changes, **(audit_extra or {})})
    return obj


def update_object(actor, obj, values: dict):
    """Change the given fields of one row and audit what changed (before and after)."""
    fields = list(values)
    # "Before" comes from the database: a ModelForm has already written its values onto
    # the instance it validated, so the instance alone would show no change.
    stored = type(obj)._base_manager.get(pk=obj.pk)
    before = snapshot(stored, fields)
    plain = {k: v for k, v in values.items() if not obj._meta.get_field(k).many_to_many}
    for name, value in plain.items():
        setattr(obj, name, value)
    # Restricted (Art. 18 GDPR) as stored, or about to be linked to a restricted participant.
    refuse_if_frozen(stored, obj, *_linked(values[name] for name in set(fields) - set(plain)))
    obj.full_clean()
    obj.save()
    for name in set(fields) - set(plain):
        getattr(obj, name).set(values[name])
    changes = diff(before, snapshot(obj, fields))
    if changes:
        record(actor, Action.UPDATE, obj, changes=changes)
    return obj


def delete_object(actor, obj, fields=None):
    """Delete one row and audit what it held (its plain fields, or `fields`): the entry keeps
    what was removed."""
    refuse_if_frozen(obj)
    fields = fields or [f.name for f in obj._meta.concrete_fields if f.name not in ("id", "district")]
    record(actor, Action.DELETE, obj, changes={k: [v, None] for k, v in snapshot(obj, fields).items()})
    obj.delete()


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


ACCOUNT_FIELDS = ["username", "first_name", "last_name", "email", "role", "provider", "is_active"]


def ensure_may_grant(actor, role, provider) -> None:
    """Refuse, with a German message, an account's role or provider that `actor` may not give
    (see kim.core.permissions.GRANTS). `actor` None is the operator on the command line."""
    provider_id = getattr(provider, "pk", provider)
    if actor is None or permissions.may_grant(actor, role, provider_id):
        return
    if role in PERSONAL_DATA_ROLES:
        message = _("Accounts that see personal data (case managers, provider leads) are created and "
                    "changed only by the lead of their provider or by the operator.")
    else:
        message = _("You may not give an account this role or provider.")
    raise ValidationError({"role": message})


def ensure_may(actor, permission: str, account: User) -> None:
    """Refuse an action on `account` that `actor` may not take (kim.core.permissions)."""
    if actor is not None and not actor.has_perm(permission, account):
        raise PermissionDenied(_("You may not change this account."))


def _account_snapshot(user: User) -> dict:
    return snapshot(user, ACCOUNT_FIELDS)


@transaction.atomic
def create_user(actor, *, district, username, password=None, **values) -> User:
    ensure_may_grant(actor, values.get("role"), values.get("provider"))
    user = User(district=district, username=username, **values)
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.full_clean(exclude=["password"])
    user.save()
    changes = {k: [None, v] for k, v in _account_snapshot(user).items()}
    if password:
        changes["password"] = [None, "***"]
    record(actor, Action.CREATE, user, changes=changes)
    return user


@transaction.atomic
def update_user(actor, user: User, values: dict) -> User:
    """Change an account. Judged twice: may `actor` touch this account as it is stored, and
    may it give the account the role and provider it asks for."""
    ensure_may(actor, "core.change_account", user)
    stored_role, stored_provider = user.stored_access()
    role = values.get("role", stored_role)
    provider = values.get("provider", stored_provider)
    if (role, getattr(provider, "pk", provider)) != (stored_role, stored_provider):
        ensure_may_grant(actor, role, provider)
    was_active = type(user)._base_manager.filter(pk=user.pk).values_list("is_active", flat=True).get()
    if values.get("is_active") and not was_active:
        ensure_may_grant(actor, role, provider)  # switching an account on gives access again
    user = update_object(actor, user, values)
    if was_active and not user.is_active:
        revoke_api_tokens(actor, user)
    return user


def revoke_api_tokens(actor, user: User) -> int:
    """An account switched off loses its API tokens for good, whichever way it was switched off
    (the deactivate button, the account form, the Django admin): switching it on again must not
    revive them. One entry names how many were revoked."""
    revoked = user.api_tokens.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
    if revoked:
        record(actor, Action.UPDATE, user, changes={"api_tokens_revoked": [0, revoked]})
    return revoked


@transaction.atomic
def set_password(actor, user: User, password: str) -> None:
    """A new password for `user`: by the user, by whoever may manage the account, or by the
    operator; the lock after failed logins is lifted with it."""
    if actor is not None and actor.pk != user.pk:
        ensure_may(actor, "core.set_password", user)
    refuse_password_of_directory_account(user)
    user.set_password(password)
    user.save(update_fields=["password"])
    record(actor, Action.UPDATE, user, changes={"password": ["***", "***"]})
    axes_reset(username=user.username)


DIRECTORY_PASSWORD = gettext_lazy("This account logs in through the directory (single sign-on); its password is "
                                  "set in the directory, never in the KIM database.")


def refuse_password_of_directory_account(user: User) -> None:
    """A directory account has no password in KIM: one would open a login that the directory's
    decision no longer reaches (docs/anmeldung.md)."""
    from kim.identity.models import DirectoryAccount

    if DirectoryAccount.objects.filter(user_id=user.pk).exists():
        raise ValidationError(DIRECTORY_PASSWORD, code="directory_account")


@transaction.atomic
def deactivate_user(actor, user: User) -> None:
    """Switch an account off: it can no longer log in, and its API tokens stop working. The
    decision is the district's own: an account the directory had switched off before stays
    off when the directory grants it again (kim.identity.services.local_account)."""
    from kim.identity.models import DirectoryAccount

    ensure_may(actor, "core.deactivate", user)
    if User._base_manager.filter(pk=user.pk).values_list("is_active", flat=True).get():
        update_object(actor, user, {"is_active": False})
    elif DirectoryAccount.objects.filter(user_id=user.pk, suspended_by_directory=True).update(
            suspended_by_directory=False):
        record(actor, Action.UPDATE, user, changes={"switched_off_by": ["directory", "district"]})
    revoke_api_tokens(actor, user)


@transaction.atomic
def unlock_user(actor, user: User) -> int:
    """Lift the lock after too many failed logins (anyone who knows a user name can cause it:
    the lock is per name, see docs/betrieb.md). Returns the number of failure records removed."""
    ensure_may(actor, "core.unlock", user)
    failures = AccessAttempt.objects.filter(username=user.username).aggregate(n=Sum("failures_since_start"))["n"] or 0
    removed = axes_reset(username=user.username) or 0
    if failures:  # the entry says what was lifted: a lock, or failures short of one
        was_locked = failures >= settings.AXES_FAILURE_LIMIT
        record(actor, Action.UPDATE, user, changes={"login_lock": [was_locked, False], "failed_logins": [failures, 0]})
    return removed


@transaction.atomic
def confirm_second_factor(user: User, device) -> None:
    """The user proved possession of the authenticator: the device counts from now on."""
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    type(device).objects.filter(user=user, confirmed=False).delete()  # secrets shown elsewhere end here
    record(user, Action.UPDATE, user, changes={"second_factor": [False, True]})


@transaction.atomic
def add_catalogue_entry(actor, model, district, label: str, sort_order: int = 500, **extra):
    """`extra`: fields of one catalogue only (a referral target's provider)."""
    return create_object(actor, model, district=district, label=label, sort_order=sort_order, **extra)


@transaction.atomic
def update_catalogue_entry(actor, entry, values: dict):
    return update_object(actor, entry, values)
