from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StaffingConfig(AppConfig):
    name = "kim.staffing"
    label = "staffing"
    verbose_name = _("Staffing and funding")

    def ready(self):
        from . import reports  # noqa: F401 - registers R8, R9 and R16
