from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "samphan.web"
    label = "web"
    verbose_name = "Web UI shell"
