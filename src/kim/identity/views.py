"""The two addresses of the OIDC login, under /anmelden/ (public): the start, which sends the
browser to the provider, and the return from it. Without KIM_OIDC_CLIENT_ID both answer 404."""

from django.conf import settings
from django.http import Http404
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

_start = OIDCAuthenticationRequestView.as_view()
_callback = OIDCAuthenticationCallbackView.as_view()


def oidc_start(request):
    if not settings.KIM_OIDC_ENABLED:
        raise Http404
    return _start(request)


def oidc_callback(request):
    if not settings.KIM_OIDC_ENABLED:
        raise Http404
    return _callback(request)
