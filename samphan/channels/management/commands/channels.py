"""`samphan channels …`: connect channel accounts, list them, inspect and retry webhook events."""

from __future__ import annotations

import json

from samphan.channels import services
from samphan.channels.adapters import adapter_class
from samphan.channels.models import ChannelAccount, WebhookEvent
from samphan.core.errors import NotFound, SamphanError, ValidationFailed
from samphan.core.management.base import SamphanCommand

# CLI option → (secret or config, name) per provider.
PROVIDER_OPTIONS = {
    "line": {"channel_secret": "secret", "access_token": "secret", "api_base_url": "config"},
    "facebook": {"app_secret": "secret", "page_access_token": "secret", "verify_token": "secret",
                 "page_id": "config", "graph_base_url": "config"},
    "webchat": {"origin": "config", "title_en": "config", "title_th": "config", "greeting_en": "config",
                "greeting_th": "config", "color": "config"},
    "email": {"imap_host": "config", "imap_port": "config", "imap_security": "config", "imap_mailbox": "config",
              "smtp_host": "config", "smtp_port": "config", "smtp_security": "config", "username": "config",
              "password": "secret", "smtp_username": "config", "smtp_password": "secret",
              "from_address": "config", "from_name": "config", "poll_interval": "config",
              "backfill_days": "config", "tls_ca_file": "config"},
    "sms": {"preset": "config", "api_key": "secret", "api_secret": "secret", "api_token": "secret",
            "webhook_secret": "secret", "sender": "config", "force": "config", "url": "config",
            "method": "config", "auth": "config", "auth_header": "config", "body": "config", "fields": "json",
            "to_format": "config", "webhook_auth": "config", "signature_header": "config"},
    "fake": {"signing_secret": "secret", "endpoint": "config"},
}
# Options that may be given several times, and the config key their list goes to.
LIST_OPTIONS = {"origin": "allowed_origins"}


class Command(SamphanCommand):
    help = ("Connect channel accounts (LINE, Facebook, e-mail, SMS …), list them, poll mailboxes, "
            "inspect and retry webhook events.")

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
        sub.add_parser("rotate-secrets", help="re-encrypt every stored secret (channel accounts, listening "
                                              "X sources) under the first SAMPHAN_ENCRYPTION_KEY")
        sub.add_parser("sweep", help="process webhook events left 'received' and requeue stuck outbound messages")
        poll = sub.add_parser("poll", help="fetch new mail of the workspace's e-mail accounts now")
        poll.add_argument("--workspace", required=True)
        poll.add_argument("--account", type=int, default=None, help="only this channel account id")
        poll.add_argument("--json", action="store_true")

    def handle(self, *args, **opts):
        action = opts["action"]
        if action == "add":
            return self._add(opts)
        if action == "list":
            ws = self.workspace_arg(opts["workspace"])
            rows = [{"id": a.pk, "provider": a.provider, "name": a.name, "active": a.is_active,
                     "webhook_url": services.account_webhook_url(a)}
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
        if action == "poll":
            return self._poll(opts)
        if action == "rotate-secrets":
            counts = services.secrets_rotate_all()
            self.stdout.write(f"re-encrypted the secrets of {counts.get('channels.channelaccount', 0)} channel "
                              f"accounts and {counts.get('listening.source', 0)} listening sources")
            return None
        from samphan.channels.tasks import sweep

        self.print_json(sweep())
        return None

    def _poll(self, opts):
        from samphan.channels.adapters import adapter_paths

        ws = self.workspace_arg(opts["workspace"])
        polled = [p for p in adapter_paths() if adapter_class(p).polls]
        accounts = ChannelAccount.objects.for_workspace(ws).filter(is_active=True, provider__in=polled)
        if opts["account"] is not None:
            accounts = ChannelAccount.objects.for_workspace(ws).filter(pk=opts["account"])
            if not accounts.exists():
                raise NotFound(f"channel account #{opts['account']} not found")
        rows, failed = [], []
        for account in accounts.order_by("id"):
            try:
                events = services.channel_poll(account=account)
                rows.append({"account": account.pk, "name": account.name, "fetched": len(events)})
            except SamphanError as exc:
                rows.append({"account": account.pk, "name": account.name, "fetched": 0, "error": exc.message})
                failed.append(exc.message)
        if opts["json"]:
            self.print_json(rows)
        else:
            for r in rows:
                self.stdout.write(f"{r['account']}\t{r['name']}\t{r['fetched']} new" +
                                  (f"\t{r['error']}" if r.get("error") else ""))
        if failed:
            raise ValidationFailed("; ".join(failed))
        return None

    def _add(self, opts):
        ws = self.workspace_arg(opts["workspace"])
        provider = opts["provider"]
        secrets, config = {}, {}
        for option, where in PROVIDER_OPTIONS[provider].items():
            if not opts.get(option):
                continue
            if where == "json":
                try:
                    config[option] = json.loads(opts[option])
                except ValueError as exc:
                    raise ValidationFailed(f"--{option.replace('_', '-')} must be JSON: {exc}") from None
            else:
                (secrets if where == "secret" else config)[LIST_OPTIONS.get(option, option)] = opts[option]
        account = services.channel_account_create(workspace=ws, provider=provider, name=opts["name"],
                                                   secrets=secrets, config=config, via="cli")
        url = services.account_webhook_url(account)
        snippet = services.embed_snippet(account)
        if opts["json"]:
            self.print_json({"id": account.pk, "webhook_url": url, **({"embed_snippet": snippet} if snippet else {})})
        elif url:
            self.stdout.write(f"connected {provider} account #{account.pk} ({account.name})\nwebhook URL: {url}")
            if snippet:
                self.stdout.write(f"embed the widget with:\n{snippet}")
        else:
            self.stdout.write(f"connected {provider} account #{account.pk} ({account.name}); polled every "
                              f"{adapter_class(provider).poll_interval(account.config):.0f} s by the worker "
                              f"(samphan channels poll to fetch now)")
