from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from .models import Role
from .permissions import holds

# The main navigation: (label, URL name, the permission it needs), in this order. Each user
# sees the areas the role may use (kim.core.permissions), nothing else.
NAVIGATION = [
    (_("Start"), "home", None),
    (_("My cases"), "casework:my-cases", "casework.personal_data"),
    (_("Participants"), "casework:participants", "casework.personal_data"),
    (_("Appointments"), "casework:appointments", "casework.personal_data"),
    (_("Deputyships"), "casework:deputies", "casework.personal_data"),
    (_("Need reports"), "system:my-need-reports", "system.report_need"),
    (_("Data exchange"), "exchange:index", "exchange.use"),
    (_("Key figures"), "reports:dashboard", "casework.lead_provider"),  # others start on them
    (_("Reports"), "reports:index", "reports.read"),
    (_("Completeness"), "reports:completeness", "reports.read"),
    (_("Status reports"), "reports:papers", "reports.read_papers"),
    (_("Need reports"), "system:inbox", "system.coordinate"),
    (_("System level"), "system:index", "system.read"),
    (_("Working groups"), "system:groups", "system.read_own_groups"),
    (_("Service directory"), "system:directory", "system.read_directory"),
    (_("Staffing and funding"), "staffing:index", "staffing.read"),
    (_("Staff"), "admin-users", "casework.lead_provider"),
    (_("Procedures"), "residence:procedures", "residence.record"),
    (_("§104c pipeline"), "residence:pipeline", "residence.read_figures"),
    (_("Users"), "admin-users", "core.administer_district"),
    (_("Organisation"), "admin-organisation", "core.administer_district"),
    (_("Catalogues"), "admin-catalogues", "core.administer_district"),
    (_("Offices"), "residence:offices", "residence.manage_offices"),
    (_("Audit trail"), "audit-trail", "core.read_audit_trail"),
    (_("Data protection"), "privacy:index", "privacy.overview"),
    (_("Statewide figures"), "statistics:index", "statistics.read_state"),
    (_("Upload extract"), "statistics:upload", "statistics.import"),
]
# Aggregate readers land on the key figures: for them that page is "Start".
STARTS_ON_KEY_FIGURES = (Role.COORDINATION, Role.STEERING, Role.MODULE3)


def navigation(request):
    """The main navigation, by role."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    in_scope = user.in_own_scope
    items = [
        (str(label), reverse(url_name)) for label, url_name, permission in NAVIGATION
        if permission is None or (in_scope and holds(user.role, permission))
    ]
    current = request.path
    if current == reverse("reports:dashboard") and user.role in STARTS_ON_KEY_FIGURES:
        current = "/"
    # The item whose address is the longest prefix of this page is the current one.
    matching = [url for _label, url in items if url == current or (url != "/" and current.startswith(url))]
    best = max(matching, key=len, default=None)
    return {"nav_items": [{"label": label, "url": url, "current": url == best} for label, url in items]}
