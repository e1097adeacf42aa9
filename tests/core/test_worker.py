"""Background jobs end to end, with a real Celery worker process.

- On PostgreSQL with Redis (and with RabbitMQ, when it answers): the test
  enqueues through the real API and a worker subprocess, reading the same test
  database, runs the job. Skipped elsewhere, but `SAMPHAN_REQUIRE_WORKER=1`
  (set by `make test-pg`) turns a missing Redis or a worker that does not
  start into a failure.
- The embedded default (kombu's filesystem transport, SQLite in WAL mode) runs
  everywhere: a web server and a worker, both subprocesses, in a temporary
  SAMPHAN_VAR_DIR — exactly what `make demo` starts.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection

from config.celery import app as celery_app
from samphan.core.models import Job
from tests.factories import CustomerFactory, OrderFactory

pytestmark = pytest.mark.worker

REPO = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("SAMPHAN_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
AMQP_URL = os.environ.get("SAMPHAN_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672//")
JOB_TIMEOUT = float(os.environ.get("SAMPHAN_TEST_JOB_TIMEOUT", "90"))
# Variables that would point a subprocess at the developer's own database or broker.
_ISOLATED_VARS = ("DATABASE_URL", "CELERY_BROKER_URL", "CACHE_URL", "CELERY_TASK_ALWAYS_EAGER",
                  "WORKER_QUEUES", "PORT")


def _unavailable(reason: str) -> None:
    if os.environ.get("SAMPHAN_REQUIRE_WORKER") == "1":
        pytest.fail(f"SAMPHAN_REQUIRE_WORKER=1 but {reason}")
    pytest.skip(reason)


def _subprocess_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _ISOLATED_VARS}
    env.update(PYTHONUNBUFFERED="1", DJANGO_SETTINGS_MODULE="config.settings", **extra)
    return env


def _samphan(*args: str) -> list[str]:
    return [sys.executable, "-m", "samphan.cli", *args]


def _session_members(session_id: int) -> list[int]:
    """Pids still alive in a process session (Linux /proc): what would be orphans."""
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        # after "pid (comm)": state ppid pgrp session ...
        if int(fields[3]) == session_id and fields[0] != "Z":
            pids.append(int(stat.parent.name))
    return pids


class Process:
    """A subprocess in its own session, logged to a file, stopped cleanly."""

    def __init__(self, args: list[str], *, env: dict[str, str], log: Path, cwd: Path = REPO) -> None:
        self.log = log
        self._log_file = log.open("wb")
        self.popen = subprocess.Popen(args, cwd=cwd, env=env, stdout=self._log_file,
                                      stderr=subprocess.STDOUT, start_new_session=True)

    def alive(self) -> bool:
        return self.popen.poll() is None

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self, timeout: float = 30) -> list[int]:
        """SIGTERM (Celery's warm shutdown), SIGKILL to the group after `timeout`.

        Returns the pids that outlived the parent (and kills them), so a test can
        assert that none were left behind.
        """
        if self.alive():
            self.popen.terminate()
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(10)
        leftovers = []
        if Path("/proc/self/stat").exists():
            deadline = time.monotonic() + 5  # pool children exit just after the parent
            while (leftovers := _session_members(self.popen.pid)) and time.monotonic() < deadline:
                time.sleep(0.1)
            if leftovers:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.popen.pid, signal.SIGKILL)
        self._log_file.close()
        return leftovers


def _database_url(settings_dict: dict) -> str:
    user = quote(settings_dict.get("USER") or "", safe="")
    password = settings_dict.get("PASSWORD") or ""
    auth = user + (f":{quote(password, safe='')}" if password else "")
    host = settings_dict.get("HOST") or ""
    port = f":{settings_dict['PORT']}" if settings_dict.get("PORT") else ""
    return f"postgres://{auth}@{host}{port}/{quote(settings_dict['NAME'], safe='')}"


@contextlib.contextmanager
def _celery_producer(*, broker_url: str, queue: str):
    """Make this test process a real producer (not eager) on `broker_url`, sending to `queue`.

    tests/conftest.py switches every test to eager mode; the AMQP object and the
    connection pool are cached on the app, so they are swapped out and restored.
    """
    conf = celery_app.conf
    keys = ("task_always_eager", "broker_url", "broker_write_url", "task_default_queue",
            "broker_transport_options")
    saved_conf = {key: conf.get(key) for key in keys}
    saved_amqp = celery_app.__dict__.pop("amqp", None)
    saved_pool, celery_app._pool = celery_app._pool, None
    conf.update(task_always_eager=False, broker_url=broker_url, broker_write_url=broker_url,
                task_default_queue=queue, broker_transport_options={})
    try:
        yield
    finally:
        if celery_app._pool is not None:
            celery_app._pool.force_close_all()
        celery_app.__dict__.pop("amqp", None)
        if saved_amqp is not None:
            celery_app.__dict__["amqp"] = saved_amqp
        celery_app._pool = saved_pool
        conf.update(saved_conf)


def _wait_for_job(fetch, *, workers: list[Process], timeout: float = JOB_TIMEOUT) -> dict:
    """Poll until the job has finished; fail with the processes' logs if it does not."""
    deadline = time.monotonic() + timeout
    body: dict = {}
    while time.monotonic() < deadline:
        body = fetch()
        if body.get("status") in ("succeeded", "failed"):
            return body
        for proc in workers:
            if not proc.alive():
                pytest.fail(f"{proc.popen.args[3]} exited with {proc.popen.returncode}:\n{proc.output()[-4000:]}")
        time.sleep(0.2)
    logs = "\n".join(f"--- {p.popen.args[3]}\n{p.output()[-4000:]}" for p in workers)
    pytest.fail(f"job not finished after {timeout}s (last: {body}).\n{logs}")


def _redis_broker() -> tuple[str, object]:
    """Redis is required under SAMPHAN_REQUIRE_WORKER=1; returns (url, cleanup)."""
    try:
        import redis

        client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
        client.ping()
    except Exception as exc:
        _unavailable(f"Redis is not answering at {REDIS_URL}: {exc}")

    def cleanup(queue: str) -> None:
        for key in client.scan_iter(match=f"*{queue}*"):
            client.delete(key)

    return REDIS_URL, cleanup


def _amqp_broker() -> tuple[str, object]:
    """RabbitMQ is optional everywhere: skipped when it does not answer."""
    from kombu import Connection

    try:
        with Connection(AMQP_URL, connect_timeout=2) as conn:
            conn.ensure_connection(max_retries=1)
    except Exception as exc:
        pytest.skip(f"RabbitMQ is not answering at {AMQP_URL}: {exc}")

    def cleanup(queue: str) -> None:
        with Connection(AMQP_URL, connect_timeout=2) as conn:
            channel = conn.default_channel
            channel.queue_delete(queue)
            channel.exchange_delete(queue)

    return AMQP_URL, cleanup


@pytest.mark.parametrize("broker", ["redis", "rabbitmq"])
@pytest.mark.django_db(transaction=True)
def test_census_job_runs_on_a_real_worker(broker, tmp_path, workspace, other_workspace, owner_token):
    """POST /api/jobs/census → broker → worker process → PostgreSQL → GET /api/jobs/{id}."""
    if connection.vendor != "postgresql":
        pytest.skip("the worker shares the test database only on PostgreSQL (make test-pg)")
    broker_url, broker_cleanup = _redis_broker() if broker == "redis" else _amqp_broker()

    for customer in CustomerFactory.create_batch(3, workspace=workspace):
        OrderFactory(customer=customer)
    CustomerFactory.create_batch(2, workspace=other_workspace)  # must not be counted

    queue = f"samphan-test-{uuid.uuid4().hex[:12]}"
    env = _subprocess_env(
        DATABASE_URL=_database_url(connection.settings_dict),
        CELERY_BROKER_URL=broker_url,
        SAMPHAN_VAR_DIR=str(tmp_path / "var"),
    )
    worker = Process(
        _samphan("worker", "--concurrency", "1", "--pool", "solo", "--queues", queue,
                 "--hostname", f"{queue}@%h"),
        env=env, log=tmp_path / "worker.log",
    )
    from django.test import Client

    api = Client(headers={"Authorization": f"Bearer {owner_token}"})
    try:
        with _celery_producer(broker_url=broker_url, queue=queue):
            response = api.post("/api/jobs/census")
            assert response.status_code == 202, response.content
            created = response.json()
            assert created["status"] == "queued"
            job = _wait_for_job(lambda: api.get(f"/api/jobs/{created['id']}").json(), workers=[worker])
    finally:
        leftovers = worker.stop()
        broker_cleanup(queue)

    assert job["status"] == "succeeded", job
    counts = job["result"]["counts"]
    assert counts["customers.customer"] == 3
    assert counts["commerce.order"] == 3
    assert counts["core.auditevent"] == 1  # the token's creation
    assert "core.job" not in counts
    assert job["progress"] == job["total"] == len(counts)
    assert job["percent"] == 100
    assert Job.objects.get(pk=created["id"]).started_at is not None
    assert re.search(r"Task core\.workspace_census\[[-0-9a-f]+\] succeeded", worker.output())
    assert leftovers == [], f"worker processes left behind: {leftovers}"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _http_json(method: str, url: str, token: str) -> tuple[int, dict]:
    request = urllib.request.Request(url, method=method, headers={"Authorization": f"Bearer {token}"})  # noqa: S310 - http://127.0.0.1 only
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def test_embedded_default_runs_a_job_with_a_real_worker(tmp_path):
    """The demo's setup: SQLite file + filesystem broker under SAMPHAN_VAR_DIR, web server + worker."""
    var = tmp_path / "var"
    cwd = tmp_path / "cwd"  # nothing may be written outside SAMPHAN_VAR_DIR
    cwd.mkdir()
    env = _subprocess_env(SAMPHAN_VAR_DIR=str(var))

    def cli(*args: str, stdin: str | None = None) -> str:
        done = subprocess.run(_samphan(*args), cwd=cwd, env=env, input=stdin, capture_output=True,
                              text=True, timeout=120)
        assert done.returncode == 0, f"samphan {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
        return done.stdout

    cli("migrate", "--verbosity", "0")
    cli("workspaces", "create", "baan-suan", "--name", "บ้านสวนคอฟฟี่ · Baan Suan Coffee")
    cli("users", "create", "owner@example.com", "--workspace", "baan-suan", "--role", "owner",
        "--password-stdin", stdin="correct-horse-battery\n")
    token = json.loads(cli("tokens", "create", "owner@example.com", "--workspace", "baan-suan", "--json"))["token"]

    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    # Same invocation as `samphan demo`: prefork pool, one child.
    worker = Process(_samphan("worker", "--concurrency", "1"), env=env, log=tmp_path / "worker.log",
                     cwd=cwd)
    server = Process(_samphan("serve", "--port", str(port), "--workers", "1"), env=env,
                     log=tmp_path / "serve.log", cwd=cwd)
    try:
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(OSError):
                urllib.request.urlopen(f"{base}/healthz", timeout=2).close()  # noqa: S310
                break
            if time.monotonic() > deadline or not server.alive():
                pytest.fail(f"web server did not start:\n{server.output()[-4000:]}")
            time.sleep(0.2)

        status, created = _http_json("POST", f"{base}/api/jobs/census", token)
        assert status == 202, created
        job = _wait_for_job(lambda: _http_json("GET", f"{base}/api/jobs/{created['id']}", token)[1],
                            workers=[worker, server])
    finally:
        server_leftovers = server.stop()
        worker_leftovers = worker.stop()

    assert job["status"] == "succeeded", job
    counts = job["result"]["counts"]
    assert counts["customers.customer"] == 0
    assert counts["core.auditevent"] == 3  # workspace, membership and token creation
    assert job["percent"] == 100
    assert re.search(r"Task core\.workspace_census\[[-0-9a-f]+\] succeeded", worker.output())
    assert list((var / "celery" / "queue").iterdir()) == [], "the message was not consumed"
    assert worker_leftovers == []
    assert server_leftovers == []
    assert list(cwd.iterdir()) == [], "files written to the working directory instead of var/"
