from django.core.management.base import CommandError

from samphan.accounts.models import ApiToken, User
from samphan.accounts.services import api_token_create, api_token_revoke
from samphan.core.management.base import SamphanCommand


class Command(SamphanCommand):
    help = "Issue and revoke personal API tokens. A token is printed once and stored hashed."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="issue a token for a user in a workspace")
        create.add_argument("email")
        create.add_argument("--workspace", required=True)
        create.add_argument("--name", default="", help="what the token is for")
        create.add_argument("--json", action="store_true")
        revoke = sub.add_parser("revoke", help="revoke a token by its prefix")
        revoke.add_argument("prefix")

    def handle(self, *args, **opts):
        if opts["action"] == "revoke":
            token = ApiToken.objects.filter(prefix=opts["prefix"], revoked_at__isnull=True).first()
            if token is None:
                raise CommandError(f"no live token with prefix {opts['prefix']!r}", returncode=1)
            api_token_revoke(token=token, via="cli")
            self.stdout.write(f"revoked {token.prefix}…")
            return
        workspace = self.workspace_arg(opts["workspace"])
        user = User.objects.filter(email=opts["email"].strip().lower()).first()
        if user is None:
            raise CommandError(f"no user {opts['email']!r}", returncode=1)
        token, raw = api_token_create(user=user, workspace=workspace, name=opts["name"], via="cli")
        if opts["json"]:
            self.print_json({"token": raw, "prefix": token.prefix, "workspace": workspace.slug})
        else:
            self.stdout.write(raw)
