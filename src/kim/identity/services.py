"""Changes of state for single sign-on, each in one transaction with its audit entry: the groups
an operator maps, and the accounts the directory provisions and switches off."""

from django.contrib.auth import get_user_model
from django.db import transaction

from kim.core.audit import Action, diff, record, snapshot
from kim.core.services import revoke_api_tokens

from .grants import DEACTIVATED, NAME_TAKEN, Grant, Refused, normalised
from .models import DirectoryAccount, DirectoryGroup

ACCOUNT_FIELDS = ["district", "role", "provider", "is_active", "first_name", "last_name", "email"]


@transaction.atomic
def add_group(actor, *, source, group, district, role, provider=None) -> DirectoryGroup:
    """Map a directory group to a role (and provider) in a district; refused (ValidationError)
    where the rule of kim.identity.models.check_grant forbids it."""
    mapping = DirectoryGroup(source=source, group=normalised(source, group), district=district, role=role,
                             provider=provider)
    mapping.full_clean()
    mapping.save()
    record(actor, Action.CREATE, mapping, changes={
        "source": [None, source], "group": [None, mapping.group], "role": [None, role],
        "provider": [None, provider.pk if provider else None]})
    return mapping


@transaction.atomic
def remove_group(actor, mapping: DirectoryGroup) -> None:
    """Accounts it granted lose their access at their next request (kim.identity.middleware)."""
    record(actor, Action.DELETE, mapping, changes={"group": [mapping.group, None], "role": [mapping.role, None]})
    mapping.delete()


def local_account(source: str, subject: str, username: str):
    """(user, created): the account linked to this directory identity, else a new unsaved one.
    A local account that merely shares the user name is never taken over."""
    link = DirectoryAccount.objects.select_related("user").filter(source=source, subject=subject).first()
    if link is not None:
        if not link.user.is_active and not link.suspended_by_directory:
            raise Refused(DEACTIVATED)
        return link.user, False
    User = get_user_model()
    if User.objects.filter(username__iexact=username).exists():
        raise Refused(NAME_TAKEN)
    user = User(username=username)
    user.set_unusable_password()
    return user, True


@transaction.atomic
def provision(user, grant: Grant, *, source: str, subject: str, created: bool, names: dict) -> None:
    """Give `user` (from local_account) what the directory grants, switch it on again if the
    directory had switched it off, and link it to its directory identity. Audited when anything
    changed; the login itself is audited by kim.core.signals."""
    stored = None if created or not user.pk else get_user_model()._base_manager.get(pk=user.pk)
    before = snapshot(stored, ACCOUNT_FIELDS) if stored else {}
    user.district_id, user.role, user.provider_id = grant.district_id, grant.role, grant.provider_id
    user.is_active = True
    for field, value in names.items():
        if value:
            setattr(user, field, str(value)[:150])
    user.save()
    link, linked = DirectoryAccount.objects.get_or_create(user=user, defaults={"source": source, "subject": subject})
    if link.suspended_by_directory:
        link.suspended_by_directory = False
        link.save(update_fields=["suspended_by_directory"])
    changes = diff(before, snapshot(user, ACCOUNT_FIELDS))
    if changes or linked:
        changes["directory"] = [None, source] if linked else [source, source]
        record(None, Action.CREATE if created or not before else Action.UPDATE, user, changes=changes,
               provider_id=user.provider_id)


@transaction.atomic
def suspend(user, reason: str) -> None:
    """The directory took the access away: the account is switched off (its sessions end at their
    next request) until the directory grants access again, and loses its API tokens for good,
    as any account switched off (kim.core.services.revoke_api_tokens)."""
    link = DirectoryAccount.objects.select_for_update().filter(user=user).first()
    if link is None or not user.is_active:
        return
    get_user_model()._base_manager.filter(pk=user.pk).update(is_active=False)
    user.is_active = False
    link.suspended_by_directory = True
    link.save(update_fields=["suspended_by_directory"])
    record(None, Action.UPDATE, user, changes={"is_active": [True, False], "directory": [link.source, reason]},
           provider_id=user.provider_id)
    revoke_api_tokens(None, user)
