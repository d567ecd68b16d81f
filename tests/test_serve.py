"""The production server (``evalsurvey serve``, gunicorn) on a real socket: a health check,
no orphan holding the port after its master is killed, and zero loss — every acknowledged
response stored exactly once while workers are SIGKILLed and the whole server restarted."""

from __future__ import annotations

import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import unquote, urlencode

import pytest
from sqlalchemy import create_engine, text

from evalsurvey import create_app
from evalsurvey.domain.responses import read_acknowledgement
from evalsurvey.extensions import db
from tests.conftest import base_config
from tests.factories import hidden_fields, make_link

SERVE = [sys.executable, "-c", "from evalsurvey.cli import main; main()", "serve"]
SECRET_KEY = "serve-test-secret"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def site(tmp_path):
    """A SQLite instance with one open citizens' link; the server's environment."""
    uri = f"sqlite:///{tmp_path / 'serve.sqlite3'}"
    env = {
        **os.environ,
        "EVALSURVEY_INSTANCE_PATH": str(tmp_path),
        "EVALSURVEY_DATABASE_URL": uri,
        "EVALSURVEY_SECRET_KEY": SECRET_KEY,
        "EVALSURVEY_DEVICE_SALT": "serve-test-salt",
        "EVALSURVEY_RATELIMIT_ENABLED": "false",  # this test is about storage, not limits
    }
    subprocess.run([*SERVE[:3], "db", "upgrade"], env=env, check=True, capture_output=True)
    app = create_app({**base_config(uri, str(tmp_path)), "SQLALCHEMY_DATABASE_URI": uri})
    with app.app_context():
        code = make_link().code
        db.session.remove()
        db.engine.dispose()
    return {"env": env, "uri": uri, "code": code, "log": tmp_path / "server.log"}


class Server:
    def __init__(self, site: dict, port: int, workers: int = 2):
        self.port = port
        self.log = open(site["log"], "ab")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [*SERVE, "--port", str(port), "--workers", str(workers), "--timeout", "20"],
            env=site["env"],
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                if _get(port, "/healthz")[0] == 200:
                    return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise AssertionError("the server did not come up: " + Path(site["log"]).read_text())

    def workers(self) -> list[int]:
        children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children")
        return [int(p) for p in children.read_text().split()] if children.exists() else []

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)
        self.log.close()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(30)
        self.log.close()


def _get(port: int, path: str, cookie: str = "") -> tuple[int, dict, str]:
    """Status, headers (``Set-Cookie`` as the cookies to send back) and body."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path, headers={"Cookie": cookie} if cookie else {})
        resp = conn.getresponse()
        headers = dict(resp.getheaders())
        cookies = [v.split(";")[0] for k, v in resp.getheaders() if k.lower() == "set-cookie"]
        headers["Set-Cookie"] = "; ".join(cookies)
        return resp.status, headers, resp.read().decode()
    finally:
        conn.close()


def _post(port: int, path: str, fields: dict, cookie: str) -> tuple[int, dict]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        body = urlencode(fields)
        conn.request("POST", path, body=body, headers={
            "Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie})  # fmt: skip
        resp = conn.getresponse()
        resp.read()
        return resp.status, dict(resp.getheaders())
    finally:
        conn.close()


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def test_health_check_and_no_orphan_keeps_the_port(site):
    port = _free_port()
    server = Server(site, port)
    status, _headers, body = _get(port, "/healthz")
    assert status == 200 and '"database":"ok"' in body.replace(" ", "")
    workers = server.workers()
    assert len(workers) == 2
    server.kill()  # the master only: its workers must not live on holding the port
    deadline = time.time() + 5
    while time.time() < deadline and not _port_free(port):
        time.sleep(0.1)
    assert _port_free(port), "orphaned workers still hold the port"
    # they end too (a busy CI machine may take a moment to run their graceful exit)
    deadline = time.time() + 10
    while time.time() < deadline and [w for w in workers if _alive(w)]:
        time.sleep(0.1)
    assert not [w for w in workers if _alive(w)]


def _alive(pid: int) -> bool:
    """Running (a zombie waiting for its new parent to reap it is not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state not in ("Z", "X")


def _respondent(port_of, code: str, acknowledged: list, stop: threading.Event) -> None:
    """Fresh phone after fresh phone: open, answer, post; on any failure post the same page
    again (same ticket, same submission key) until it is acknowledged."""
    while not stop.is_set():
        try:
            status, headers, html = _get(port_of(), f"/s/{code}")
        except (OSError, http.client.HTTPException):  # refused, reset, or cut mid-answer
            time.sleep(0.1)
            continue
        if status != 200:
            time.sleep(0.1)
            continue
        cookie = headers["Set-Cookie"]
        fields = {**hidden_fields(html), "attitude": "4", "speed": "5"}
        for _attempt in range(200):
            try:
                status, headers = _post(port_of(), f"/s/{code}", fields, cookie)
                if status == 303:
                    # the thank-you address carries the key, signed after it was stored
                    token = unquote(re.search(r"k=([^&]+)", headers["Location"]).group(1))
                    acknowledged.append(read_acknowledgement(SECRET_KEY, code, token))
                    break
            except (OSError, http.client.HTTPException):  # the worker died mid-answer: again
                pass
            time.sleep(0.05)
        else:
            raise AssertionError("a response was never acknowledged")


def test_every_acknowledged_response_is_stored_once_through_kills_and_a_restart(site):
    port = _free_port()
    server = Server(site, port)
    acknowledged: list[str] = []
    stop = threading.Event()
    clients = [
        threading.Thread(target=_respondent, args=(lambda: port, site["code"], acknowledged, stop))
        for _ in range(6)
    ]
    for c in clients:
        c.start()
    time.sleep(1.5)
    for worker in server.workers()[:1]:
        os.kill(worker, signal.SIGKILL)  # a worker dies mid-flight; the master replaces it
    time.sleep(1.5)
    server.kill()  # the whole server goes down...
    while not _port_free(port):
        time.sleep(0.05)
    server = Server(site, port)  # ...and comes back
    time.sleep(2.0)
    stop.set()
    for c in clients:
        c.join(60)
    server.stop()
    engine = create_engine(site["uri"])
    with engine.connect() as conn:
        stored = [k for (k,) in conn.execute(text("SELECT submission_key FROM responses"))]
    engine.dispose()
    assert len(acknowledged) > 20  # the run did real work
    assert sorted(stored) == sorted(set(acknowledged))  # all stored, nothing extra
    assert len(stored) == len(set(stored))  # once each


def test_serve_warns_when_its_workers_would_count_the_limits_alone(tmp_path, monkeypatch):
    """Several workers with counters in memory let each allow the whole limit: said at once."""
    from click.testing import CliRunner

    from evalsurvey.cli import main
    from evalsurvey.cli import serve as serve_module

    monkeypatch.setattr(serve_module._Server, "run", lambda self: None)  # no real server
    monkeypatch.setenv("EVALSURVEY_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("EVALSURVEY_DATABASE_URL", f"sqlite:///{tmp_path / 'w.sqlite3'}")
    monkeypatch.delenv("EVALSURVEY_REDIS_URL", raising=False)
    runner = CliRunner()
    several = runner.invoke(main, ["serve", "--workers", "3"])
    assert several.exit_code == 0 and "3 workers without EVALSURVEY_REDIS_URL" in several.output
    assert "warning" not in runner.invoke(main, ["serve", "--workers", "1"]).output
    monkeypatch.setenv("EVALSURVEY_REDIS_URL", "redis://127.0.0.1:6379/15")
    assert "warning" not in runner.invoke(main, ["serve", "--workers", "3"]).output
