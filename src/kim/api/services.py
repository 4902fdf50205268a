"""API tokens: made and revoked through these functions only, each in one transaction with its
audit entry. The token itself is returned once and never stored (only its hash)."""

from datetime import timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kim.core.audit import Action, record
from kim.core.models import Role
from kim.identity.checks import directory_source
from kim.identity.models import Source

from .models import DEFAULT_VALIDITY_DAYS, MAX_VALIDITY_DAYS, ApiToken, hash_token


@transaction.atomic
def create_token(actor, user, name: str, days: int = DEFAULT_VALIDITY_DAYS) -> tuple[ApiToken, str]:
    """A new token acting as `user`, valid for `days`; returns the token and its key. `actor` is
    the user themself (on their page) or None (the operator on the command line)."""
    if actor is not None and actor.pk != user.pk:
        raise PermissionDenied(_("Only the owner or the operator makes a token for an account."))
    if not 1 <= days <= MAX_VALIDITY_DAYS:
        raise ValidationError({"days": _("A token is valid for 1 to %(max)d days.") % {"max": MAX_VALIDITY_DAYS}})
    if user.district_id is None or not user.is_active:
        raise ValidationError(_("Only an active account of a district can have a token."))
    if user.role not in Role.values:
        raise ValidationError(_("Only an account with a role can have a token."))
    if directory_source(user) == Source.OIDC:
        raise ValidationError(_(
            "Accounts that log in through OpenID Connect cannot hold API tokens: KIM cannot ask the identity "
            "provider whether the account is still active. Ask the operator for a local account for the "
            "interface."))
    key = ApiToken.new_key()
    token = ApiToken(user=user, name=name.strip()[:120] or "API", prefix=key[4:12], key_hash=hash_token(key),
                     expires_at=timezone.now() + timedelta(days=days))
    token.full_clean(exclude=["prefix", "key_hash"])
    token.save()
    record(actor, Action.CREATE, token, changes={
        "user": [None, user.pk], "name": [None, token.name], "expires_at": [None, token.expires_at.isoformat()]},
        provider_id=user.provider_id)
    return token, key


@transaction.atomic
def revoke_token(actor, token: ApiToken) -> None:
    """Revoke a token of the actor's own (or, with actor None, any token as the operator)."""
    if actor is not None and actor.pk != token.user_id:
        raise PermissionDenied(_("Only the owner or the operator revokes a token."))
    token = ApiToken.objects.select_for_update().get(pk=token.pk)
    if token.revoked_at is not None:
        return
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    record(actor, Action.UPDATE, token, changes={"revoked_at": [None, token.revoked_at.isoformat()]},
           provider_id=token.user.provider_id)
