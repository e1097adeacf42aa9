from django.apps import AppConfig


class GuardConfig(AppConfig):
    name = "samphan.guard"
    label = "guard"
    verbose_name = "Brand-voice guard"
