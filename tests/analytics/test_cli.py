"""`samphan analytics …`: JSON shapes and one-line errors."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from datetime import date, timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

pytestmark = pytest.mark.django_db

AS_OF = date(2026, 6, 30)


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("analytics", *args, stdout=out)
    return out.getvalue()


def run_json(*args: str):
    return json.loads(run(*args, "--json"))


@pytest.fixture
def five_buyers(shop, other_workspace):
    """Spends 50, 30, 10, 5, 5 (= 100) in completed orders; other rows that must not count."""
    from tests.analytics.conftest import Shop

    people = [shop.customer() for _ in range(5)]
    for c, total in zip(people, (30, 20, 10, 5, 5), strict=True):
        shop.order(c, AS_OF - timedelta(days=30), total)
    shop.order(people[0], AS_OF - timedelta(days=400), 20)  # → 50 in all, but outside a 2026 period
    shop.order(people[1], AS_OF - timedelta(days=10), 10)  # → 30
    shop.order(people[2], AS_OF - timedelta(days=10), 999, status="cancelled")
    shop.order(people[3], AS_OF - timedelta(days=10), 999, status="refunded")
    shop.customer()  # no orders
    theirs = Shop(other_workspace)
    theirs.order(theirs.customer(), AS_OF - timedelta(days=10), 10_000)
    return people


def test_pareto_json(five_buyers):
    data = run_json("pareto", "--workspace", "alpha")
    assert data["customers"] == 5
    assert data["revenue"] == 100
    assert data["top_share"] == {"1": 0.025, "5": 0.125, "10": 0.25, "20": 0.5, "50": 0.85}


def test_pareto_for_a_period(five_buyers):
    data = run_json("pareto", "--workspace", "alpha", "--from", "2026-01-01", "--to", "2026-12-31")
    assert data["customers"] == 5 and data["revenue"] == 80
    assert data["top_share"]["20"] == pytest.approx(30 / 80)
    data = run_json("pareto", "--workspace", "alpha", "--from", "2026-01-01", "--to", "2026-06-30",
                    "--period", "quarter")
    assert [p["period"] for p in data["periods"]] == ["2026-Q1", "2026-Q2"]
    assert data["periods"][0]["customers"] == 0 and data["periods"][1]["revenue"] == 80


def test_clv_json_shape_and_too_little_data(shop):
    import random

    rng = random.Random(3)
    with pytest.raises(CommandError, match="not enough purchase data"):
        run("clv", "--workspace", "alpha", "--calibration-end", "2026-06-30")
    for _ in range(40):
        c = shop.customer()
        day = AS_OF - timedelta(days=rng.randint(100, 400))
        for _ in range(rng.randint(1, 5)):
            if day <= AS_OF:
                shop.order(c, day, rng.randint(50, 500))
            day += timedelta(days=rng.randint(3, 90))
    data = run_json("clv", "--workspace", "alpha", "--calibration-end", "2026-06-30", "--unit", "day")
    assert set(data["bgnbd"]) >= {"r", "alpha", "a", "b", "log_likelihood"}
    assert set(data["gamma_gamma"]) >= {"p", "q", "gamma"}
    assert data["customers"] == 40
    assert all(v > 0 for k, v in data["bgnbd"].items() if k != "log_likelihood")


def test_recompute_segments_rfm_and_moves(five_buyers):
    summary = run_json("recompute", "--workspace", "alpha", "--as-of", "2026-06-30")
    assert summary["customers"] == 6 and summary["buyers"] == 5
    segments = run_json("segments", "--workspace", "alpha")
    assert segments["customers"] == 6
    assert sum(s["customers"] for s in segments["stages"].values()) == 6
    assert segments["stages"]["prospect"]["customers"] == 1
    rfm = run_json("rfm", "--workspace", "alpha")
    assert rfm["customers"] == 5 and rfm["period_days"] == 365
    assert sum(s["customers"] for s in rfm["segments"].values()) == 5
    assert len(rfm["segments"]) == 11
    moves = run_json("moves", "--workspace", "alpha", "--from", "-", "--to", "prospect")
    assert moves["count"] == 1
    assert "0 moves" in run("moves", "--workspace", "alpha", "--from", "regular", "--to", "lapsed",
                            "--this-quarter")


def test_rules_show_and_set(workspace):
    assert run_json("rules", "--workspace", "alpha")["lifecycle"]["lapsed_days"] == 180
    rules = run_json("rules", "--workspace", "alpha", "--set", '{"lifecycle": {"lapsed_days": 120}}')
    assert rules["lifecycle"]["lapsed_days"] == 120
    with pytest.raises(CommandError, match=r"lifecycle\.colour: unknown rule"):
        run("rules", "--workspace", "alpha", "--set", '{"lifecycle": {"colour": 1}}')


@pytest.mark.parametrize("action", ["clv", "rfm", "pareto", "segments", "recompute", "moves", "rules"])
def test_unknown_workspace_is_one_line_error(db, action):
    with pytest.raises(CommandError, match="no workspace with slug 'nope'") as err:
        run(action, "--workspace", "nope", "--json")
    assert err.value.returncode == 1


def test_console_script_exit_code(tmp_path):
    """Through the real `samphan` entry point: one line on stderr, exit code 1, no traceback."""
    env = {"SAMPHAN_VAR_DIR": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
           "PATH": "/usr/bin:/bin"}
    subprocess.run([sys.executable, "-m", "samphan", "migrate", "-v0"], env=env, check=True, capture_output=True)
    done = subprocess.run([sys.executable, "-m", "samphan", "analytics", "pareto", "--workspace", "nope", "--json"],
                          env=env, capture_output=True, text=True)
    assert done.returncode == 1
    assert done.stderr.strip() == "CommandError: no workspace with slug 'nope'"
    assert done.stdout == ""
