"""`samphan channels …`: connect channel accounts, list them, inspect and retry webhook events."""

from __future__ import annotations

from samphan.channels import services
from samphan.channels.models import ChannelAccount, WebhookEvent
from samphan.core.errors import NotFound
from samphan.core.management.base import SamphanCommand

# CLI option → (secret or config, name) per provider.
PROVIDER_OPTIONS = {
    "line": {"channel_secret": "secret", "access_token": "secret", "api_base_url": "config"},
    "facebook": {"app_secret": "secret", "page_access_token": "secret", "verify_token": "secret",
                 "page_id": "config", "graph_base_url": "config"},
    "webchat": {"origin": "config", "title_en": "config", "title_th": "config", "greeting_en": "config",
                "greeting_th": "config", "color": "config"},
    "fake": {"signing_secret": "secret", "endpoint": "config"},
}
# Options that may be given several times, and the config key their list goes to.
LIST_OPTIONS = {"origin": "allowed_origins"}


class Command(SamphanCommand):
    help = "Connect channel accounts (LINE, Facebook, …), list them, inspect and retry webhook events."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        add = sub.add_parser("add", help="connect a channel account; prints its webhook URL")
        providers = add.add_subparsers(dest="provider", required=True)
        for provider, options in PROVIDER_OPTIONS.items():
            p = providers.add_parser(provider, help=f"a {provider} account")
            p.add_argument("--workspace", required=True)
            p.add_argument("--name", required=True)
            p.add_argument("--json", action="store_true")
            for option in options:
                if option in LIST_OPTIONS:
                    p.add_argument(f"--{option.replace('_', '-')}", dest=option, action="append", default=[],
                                   help="repeat for each site that embeds the widget (https://shop.example)")
                else:
                    p.add_argument(f"--{option.replace('_', '-')}", dest=option, default="")
        lst = sub.add_parser("list", help="list a workspace's channel accounts")
        lst.add_argument("--workspace", required=True)
        lst.add_argument("--json", action="store_true")
        events = sub.add_parser("events", help="webhook events (default: the failed ones) with their reason")
        events.add_argument("--workspace", required=True)
        events.add_argument("--status", default="failed", choices=[s.value for s in WebhookEvent.Status])
        events.add_argument("--limit", type=int, default=50)
        events.add_argument("--json", action="store_true")
        retry = sub.add_parser("retry", help="process a failed webhook event again")
        retry.add_argument("event_id", type=int)
        retry.add_argument("--workspace", required=True)
        sub.add_parser("rotate-secrets", help="re-encrypt every channel secret under the first "
                                              "SAMPHAN_ENCRYPTION_KEY")
        sub.add_parser("sweep", help="process webhook events left 'received' and requeue stuck outbound messages")

    def handle(self, *args, **opts):
        action = opts["action"]
        if action == "add":
            return self._add(opts)
        if action == "list":
            ws = self.workspace_arg(opts["workspace"])
            rows = [{"id": a.pk, "provider": a.provider, "name": a.name, "active": a.is_active,
                     "webhook_url": services.webhook_url(a)}
                    for a in ChannelAccount.objects.for_workspace(ws).order_by("name", "id")]
            if opts["json"]:
                self.print_json(rows)
            else:
                for r in rows:
                    self.stdout.write(f"{r['id']}\t{r['provider']}\t{r['name']}\t{r['webhook_url']}")
            return None
        if action == "events":
            ws = self.workspace_arg(opts["workspace"])
            rows = [{"id": e.pk, "channel_account_id": e.channel_account_id, "received_at": e.received_at.isoformat(),
                     "status": e.status, "reason": e.failure_reason, "attempts": e.attempts}
                    for e in WebhookEvent.objects.for_workspace(ws).filter(status=opts["status"])
                    .order_by("-received_at", "-id")[:opts["limit"]]]
            if opts["json"]:
                self.print_json(rows)
            else:
                for r in rows:
                    self.stdout.write(f"{r['id']}\t{r['received_at']}\t{r['status']}\t{r['reason']}")
            return None
        if action == "retry":
            ws = self.workspace_arg(opts["workspace"])
            event = WebhookEvent.objects.for_workspace(ws).filter(pk=opts["event_id"]).first()
            if event is None:
                raise NotFound(f"webhook event #{opts['event_id']} not found")
            services.webhook_event_retry(event=event, via="cli")
            self.stdout.write(f"webhook event #{event.pk} queued again")
            return None
        if action == "rotate-secrets":
            self.stdout.write(f"re-encrypted the secrets of {services.channel_secrets_rotate_all()} channel accounts")
            return None
        from samphan.channels.tasks import sweep

        self.print_json(sweep())
        return None

    def _add(self, opts):
        ws = self.workspace_arg(opts["workspace"])
        provider = opts["provider"]
        secrets, config = {}, {}
        for option, where in PROVIDER_OPTIONS[provider].items():
            if opts.get(option):
                (secrets if where == "secret" else config)[LIST_OPTIONS.get(option, option)] = opts[option]
        account = services.channel_account_create(workspace=ws, provider=provider, name=opts["name"],
                                                   secrets=secrets, config=config, via="cli")
        url = services.webhook_url(account)
        snippet = services.embed_snippet(account)
        if opts["json"]:
            self.print_json({"id": account.pk, "webhook_url": url, **({"embed_snippet": snippet} if snippet else {})})
        else:
            self.stdout.write(f"connected {provider} account #{account.pk} ({account.name})\nwebhook URL: {url}")
            if snippet:
                self.stdout.write(f"embed the widget with:\n{snippet}")
