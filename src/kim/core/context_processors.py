from django.urls import reverse
from django.utils.translation import gettext as _

from .models import Role


def navigation(request):
    """The main navigation, by role: each user sees only the areas the role may use."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    items = [(_("Start"), reverse("home"))]
    if user.sees_personal_data:
        items += [
            (_("My cases"), reverse("casework:my-cases")),
            (_("Participants"), reverse("casework:participants")),
            (_("Appointments"), reverse("casework:appointments")),
            (_("Deputyships"), reverse("casework:deputies")),
            (_("Data exchange"), reverse("exchange:index")),
        ]
    if user.role == Role.PROVIDER_LEAD:  # other aggregate readers start on the key figures
        items.append((_("Key figures"), reverse("reports:dashboard")))
    if user.district_id:
        items.append((_("Reports"), reverse("reports:index")))
        items.append((_("Completeness"), reverse("reports:completeness")))
    if user.role in (Role.COORDINATION, Role.STEERING):
        items.append((_("Status reports"), reverse("reports:papers")))
    if user.role == Role.PROVIDER_LEAD:
        items.append((_("Staff"), reverse("admin-users")))
        items.append((_("Audit trail"), reverse("audit-trail")))
    if user.role == Role.DISTRICT_ADMIN:
        items += [
            (_("Users"), reverse("admin-users")),
            (_("Organisation"), reverse("admin-organisation")),
            (_("Catalogues"), reverse("admin-catalogues")),
            (_("Audit trail"), reverse("audit-trail")),
        ]
    current = request.path
    if current == reverse("reports:dashboard") and user.role in (Role.COORDINATION, Role.STEERING, Role.MODULE3):
        current = "/"  # their start page is the key figures
    # The item whose address is the longest prefix of this page is the current one.
    matching = [url for _label, url in items if url == current or (url != "/" and current.startswith(url))]
    best = max(matching, key=len, default=None)
    return {"nav_items": [{"label": label, "url": url, "current": url == best} for label, url in items]}
