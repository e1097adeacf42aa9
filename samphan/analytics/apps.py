from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "samphan.analytics"
    label = "analytics"
    verbose_name = "Analytics"

    def ready(self) -> None:
        from django.apps import apps

        # Registers the "analytics" section of the customer 360.
        from samphan.analytics import selectors  # noqa: F401

        if apps.is_installed("samphan.segments"):
            # Stage, RFM segment, CLV, P(alive), spend and purchase dates as segment-rule fields.
            from samphan.analytics import segment_fields  # noqa: F401
