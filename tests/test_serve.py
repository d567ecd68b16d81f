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
import uuid
from datetime import UTC
from pathlib import Path
from urllib.parse import unquote, urlencode

import pytest
from sqlalchemy import create_engine, select, text

from evalsurvey import create_app
from evalsurvey.config import ConfigError
from evalsurvey.domain.collecting import links as link_domain
from evalsurvey.domain.collecting.responses import network_hash, read_acknowledgement
from evalsurvey.extensions import db
from evalsurvey.models import LinkMode, Response
from tests.conftest import app_in_context, base_config
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
    def __init__(self, site: dict, port: int, workers: int = 2, timeout: int = 20):
        self.port = port
        self.log = open(site["log"], "ab")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [*SERVE, "--port", str(port), "--workers", str(workers), "--timeout", str(timeout)],
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


def _get(
    port: int, path: str, cookie: str = "", extra: dict | None = None
) -> tuple[int, dict, str]:
    """Status, headers (``Set-Cookie`` as the cookies to send back) and body."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request(
            "GET", path, headers={**({"Cookie": cookie} if cookie else {}), **(extra or {})}
        )
        resp = conn.getresponse()
        headers = dict(resp.getheaders())
        cookies = [v.split(";")[0] for k, v in resp.getheaders() if k.lower() == "set-cookie"]
        headers["Set-Cookie"] = "; ".join(cookies)
        return resp.status, headers, resp.read().decode()
    finally:
        conn.close()


def _post(
    port: int, path: str, fields: dict, cookie: str, extra: dict | None = None
) -> tuple[int, dict]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        body = urlencode(fields)
        conn.request("POST", path, body=body, headers={
            "Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie,
            **(extra or {})})  # fmt: skip
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
    # the first worker may answer before the second has booted on a busy machine
    deadline = time.time() + 20
    workers = server.workers()
    while len(workers) < 2 and time.time() < deadline:
        time.sleep(0.1)
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


# -- No log links a person to an answer ---------------------------------------------------

MEMBERS = ["张三", "李四", "王五", "赵六", "钱七", "孙八"]


def test_the_servers_log_joins_no_member_to_an_answer(site):
    """Six named members answer through their invitations (and a citizen through the QR
    code) on the real server; its whole output (access log, error log, the app's log) is
    then searched as the probe did: for the tokens, the link codes, the acknowledgements,
    the device cookies and the hashes, and for any respondent line timed finer than the
    hour that could be matched to an answer's ``submitted_at``."""
    uri = site["uri"]
    app = create_app({**base_config(uri, str(site["log"].parent)), "SQLALCHEMY_DATABASE_URI": uri})
    with app.app_context():
        link = make_link(group="member", mode=LinkMode.INVITE)
        invitations = link_domain.create_invitations(
            link, [{"name": n, "contact": f"m{i}@example.org"} for i, n in enumerate(MEMBERS)]
        )
        db.session.commit()
        named = {inv.token: (inv.name, inv.contact) for inv in invitations}
        secrets = [*named, link.code, site["code"], *(v for pair in named.values() for v in pair)]
        db.session.remove()
        db.engine.dispose()
    port = _free_port()
    server = Server(site, port)
    phone = {"User-Agent": "Mozilla/5.0 (member's phone)"}
    try:
        for n, token in enumerate(named):
            url = f"/i/{token}?from=mail"
            status, headers, html = _get(port, url, extra={**phone, "Referer": "http://mail/"})
            assert status == 200
            cookie = headers["Set-Cookie"]
            secrets += [c.split("=", 1)[1] for c in cookie.split("; ") if c.startswith("esd=")]
            fields = {**hidden_fields(html), "attitude": "4", "speed": str(1 + n % 5)}
            fields["comment"] = f"意见 {n}"
            status, headers = _post(port, url, fields, cookie, {**phone, "Referer": url})
            assert status == 303
            thanks = headers["Location"]
            secrets.append(unquote(re.search(r"k=([^&]+)", thanks).group(1)))
            assert _get(port, thanks, cookie, {**phone, "Referer": url})[0] == 200
            assert _get(port, url, cookie, phone)[0] == 410  # used: said so, logged alike
        assert _get(port, "/i/not-a-real-token")[0] == 404
        # a citizen through the QR code, in English
        status, headers, html = _get(port, f"/s/{site['code']}?lang=en", extra=phone)
        fields = {**hidden_fields(html), "attitude": "5", "speed": "5"}
        status, headers = _post(port, f"/s/{site['code']}", fields, headers["Set-Cookie"], phone)
        assert status == 303
        secrets.append(unquote(re.search(r"k=([^&]+)", headers["Location"]).group(1)))
    finally:
        server.stop()
    output = site["log"].read_text()
    with app.app_context():
        answers = db.session.execute(
            select(Response.submitted_at, Response.device, Response.network)
        ).all()
        db.session.remove()
        db.engine.dispose()
    assert len(answers) == len(MEMBERS) + 1
    secrets += [h for _when, device, network in answers for h in (device, network) if h]
    assert len(secrets) > 30
    found = [s for s in secrets if s in output]
    assert not found, f"the log holds what names a respondent: {found}"
    respondent = [line for line in output.splitlines() if re.search(r"/[isp]/", line)]
    assert len(respondent) >= 4 * len(MEMBERS) + 3  # every request was logged...
    for line in respondent:  # ...without the address, and to the hour at most
        assert "127.0.0.1" not in line and "phone" not in line and "mail" not in line
        assert all(t.endswith(":00:00") for t in re.findall(r"\d\d:\d\d:\d\d(?=[ \],.])", line)), (
            line
        )
    # the join itself: an answer's second, in the access log's or the error log's form
    for when, _device, _network in answers:
        local = (when if when.tzinfo else when.replace(tzinfo=UTC)).astimezone()
        for stamp in (f"{local:%d/%b/%Y:%H:%M:%S}", f"{local:%Y-%m-%d %H:%M:%S}"):
            assert not [line for line in respondent if stamp in line and ":00:00" not in stamp]
    # and the six members' posts are one and the same line
    posts = {re.sub(r"\[[^]]*\]", "", line) for line in respondent if '"POST /i/' in line}
    assert posts == {'- - -  "POST /i/* HTTP/1.1" 303 - "-" "-"'}


def test_a_worker_killed_mid_answer_logs_no_token(site):
    """A member's post whose body never arrives: gunicorn's master kills the worker at its
    timeout and the worker logs "Error handling request" with the request's address and a
    traceback — redacted, and timed to the hour."""
    uri = site["uri"]
    app = create_app({**base_config(uri, str(site["log"].parent)), "SQLALCHEMY_DATABASE_URI": uri})
    with app.app_context():
        link = make_link(group="member", mode=LinkMode.INVITE)
        token = link_domain.create_invitations(link, [{"name": "张三"}])[0].token
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    port = _free_port()
    server = Server(site, port, workers=1, timeout=2)
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=30) as stuck:
            stuck.sendall(
                f"POST /i/{token}?from=mail HTTP/1.1\r\nHost: x\r\n"
                "Content-Type: application/x-www-form-urlencoded\r\n"
                "Content-Length: 1000\r\n\r\nattitude=4".encode()
            )
            assert stuck.recv(1000).startswith(b"HTTP/1.1 500")  # killed, answered 500
        deadline = time.time() + 20
        while "Error handling request" not in site["log"].read_text() and time.time() < deadline:
            time.sleep(0.2)
    finally:
        server.stop()
    output = site["log"].read_text()
    assert "WORKER TIMEOUT" in output
    errors = [line for line in output.splitlines() if "Error handling request" in line]
    assert errors == [errors[0]] and "POST /i/*" in errors[0] and ":00:00 " in errors[0]
    assert token not in output and "from=mail" not in output and "张三" not in output


# -- Configuration traps: workers without Redis, proxies without a number -----------------


@pytest.fixture
def no_run(tmp_path, monkeypatch):
    """``evalsurvey serve`` up to the point where gunicorn would start (which it does not)."""
    from click.testing import CliRunner

    from evalsurvey.cli import main
    from evalsurvey.cli import serve as serve_module

    started = []
    monkeypatch.setattr(serve_module._Server, "run", lambda self: started.append(self.options))
    monkeypatch.setenv("EVALSURVEY_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("EVALSURVEY_DATABASE_URL", f"sqlite:///{tmp_path / 'w.sqlite3'}")
    monkeypatch.delenv("EVALSURVEY_REDIS_URL", raising=False)
    monkeypatch.delenv("EVALSURVEY_PROXIES", raising=False)
    # stated: Flask-Limiter keeps the last app's setting as the next one's default
    monkeypatch.setenv("EVALSURVEY_RATELIMIT_ENABLED", "true")
    runner = CliRunner()

    def serve(*args: str):
        started.clear()
        result = runner.invoke(main, ["serve", *args])
        return result, bool(started)

    return serve


def test_serve_refuses_workers_that_would_count_the_limits_alone(no_run, monkeypatch):
    """Several workers with counters in memory let each allow the whole limit (4 workers let
    one phone post 19 of 5): refused, saying what to do."""
    several, started = no_run("--workers", "3")
    assert several.exit_code == 2 and not started
    assert "3 workers without EVALSURVEY_REDIS_URL" in several.output
    assert "--workers 1" in several.output and "Traceback" not in several.output
    assert no_run()[0].exit_code == 2  # the default (from the cores) is several too
    one, started = no_run("--workers", "1")
    assert one.exit_code == 0 and started and not one.output
    monkeypatch.setenv("EVALSURVEY_REDIS_URL", "redis://127.0.0.1:6379/15")
    result, started = no_run("--workers", "3")
    assert result.exit_code == 0 and started and "error" not in result.output
    # with the limits switched off there is nothing to share
    monkeypatch.delenv("EVALSURVEY_REDIS_URL")
    monkeypatch.setenv("EVALSURVEY_RATELIMIT_ENABLED", "false")
    assert no_run("--workers", "3")[1]


@pytest.mark.parametrize("value", ["true", "yes", "on", "1.5", "-1", "", "one", "[1]"])
def test_proxies_without_a_number_of_hops_are_refused(no_run, monkeypatch, tmp_path, value):
    monkeypatch.setenv("EVALSURVEY_PROXIES", value)
    result, started = no_run("--workers", "1")
    assert result.exit_code == 2 and not started
    assert "EVALSURVEY_PROXIES" in result.output and "number" in result.output
    assert "Traceback" not in result.output
    with pytest.raises(ConfigError):  # the application itself refuses it too
        create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})


def test_every_command_refuses_proxies_without_a_number_plainly(no_run, monkeypatch):
    from click.testing import CliRunner

    from evalsurvey.cli import main

    monkeypatch.setenv("EVALSURVEY_PROXIES", "true")
    result = CliRunner().invoke(main, ["info"])
    assert result.exit_code == 2 and "EVALSURVEY_PROXIES=True states no number" in result.output
    assert "Traceback" not in result.output


def test_proxies_with_a_number_say_what_a_public_bind_means(no_run, monkeypatch):
    monkeypatch.setenv("EVALSURVEY_PROXIES", "1")
    private, started = no_run("--workers", "1")  # 127.0.0.1 by default
    assert private.exit_code == 0 and started and "warning" not in private.output
    assert "warning" not in no_run("--workers", "1", "--host", "10.1.2.3")[0].output
    wildcard, started = no_run("--workers", "1", "--host", "0.0.0.0")
    assert started and "reaches this port directly" in wildcard.output
    monkeypatch.setenv("EVALSURVEY_PROXIES", "0")
    assert "warning" not in no_run("--workers", "1", "--host", "0.0.0.0")[0].output


@pytest.fixture
def behind_proxy(database_url, tmp_path):
    """An app behind one proxy (nginx), with the limits on: 3 posts per network."""
    config = {
        **base_config(database_url, str(tmp_path)),
        "RATELIMIT_ENABLED": True,
        "RATELIMIT_KEY_PREFIX": f"proxy-{uuid.uuid4().hex}",
        "RATE_LIMIT_NETWORK": "3 per minute",
        "PROXIES": 1,
    }
    yield from app_in_context(database_url, config)


def test_a_spoofed_forwarded_for_does_not_choose_the_address_the_limits_count(behind_proxy):
    """A script behind nginx writes a new X-Forwarded-For on every post; nginx appends the
    address it saw, and that last entry (one hop) is the one counted: held after 3."""
    link = make_link()
    nginx = {"REMOTE_ADDR": "10.0.0.2"}
    statuses = []
    for n in range(5):
        phone = behind_proxy.test_client()  # no cookies: a new "device" each time
        spoofed = {"X-Forwarded-For": f"198.51.{n}.{n + 1}, 203.0.113.7"}
        page = phone.get(f"/s/{link.code}", environ_base=nginx, headers=spoofed)
        fields = {**hidden_fields(page.get_data(as_text=True)), "attitude": "5", "speed": "4"}
        post = phone.post(f"/s/{link.code}", data=fields, environ_base=nginx, headers=spoofed)
        statuses.append(post.status_code)
    assert statuses == [303, 303, 303, 429, 429]
    networks = set(db.session.scalars(select(Response.network)))
    assert networks == {network_hash("test-salt", "203.0.113.7")}
    # without the proxy's entry (a client that reached the app directly) it is its own address
    direct = behind_proxy.test_client()
    page = direct.get(f"/s/{link.code}", environ_base={"REMOTE_ADDR": "192.0.2.9"})
    fields = {**hidden_fields(page.get_data(as_text=True)), "attitude": "5", "speed": "4"}
    direct.post(f"/s/{link.code}", data=fields, environ_base={"REMOTE_ADDR": "192.0.2.9"})
    assert network_hash("test-salt", "192.0.2.9") in set(
        db.session.scalars(select(Response.network))
    )
