"""Every answer of the API speaks German, errors included: the library's messages where its
catalogue has them, ours where it has none or where Django's English would show through
("No Participant matches the given query.", "JSON parse error - Expecting property name ...")."""

from django.http import Http404, JsonResponse
from django.utils.translation import gettext as _
from django.views.defaults import page_not_found
from rest_framework import exceptions
from rest_framework.views import exception_handler


def german_exception_handler(exc, context):
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(_("No such record, or it is not visible to you."))
    elif isinstance(exc, exceptions.ParseError):
        exc = exceptions.ParseError(_("The request body is not valid JSON."))
    elif isinstance(exc, exceptions.UnsupportedMediaType):
        exc = exceptions.UnsupportedMediaType(exc.args[0] if exc.args else "",
                                              detail=_("The API accepts only JSON (Content-Type: application/json)."))
    return exception_handler(exc, context)


def not_found(request, exception=None):
    """The site's 404: below /api/ (a path that names no endpoint) JSON like the rest of the
    API, elsewhere the German page."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": _("This API address does not exist.")}, status=404)
    return page_not_found(request, exception)
