"""Deny by default: every request needs a login (and a verified second factor where the
district requires one), and runs inside the user's district scope, so that a query for
personal data that forgets its scope raises instead of reading another district's rows."""

import time

from django.conf import settings
from django.db import OperationalError
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext_lazy
from django_scopes import scope, scopes_disabled

# /metrics checks its own access (loopback or token, kim.core.monitoring).
PUBLIC_PREFIXES = ("/anmelden/", "/static/", "/healthz", "/metrics", "/i18n/", "/passwort-vergessen/")
API_PREFIX = "/api/"
SECOND_FACTOR_PREFIXES = ("/zweiter-faktor/", "/abmelden/")


class AccessMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.path
        if path.startswith(PUBLIC_PREFIXES):
            with scopes_disabled():
                return self.get_response(request)
        if path.startswith(API_PREFIX):
            # The API authenticates each request by token and enters the token user's scope
            # itself (kim.api.views.ScopedMixin). Until then no scope is active, so a query for
            # personal data raises instead of reading.
            return self.get_response(request)
        user = request.user
        if not user.is_authenticated:
            return redirect(f"{reverse(settings.LOGIN_URL)}?next={path}")
        in_admin = path.startswith("/admin/")
        if in_admin and not user.is_superuser:
            return redirect("home")
        # The Django admin can change every account: it always asks for the second factor.
        if (needs_second_factor(user) or (in_admin and not user.is_verified())) \
                and not path.startswith(SECOND_FACTOR_PREFIXES):
            return redirect("otp-setup" if not has_device(user) else "otp-verify")
        if in_admin:  # the operators' tool for organisation data only
            with scopes_disabled():
                return self.get_response(request)
        with scope(district=district_scope(user)):
            return self.get_response(request)


def district_scope(user):
    """The scope a request runs in. The Land's accounts have no district: an empty list, so that
    a query for any district's rows finds none (None would leave the rows unfiltered)."""
    from kim.core.models import Role

    return [] if user.role == Role.STATE else user.district_id


def has_device(user) -> bool:
    from django_otp import devices_for_user

    return any(True for _ in devices_for_user(user, confirmed=True))


def needs_second_factor(user) -> bool:
    if user.is_verified():  # checked first: it costs no query
        return False
    if getattr(user, "directory_mfa", False):  # the OIDC provider checked one (kim.identity)
        return False
    district = user.district
    required = district is not None and district.require_two_factor
    return required or has_device(user)


class NoStoreMiddleware:
    """Pages, downloads and API answers carry personal data or figures meant for one reader:
    `Cache-Control: no-store, private` on every response that reaches the application, so
    that no browser cache, shared computer or proxy keeps them."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        add_never_cache_headers(response)
        return response


BUSY = gettext_lazy("The database is busy with a large import. Please try again in a minute.")


class DatabaseBusyMiddleware:
    """SQLite lets one process write at a time. While a large import holds the database,
    another write waits (KIM_SQLITE_BUSY_SECONDS) and then fails with "database is locked":
    the user gets a German 503 that says to try again, nothing is changed (the request's
    transaction is rolled back), and no server error is logged as a defect."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not (isinstance(exception, OperationalError) and "database is locked" in str(exception)):
            return None
        if request.path.startswith(API_PREFIX):
            response = JsonResponse({"detail": str(BUSY)}, status=503)
        else:
            response = render(request, "503.html", {"message": BUSY}, status=503)
        response["Retry-After"] = "60"
        return response


class SessionRefreshMiddleware:
    """The sliding idle timeout without a database write on every request.

    Django's SESSION_SAVE_EVERY_REQUEST writes the session row on every page view to move its
    expiry. Here a session is written when it changed, and otherwise at most once every
    KIM_SESSION_REFRESH_SECONDS: the session still ends SESSION_COOKIE_AGE after the last
    activity, give or take that interval. Listed after SessionMiddleware, so that its
    response step runs first and the session middleware saves what it marked."""

    KEY = "_kim_refreshed_at"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        session = getattr(request, "session", None)
        # No session (an anonymous visitor) or an empty one (logged out, unknown cookie): none
        # is created for it.
        if session is None or session.is_empty() or not session.keys():
            return response
        now = int(time.time())
        if session.modified or now - session.get(self.KEY, 0) >= settings.KIM_SESSION_REFRESH_SECONDS:
            session[self.KEY] = now
        return response
