from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "samphan.demo"
    label = "demo"
    verbose_name = "Demo data"
