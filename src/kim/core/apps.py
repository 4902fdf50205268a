from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "kim.core"
    label = "core"
    verbose_name = _("Organisation and access")

    def ready(self):
        from . import audit_guard, checks, permissions, signals  # noqa: F401  (audit receivers, guard, checks, permissions)
