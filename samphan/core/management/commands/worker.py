import os
from argparse import BooleanOptionalAction

from samphan.core.management.base import SamphanCommand


class Command(SamphanCommand):
    help = "Run the background worker (Celery) on CELERY_BROKER_URL (embedded default: var/celery/)."

    def add_arguments(self, parser):
        parser.add_argument("--concurrency", type=int, default=int(os.environ.get("WORKER_CONCURRENCY", "2")))
        parser.add_argument("--loglevel", default=os.environ.get("WORKER_LOGLEVEL", "info"))
        parser.add_argument("--pool", default=os.environ.get("WORKER_POOL", "prefork"))
        parser.add_argument("--hostname", default=None)
        parser.add_argument("--queues", default=os.environ.get("WORKER_QUEUES", ""),
                            help="comma-separated queues to consume (default: Celery's default queue)")
        parser.add_argument("--beat", default=os.environ.get("WORKER_BEAT", "1") not in ("0", "false", "no"),
                            action=BooleanOptionalAction,
                            help="also run the periodic tasks (CELERY_BEAT_SCHEDULE: the SLA breach sweep, e-mail polling); "
                                 "one worker per install is enough (WORKER_BEAT=0 on the others)")

    def handle(self, *args, **opts):
        from config.celery import app

        argv = ["worker", f"--loglevel={opts['loglevel']}", f"--concurrency={opts['concurrency']}",
                f"--pool={opts['pool']}", "--without-gossip", "--without-mingle"]
        if opts["hostname"]:
            argv.append(f"--hostname={opts['hostname']}")
        if opts["queues"]:
            argv.append(f"--queues={opts['queues']}")
        if opts["beat"]:
            from django.conf import settings

            argv += ["--beat", f"--schedule={settings.CELERY_BEAT_SCHEDULE_FILENAME}"]
        app.worker_main(argv=argv)
