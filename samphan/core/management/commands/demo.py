"""`samphan demo`: migrate, load demo data once, start the worker and the web server."""

import os
import subprocess
import sys

from django.core.management import call_command

from samphan.core.management.base import SamphanCommand

DEMO_EMAIL = "demo@samphan.local"
DEMO_WORKSPACES = [
    ("baan-suan", "บ้านสวนคอฟฟี่ · Baan Suan Coffee", 3000, 1),
    ("siam-silk", "Siam Silk & Co. · สยามซิลค์", 1200, 2),
]


class Command(SamphanCommand):
    help = "Set up and start the demo: migrate, demo data (Thai and English), worker and web server."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--no-serve", action="store_true", help="prepare only; do not start servers")

    def handle(self, *args, **opts):
        from samphan.accounts.models import Workspace
        from samphan.accounts.services import user_create_or_update, workspace_create

        call_command("migrate", interactive=False, verbosity=0)
        password = os.environ.get("DEMO_PASSWORD", "samphan-demo-2026")
        for slug, name, customers, seed in DEMO_WORKSPACES:
            workspace = Workspace.objects.filter(slug=slug).first()
            fresh = workspace is None
            if fresh:
                workspace = workspace_create(slug=slug, name=name, via="cli")
            user_create_or_update(email=DEMO_EMAIL, password=password, workspace=workspace,
                                  role="owner", display_name="Demo Owner", via="cli")
            if fresh:
                self.stdout.write(f"generating demo data for {slug} …")
                call_command("demo_data", workspace=slug, customers=customers, seed=seed, verbosity=0)
        url = f"http://{opts['host']}:{opts['port']}/"
        banner = (
            "\n  Samphan is ready.\n"
            f"  URL:      {url}\n"
            f"  Login:    {DEMO_EMAIL}\n"
            f"  Password: {password}\n"
        )
        self.stdout.write(banner)
        if opts["no_serve"]:
            return
        self.stdout.flush()
        worker = subprocess.Popen([sys.executable, "-m", "samphan.cli", "worker", "--concurrency", "1", "--beat"])
        try:
            call_command("serve", host=opts["host"], port=opts["port"])
        finally:
            worker.terminate()
            worker.wait(timeout=10)
