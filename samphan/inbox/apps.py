from django.apps import AppConfig


class InboxConfig(AppConfig):
    name = "samphan.inbox"
    label = "inbox"
    verbose_name = "Inbox"

    def ready(self) -> None:
        from samphan.channels.services import register_inbound_consumer
        from samphan.inbox import selectors  # noqa: F401  registers the "conversations" 360 section
        from samphan.inbox.ingest import ingest_inbound

        register_inbound_consumer(ingest_inbound)
        from samphan.inbox.selectors import sentiment_correction_examples
        from samphan.sentiment.corrections import register_correction_source

        register_correction_source(sentiment_correction_examples)
        from samphan.customers.pdpa import register_personal_data
        from samphan.inbox.pdpa import SECTION as personal_data

        register_personal_data(personal_data)  # PDPA export and erasure
