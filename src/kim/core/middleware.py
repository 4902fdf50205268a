"""Deny by default: every request needs a login (and a verified second factor where the
district requires one), and runs inside the user's district scope, so that a query for
personal data that forgets its scope raises instead of reading another district's rows."""

from django.conf import settings
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django_scopes import scope, scopes_disabled

PUBLIC_PREFIXES = ("/anmelden/", "/static/", "/healthz", "/i18n/", "/passwort-vergessen/")
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
        with scope(district=user.district_id):
            return self.get_response(request)


def has_device(user) -> bool:
    from django_otp import devices_for_user

    return any(True for _ in devices_for_user(user, confirmed=True))


def needs_second_factor(user) -> bool:
    if user.is_verified():  # checked first: it costs no query
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
