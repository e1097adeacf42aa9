"""`samphan inbox list`: conversations with their customer, channel, status and message count."""

from __future__ import annotations

from samphan.core.management.base import SamphanCommand
from samphan.inbox.selectors import ConversationFilters, conversation_list


class Command(SamphanCommand):
    help = "The inbox from the command line."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        lst = sub.add_parser("list", help="conversations, newest activity first")
        lst.add_argument("--workspace", required=True)
        lst.add_argument("--status", default="", help="open, pending, resolved or active (default: all)")
        lst.add_argument("--channel", type=int, default=None, help="a channel account id")
        lst.add_argument("--label", default="")
        lst.add_argument("--limit", type=int, default=50)
        lst.add_argument("--cursor", default="")
        lst.add_argument("--json", action="store_true")

    def handle(self, *args, **opts):
        ws = self.workspace_arg(opts["workspace"])
        page = conversation_list(workspace=ws, filters=ConversationFilters(
            status=opts["status"], channel_account_id=opts["channel"], label=opts["label"]),
            cursor=opts["cursor"], limit=opts["limit"])
        rows = [{"id": c["id"], "status": c["status"], "customer": c["customer"], "channel": c["channel"],
                 "message_count": c["message_count"], "assignee": c["assignee"], "labels": c["labels"],
                 "last_message_at": c["last_message_at"].isoformat(),
                 "last_message_preview": c["last_message_preview"]} for c in page["items"]]
        if opts["json"]:
            self.print_json(rows)
            return
        for r in rows:
            self.stdout.write(f"#{r['id']}\t{r['status']}\t{r['channel']['name']}\t{r['customer']['name']}\t"
                              f"{r['message_count']} msgs\t{r['last_message_preview'][:60]}")
        if page["next_cursor"]:
            self.stdout.write(f"more: --cursor {page['next_cursor']}")
