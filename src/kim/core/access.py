"""Who may open which view. Every view declares its roles; personal data views also go
through `Model.objects.visible_to(user)`, so objects outside the scope answer 404."""

from functools import wraps

from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404


def as_id(value, digits: int = 9) -> int | None:
    """An id written in a request (a query parameter, a search for F-00042): ASCII digits only
    and not too many, else None. str.isdigit() also says yes to "²" or "٣", which int() then
    refuses, and a 20-digit number overflows the database's integer."""
    text = str(value or "")
    if text.isascii() and text.isdigit() and len(text) <= digits:
        return int(text)
    return None


def roles_required(*roles):
    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if request.user.role not in roles or not request.user.in_own_scope:
                raise PermissionDenied
            return view(request, *args, **kwargs)

        wrapper.allowed_roles = frozenset(roles)
        return wrapper

    return decorator


def permission_required(permission: str):
    """The view needs `permission` of the table in kim.core.permissions (and a district, or for
    the state's role none)."""
    from .permissions import roles_holding

    def decorator(view):
        wrapper = roles_required(*roles_holding(permission))(view)
        wrapper.permission = permission
        return wrapper

    return decorator


personal_data_view = permission_required("casework.personal_data")
district_admin_view = permission_required("core.administer_district")


def visible_or_404(model, user, related=(), **lookup):
    """The one way a view fetches a personal-data object: through the user's scope (with the
    `related` objects its page shows, fetched in the same query)."""
    return get_object_or_404(model.objects.visible_to(user).select_related(*related), **lookup)
