"""Token authentication: `Authorization: Token kim_…` (or `Bearer kim_…`)."""

from datetime import timedelta

from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import authentication, exceptions, permissions

from kim.core.middleware import has_device
from kim.identity.checks import token_refusal

from .models import ApiToken, hash_token


class TokenAuthentication(authentication.BaseAuthentication):
    keywords = ("token", "bearer")

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1").split()
        if not header or header[0].lower() not in self.keywords:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(_("Invalid token header."))
        token = ApiToken.objects.active().select_related("user__district", "user__directory_account").filter(
            key_hash=hash_token(header[1])).first()
        if token is None or token.user.district_id is None or not token.user.role:
            raise exceptions.AuthenticationFailed(_("Invalid, expired or revoked token."))
        refusal = token_refusal(token.user)
        if refusal is not None:
            # The token of a directory account acts only while the directory grants the account.
            raise exceptions.AuthenticationFailed(str(refusal))
        if token.user.district.require_two_factor and not has_device(token.user):
            # A token stands in for the login, not for the second factor: until its owner has
            # set one up (in the browser), the district's rule keeps the token closed.
            raise exceptions.AuthenticationFailed(_(
                "Your district requires a second factor. Set it up in the browser first; then this token works."))
        now = timezone.now()
        if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=5):
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)  # display state, not audited
        return token.user, token

    def authenticate_header(self, request):
        return "Token"


class InDistrict(permissions.BasePermission):
    def has_permission(self, request, view):
        user = request.user
        return bool(user and user.is_authenticated and user.is_active and user.district_id)


class SeesPersonalData(InDistrict):
    message = "Diese Rolle sieht nur zusammengefasste Zahlen, keine personenbezogenen Daten."

    def has_permission(self, request, view):
        return super().has_permission(request, view) and request.user.sees_personal_data
