from django.apps import AppConfig


class SlaConfig(AppConfig):
    name = "samphan.sla"
    label = "sla"
    verbose_name = "SLA"
