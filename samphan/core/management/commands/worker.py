import os

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

    def handle(self, *args, **opts):
        from config.celery import app

        argv = ["worker", f"--loglevel={opts['loglevel']}", f"--concurrency={opts['concurrency']}",
                f"--pool={opts['pool']}", "--without-gossip", "--without-mingle"]
        if opts["hostname"]:
            argv.append(f"--hostname={opts['hostname']}")
        if opts["queues"]:
            argv.append(f"--queues={opts['queues']}")
        app.worker_main(argv=argv)
