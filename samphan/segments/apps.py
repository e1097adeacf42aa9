from django.apps import AppConfig


class SegmentsConfig(AppConfig):
    name = "samphan.segments"
    label = "segments"
    verbose_name = "Segments"

    def ready(self) -> None:
        from samphan.segments import hooks  # noqa: F401  registers refresh-on-change hooks
