from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ResidenceConfig(AppConfig):
    name = "kim.residence"
    label = "residence"
    verbose_name = _("Foreigners' and naturalisation office (module 3)")

    def ready(self):
        from . import reports  # noqa: F401 - registers R13
