from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "kim.reports"
    verbose_name = "Berichte"

    def ready(self):
        from . import definitions  # noqa: F401  (registers the reports)
