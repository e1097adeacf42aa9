from django.apps import AppConfig


class ChannelsConfig(AppConfig):
    name = "samphan.channels"
    label = "channels"
    verbose_name = "Channels"

    def ready(self) -> None:
        # Connects the worker_ready sweep (events left "received" by a killed worker).
        from samphan.channels import tasks  # noqa: F401
        from samphan.channels.webchat import cors

        cors.connect()  # which origins may call a web-chat account's widget endpoints
        from samphan.channels.outbound import outbound_apply_delivery_reports
        from samphan.channels.services import register_inbound_consumer

        register_inbound_consumer(outbound_apply_delivery_reports)
        from samphan.channels.pdpa import SECTION as personal_data
        from samphan.customers.pdpa import register_personal_data

        register_personal_data(personal_data)  # PDPA export and erasure
