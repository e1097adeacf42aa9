from django.apps import AppConfig


class SentimentConfig(AppConfig):
    name = "samphan.sentiment"
    label = "sentiment"
    verbose_name = "Sentiment"
