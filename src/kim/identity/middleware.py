"""Sessions of directory accounts ask the directory again whether the account still has its
access: LDAP every KIM_LDAP_RECHECK_SECONDS (default 0, every request), OIDC at the provider's
userinfo endpoint every KIM_OIDC_RECHECK_SECONDS (default 300). An account the directory no
longer grants is switched off and logged out; a provider that ends the session logs it out.
Also marks a session whose OIDC provider did the second factor (kim.core.middleware)."""

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.shortcuts import redirect
from django_scopes import scopes_disabled

from . import checks
from .backends import DIRECTORY_MFA
from .config import LDAP_BACKEND, OIDC_BACKEND
from .models import Source

CHECKED_AT = "kim_directory_checked_at"  # session key: when the directory was last asked


class DirectoryCheckMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        backend = self.directory_backend(request)
        if backend is not None:
            refusal = self.recheck(request, backend)
            if refusal is not None:
                logout(request)
                messages.error(request, refusal)
                return redirect(settings.LOGIN_URL)
            if backend == OIDC_BACKEND and request.session.get(DIRECTORY_MFA):
                request.user.directory_mfa = True
        return self.get_response(request)

    @staticmethod
    def directory_backend(request) -> str | None:
        """The directory that decides about the session's account: by the account's link, not
        by the backend the session names, so that no other login (a password given to a
        directory account before, say) escapes the directory's decision."""
        if not hasattr(request, "session") or not request.user.is_authenticated:
            return None
        source = checks.directory_source(request.user)
        if source is None:
            return None
        return LDAP_BACKEND if source == Source.LDAP else OIDC_BACKEND

    def recheck(self, request, backend: str):
        """None while the directory grants the account what it holds, else why not."""
        interval = settings.KIM_LDAP_RECHECK_SECONDS if backend == LDAP_BACKEND else settings.KIM_OIDC_RECHECK_SECONDS
        now = time.time()
        if interval and now - request.session.get(CHECKED_AT, 0) < interval:
            return None
        with scopes_disabled():
            if backend == LDAP_BACKEND:
                refusal = checks.ldap_refusal(request.user)
            else:
                refusal = checks.oidc_refusal(request.user, request.session.get("oidc_access_token"))
        if refusal is None and interval:
            request.session[CHECKED_AT] = now
        return refusal
