from samphan.accounts.roles import Role
from samphan.accounts.selectors import memberships_of
from samphan.accounts.services import user_create_or_update
from samphan.core.management.base import SamphanCommand


class Command(SamphanCommand):
    help = "Create users and give them a role in a workspace."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="create a user (or change their role) in a workspace")
        create.add_argument("email")
        create.add_argument("--workspace", required=True, help="workspace slug")
        create.add_argument("--role", required=True, choices=Role.values)
        create.add_argument("--name", default="", help="display name")
        create.add_argument("--password-stdin", action="store_true",
                            help="read the password from the first line of standard input")
        create.add_argument("--json", action="store_true")
        lst = sub.add_parser("list", help="list a workspace's users")
        lst.add_argument("--workspace", required=True)

    def handle(self, *args, **opts):
        workspace = self.workspace_arg(opts["workspace"])
        if opts["action"] == "list":
            for m in workspace.memberships.select_related("user").order_by("user__email"):
                self.stdout.write(f"{m.user.email}\t{m.role}")
            return
        from samphan.accounts.models import User

        exists = User.objects.filter(email=opts["email"].strip().lower()).exists()
        password = None
        if not exists or opts["password_stdin"]:
            password = self.read_password(from_stdin=opts["password_stdin"], email=opts["email"])
        user, created = user_create_or_update(
            email=opts["email"], password=password, workspace=workspace, role=opts["role"],
            display_name=opts["name"], via="cli",
        )
        if opts["json"]:
            self.print_json({"id": user.pk, "email": user.email, "created": created,
                             "workspaces": {m.workspace.slug: m.role for m in memberships_of(user)}})
        else:
            verb = "created" if created else "updated"
            self.stdout.write(f"{verb} {user.email}: {opts['role']} in {workspace.slug}")
