from django.apps import AppConfig


class ExchangeConfig(AppConfig):
    name = "kim.exchange"
    verbose_name = "Datenaustausch"

    def ready(self):
        from . import maintenance  # noqa: F401 - registers the import's maintenance jobs
