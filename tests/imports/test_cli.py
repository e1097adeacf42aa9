"""samphan import: --json output, human report, exit codes."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from samphan.commerce.models import Order
from tests.imports.helpers import ORDER_HEADER, order_row

pytestmark = pytest.mark.django_db


def call(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command("import", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_json_summary_and_exit_zero(workspace, write_csv):
    path = write_csv([ORDER_HEADER, order_row("O1", "C1", "2025-01-31", "10")])
    out, err = call("orders", str(path), "--workspace", "alpha", "--json")
    summary = json.loads(out)
    assert summary["rows"] == 1 and summary["imported"] == 1 and summary["customers_created"] == 1
    assert summary["errors"] == [] and summary["kind"] == "orders"
    assert err == ""  # no progress bar when stdout is not a terminal
    again = json.loads(call("orders", str(path), "--workspace", "alpha", "--json")[0])
    assert (again["imported"], again["unchanged"]) == (0, 1)


def test_rejected_rows_exit_two_with_the_report(workspace, write_csv, tmp_path):
    path = write_csv([ORDER_HEADER, order_row("O1", "C1", "2025-01-31", "10"),
                      order_row("O2", "C1", "not a date", "10")])
    report = tmp_path / "errors.csv"
    out = io.StringIO()
    with pytest.raises(CommandError, match="1 of 2 rows were rejected") as exc:
        call_command("import", "orders", str(path), "--workspace", "alpha", "--json", "--errors-csv", str(report),
                     stdout=out)
    assert exc.value.returncode == 2
    summary = json.loads(out.getvalue())
    assert summary["errors"] == [{"row": 3, "field": "ordered_at",
                                  "reason": "not a date (use YYYY-MM-DD, YYYYMMDD or DD/MM/YYYY)"}]
    assert report.read_bytes().startswith(b"\xef\xbb\xbf")  # so that Excel shows Thai text
    assert list(csv.reader(report.read_text(encoding="utf-8-sig").splitlines())) == [
        ["row", "field", "reason"], ["3", "ordered_at", "not a date (use YYYY-MM-DD, YYYYMMDD or DD/MM/YYYY)"]]
    assert Order.objects.filter(external_id="O1").exists()


def test_human_report(workspace, write_csv):
    path = write_csv([[*ORDER_HEADER, "note"], [*order_row("O1", "C1", "2025-01-31", "x"), "hi"]])
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("import", "orders", str(path), "--workspace", "alpha", stdout=out)
    text = out.getvalue()
    assert "rows 1  imported 0" in text
    assert "ignored columns: note" in text
    assert "row 2 amount: not an amount" in text


@pytest.mark.parametrize(("args", "message"), [
    (["orders", "{missing}", "--workspace", "alpha"], "no such file"),
    (["orders", "{csv}", "--workspace", "nope"], "no workspace with slug 'nope'"),
    (["customers", "{badcols}", "--workspace", "alpha"], "missing required column: customer_id"),
    (["orders", "{badcols}", "--workspace", "alpha"], "missing required columns: customer_id, ordered_at"),
])
def test_fatal_problems_exit_one_and_write_nothing(workspace, write_csv, tmp_path, args, message):
    files = {"missing": str(tmp_path / "nope.csv"),
             "csv": str(write_csv([ORDER_HEADER[:4], ["O1", "C1", "2025-01-31", "1"]])),
             "badcols": str(write_csv([["order_id", "amount"], ["O1", "1"]], name="b.csv"))}
    with pytest.raises(CommandError, match=message) as exc:
        call(*[a.format(**files) for a in args])
    assert exc.value.returncode == 1
    assert not Order.objects.exists()


def test_console_script_one_line_errors_and_exit_codes(tmp_path):
    env = {**os.environ, "SAMPHAN_VAR_DIR": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path}/cli.sqlite3"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    samphan = [sys.executable, "-m", "samphan.cli"]
    subprocess.run([*samphan, "migrate", "-v0"], env=env, check=True)
    subprocess.run([*samphan, "workspaces", "create", "shop", "--name", "ร้าน"], env=env, check=True,
                   capture_output=True)
    good = tmp_path / "orders.csv"
    good.write_text("order_id,customer_id,ordered_at,amount\nO1,C1,2568-01-31,\"1,000\"\n", encoding="utf-8")

    result = subprocess.run([*samphan, "import", "orders", str(good), "--workspace", "ghost"], env=env,
                            capture_output=True, text=True)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == ["CommandError: no workspace with slug 'ghost'"]

    result = subprocess.run([*samphan, "import", "orders", str(tmp_path / "x.csv"), "--workspace", "shop"],
                            env=env, capture_output=True, text=True)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == ["CommandError: x.csv: no such file"]

    result = subprocess.run([*samphan, "import", "orders", str(good), "--workspace", "shop", "--json"], env=env,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["imported"] == 1
    assert result.stderr == ""
