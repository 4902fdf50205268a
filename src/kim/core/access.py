"""Who may open which view. Every view declares its roles; personal data views also go
through `Model.objects.visible_to(user)`, so objects outside the scope answer 404."""

from functools import wraps

from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404

from .models import PERSONAL_DATA_ROLES, Role


def roles_required(*roles):
    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if request.user.role not in roles or request.user.district_id is None:
                raise PermissionDenied
            return view(request, *args, **kwargs)

        wrapper.allowed_roles = frozenset(roles)
        return wrapper

    return decorator


def permission_required(permission: str):
    """The view needs `permission` of kim.core.permissions (and a district)."""
    from .permissions import roles_holding

    return roles_required(*roles_holding(permission))


personal_data_view = roles_required(*PERSONAL_DATA_ROLES)
district_admin_view = roles_required(Role.DISTRICT_ADMIN)


def visible_or_404(model, user, **lookup):
    """The one way a view fetches a personal-data object: through the user's scope."""
    return get_object_or_404(model.objects.visible_to(user), **lookup)
