from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from samphan.accounts.models import ApiToken, Membership, User, Workspace
from samphan.core.models import AuditEvent

pytestmark = pytest.mark.django_db


def run(*args, stdin: str | None = None, monkeypatch=None) -> str:
    out = io.StringIO()
    if stdin is not None:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    call_command(*args, stdout=out)
    return out.getvalue()


def test_workspace_create_and_duplicate():
    assert "created workspace shop-1" in run("workspaces", "create", "shop-1", "--name", "ร้านหนึ่ง")
    assert Workspace.objects.get(slug="shop-1").name == "ร้านหนึ่ง"
    with pytest.raises(CommandError, match="already exists") as err:
        run("workspaces", "create", "shop-1", "--name", "again")
    assert err.value.returncode == 1


@pytest.mark.parametrize("slug", ["Bad Slug", "x-", "x" * 60, "ร้าน"])
def test_workspace_bad_slug(slug):
    with pytest.raises(CommandError, match="invalid slug"):
        run("workspaces", "create", slug, "--name", "n")


def test_user_create_with_password_stdin(monkeypatch, workspace):
    run("users", "create", "Agent@Example.com", "--workspace", "alpha", "--role", "agent",
        "--password-stdin", stdin="a-long-password\n", monkeypatch=monkeypatch)
    user = User.objects.get(email="agent@example.com")
    assert user.check_password("a-long-password")
    assert Membership.objects.get(user=user).role == "agent"
    assert AuditEvent.objects.filter(action="membership.set", via="cli").exists()


def test_user_create_unknown_workspace(monkeypatch, db):
    with pytest.raises(CommandError, match="no workspace with slug 'nope'"):
        run("users", "create", "a@b.co", "--workspace", "nope", "--role", "agent", "--password-stdin",
            stdin="a-long-password\n", monkeypatch=monkeypatch)


def test_user_create_weak_password(monkeypatch, workspace):
    with pytest.raises(CommandError, match="password rejected"):
        run("users", "create", "a@b.co", "--workspace", "alpha", "--role", "agent", "--password-stdin",
            stdin="123\n", monkeypatch=monkeypatch)
    assert not User.objects.filter(email="a@b.co").exists()


def test_token_create_prints_once_and_stores_hash(monkeypatch, workspace):
    run("users", "create", "dev@b.co", "--workspace", "alpha", "--role", "manager", "--password-stdin",
        stdin="a-long-password\n", monkeypatch=monkeypatch)
    raw = run("tokens", "create", "dev@b.co", "--workspace", "alpha").strip()
    assert raw.startswith("smp_")
    token = ApiToken.objects.get()
    assert token.digest == ApiToken.digest_of(raw)


def test_token_for_non_member(monkeypatch, workspace, other_workspace):
    run("users", "create", "dev@b.co", "--workspace", "alpha", "--role", "manager", "--password-stdin",
        stdin="a-long-password\n", monkeypatch=monkeypatch)
    with pytest.raises(CommandError, match="not a member"):
        run("tokens", "create", "dev@b.co", "--workspace", "beta")


def test_console_script_help_lists_commands():
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-m", "samphan.cli", "--help"], capture_output=True, text=True,
                            check=True)
    for name in ("serve", "worker", "migrate", "workspaces", "users", "tokens", "demo-data"):
        assert name in result.stdout


def test_console_script_unknown_workspace_exits_nonzero(tmp_path):
    import os
    import subprocess
    import sys

    env = {**os.environ, "SAMPHAN_VAR_DIR": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path}/x.sqlite3"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    subprocess.run([sys.executable, "-m", "samphan.cli", "migrate", "-v0"], env=env, check=True)
    result = subprocess.run([sys.executable, "-m", "samphan.cli", "tokens", "create", "x@y.z",
                             "--workspace", "ghost"], env=env, capture_output=True, text=True)
    assert result.returncode != 0
    assert result.stderr.strip().splitlines()[-1] == "CommandError: no workspace with slug 'ghost'"
