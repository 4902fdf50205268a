from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PrivacyConfig(AppConfig):
    name = "kim.privacy"
    label = "privacy"
    verbose_name = _("Data protection")

    def ready(self):
        from . import maintenance  # noqa: F401 - registers the retention job
