import os

from django.conf import settings

from samphan.core.management.base import SamphanCommand


class Command(SamphanCommand):
    help = ("Run the periodic-task scheduler (Celery beat): e-mail polling. Run exactly one, beside the "
            "workers, when the broker is a server (the embedded setup runs it inside `samphan worker`).")

    def add_arguments(self, parser):
        parser.add_argument("--loglevel", default=os.environ.get("WORKER_LOGLEVEL", "info"))

    def handle(self, *args, **opts):
        from config.celery import app

        app.start(argv=["beat", f"--loglevel={opts['loglevel']}",
                        f"--schedule={settings.CELERY_BEAT_SCHEDULE_FILENAME}"])
