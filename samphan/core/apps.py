from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "samphan.core"
    label = "core"
    verbose_name = "Samphan core"
