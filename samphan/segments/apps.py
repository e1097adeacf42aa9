from django.apps import AppConfig


class SegmentsConfig(AppConfig):
    name = "samphan.segments"
    label = "segments"
    verbose_name = "Segments"

    def ready(self) -> None:
        from samphan.segments import fields, hooks  # noqa: F401  register built-in fields and refresh hooks
