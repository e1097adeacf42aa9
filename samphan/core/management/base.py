"""Base for Samphan's commands: domain errors become one line on stderr and exit code 1."""

from __future__ import annotations

import json
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from samphan.core.errors import SamphanError


class SamphanCommand(BaseCommand):
    def execute(self, *args: Any, **options: Any) -> Any:
        try:
            return super().execute(*args, **options)
        except SamphanError as exc:
            raise CommandError(exc.message, returncode=1) from None

    def print_json(self, data: Any) -> None:
        self.stdout.write(json.dumps(data, ensure_ascii=False, default=str))

    def workspace_arg(self, slug: str):
        from samphan.accounts.services import workspace_get

        return workspace_get(slug=slug)

    def read_password(self, *, from_stdin: bool, email: str) -> str:
        if from_stdin:
            return sys.stdin.readline().rstrip("\n")
        import getpass

        first = getpass.getpass(f"Password for {email}: ")
        if getpass.getpass("Again: ") != first:
            raise CommandError("the passwords differ", returncode=1)
        return first
