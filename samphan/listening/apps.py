from django.apps import AppConfig


class ListeningConfig(AppConfig):
    name = "samphan.listening"
    label = "listening"
    verbose_name = "Listening"

    def ready(self) -> None:
        from samphan.channels.services import register_inbound_consumer
        from samphan.listening.connectors.facebook import ingest_page_feed
        from samphan.listening.services import mention_correction_examples
        from samphan.sentiment.corrections import register_correction_source

        # After the inbox's consumer (INSTALLED_APPS order): a commenter the inbox has just made a
        # customer of is linked to the mention in the same transaction.
        register_inbound_consumer(ingest_page_feed)
        register_correction_source(mention_correction_examples)
        from samphan.customers.pdpa import register_personal_data
        from samphan.listening.pdpa import SECTION as personal_data

        register_personal_data(personal_data)  # PDPA export and erasure
