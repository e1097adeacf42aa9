from samphan.accounts.selectors import workspaces_all
from samphan.accounts.services import workspace_create
from samphan.core.management.base import SamphanCommand


class Command(SamphanCommand):
    help = "Create and list workspaces (one per brand or business)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="create a workspace")
        create.add_argument("slug", help="short id used in URLs and on the CLI, e.g. baan-suan")
        create.add_argument("--name", required=True, help="display name, Thai or English")
        create.add_argument("--json", action="store_true")
        lst = sub.add_parser("list", help="list workspaces")
        lst.add_argument("--json", action="store_true")

    def handle(self, *args, **opts):
        if opts["action"] == "create":
            ws = workspace_create(slug=opts["slug"], name=opts["name"], via="cli")
            if opts["json"]:
                self.print_json({"id": ws.pk, "slug": ws.slug, "name": ws.name})
            else:
                self.stdout.write(f"created workspace {ws.slug} ({ws.name})")
        else:
            rows = [{"id": w.pk, "slug": w.slug, "name": w.name} for w in workspaces_all()]
            if opts["json"]:
                self.print_json(rows)
            else:
                for r in rows:
                    self.stdout.write(f"{r['slug']}\t{r['name']}")
