from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SystemConfig(AppConfig):
    name = "kim.system"
    label = "system"
    verbose_name = _("System level")

    def ready(self):
        from . import reports  # noqa: F401 - registers R11 and R12
