from django.apps import AppConfig


class ExchangeConfig(AppConfig):
    name = "kim.exchange"
    verbose_name = "Datenaustausch"
