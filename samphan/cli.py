"""The `samphan` console script: every Django management command, plus Samphan's own.

`samphan demo-data …` runs the `demo_data` command: hyphens and underscores are
interchangeable in command names.
"""

from __future__ import annotations

import os
import sys

MAIN_COMMANDS = [
    ("demo", "set up the embedded demo (migrate, demo data, web server and worker)"),
    ("serve", "run the web server (--host, --port, --workers)"),
    ("worker", "run the background worker (Celery), with the periodic tasks when --beat"),
    ("beat", "run the periodic tasks (e-mail polling) beside workers on a server broker"),
    ("migrate", "create or upgrade the database schema"),
    ("workspaces", "create and list workspaces"),
    ("users", "create users and give them a role in a workspace"),
    ("tokens", "issue and revoke personal API tokens"),
    ("demo-data", "generate realistic Thai and English demo data"),
    ("import", "import customers or orders from CSV/XLSX"),
    ("analytics", "RFM, lifecycle stages, CLV, the 80/20 report, recompute"),
    ("channels", "connect LINE OA, Facebook pages, e-mail and SMS; poll mailboxes"),
    ("inbox", "list conversations"),
    ("sla", "flag missed SLA targets now, recompute due times"),
    ("sentiment", "train, classify and evaluate the sentiment model"),
    ("listening", "social listening: topics, sources, imports, fetches, priority list, spikes"),
]


def _print_help() -> None:
    print("usage: samphan <command> [options]\n")
    print("Samphan (สัมพันธ์) — Social CRM. Main commands:\n")
    width = max(len(name) for name, _ in MAIN_COMMANDS)
    for name, text in MAIN_COMMANDS:
        print(f"  {name.ljust(width)}  {text}")
    print("\n`samphan <command> --help` explains one command. All Django management commands work too:\n")


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    argv = list(sys.argv if argv is None else argv)
    argv[0] = "samphan"
    if len(argv) == 1 or (argv[1] in ("-h", "--help", "help") and len(argv) == 2):
        _print_help()
        argv = [argv[0], "help"]
    elif not argv[1].startswith("-"):
        argv[1] = argv[1].replace("-", "_")
    from django.core.management import execute_from_command_line

    execute_from_command_line(argv)


if __name__ == "__main__":
    main()
