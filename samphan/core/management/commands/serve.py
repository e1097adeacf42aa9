import os

from samphan.core.management.base import SamphanCommand


class Command(SamphanCommand):
    help = "Run the web server (gunicorn) serving the UI, the API and static files."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", "2")))
        parser.add_argument("--threads", type=int, default=int(os.environ.get("WEB_THREADS", "4")))

    def handle(self, *args, **opts):
        from gunicorn.app.base import BaseApplication

        # Webhooks queue their processing from one thread per worker process, after the 200
        # (channels.services.webhook_enqueue_soon): the acknowledgement waits for no cache or broker.
        os.environ.setdefault("SAMPHAN_WEBHOOK_ENQUEUE", "background")

        from config.wsgi import application

        class _App(BaseApplication):
            def load_config(self):
                self.cfg.set("bind", f"{opts['host']}:{opts['port']}")
                self.cfg.set("workers", opts["workers"])
                self.cfg.set("threads", opts["threads"])
                self.cfg.set("worker_class", "gthread")
                self.cfg.set("accesslog", os.environ.get("ACCESS_LOG") or None)
                self.cfg.set("timeout", 120)

            def load(self):
                return application

        _App().run()
