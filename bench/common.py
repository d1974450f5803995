"""Shared by the benchmarks: a throwaway portal served by gunicorn, and a timing loop.

Everything runs on this machine against loopback: the server is started here,
measured, and stopped; nothing else is contacted.
"""

import http.client
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def portal_env(database_url: str) -> dict:
    return {
        **os.environ,
        "PORTAL_ENV": "development",
        "SECRET_KEY": "bench-secret-key",
        "DATABASE_URL": database_url,
        "LOG_LEVEL": os.environ.get("BENCH_LOG_LEVEL", "WARNING"),
        "LOGIN_RATE_LIMIT": "1000 per minute",
    }


def flask(env: dict, *args: str) -> str:
    result = subprocess.run(
        [str(BIN / "flask"), "--app", "wsgi", *args],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return result.stdout


@contextmanager
def seeded_database(centres: int):
    """A new SQLite database (or BENCH_DATABASE_URL, emptied first) with the demo data."""
    with tempfile.TemporaryDirectory(prefix="portal-bench-") as folder:
        url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{folder}/bench.db"
        env = portal_env(url)
        if os.environ.get("BENCH_DATABASE_URL"):
            flask(env, "db", "downgrade", "base")
        flask(env, "db", "upgrade")
        started = time.perf_counter()
        flask(env, "seed-demo", "--centres", str(centres))
        seconds = time.perf_counter() - started
        print(f"seeded {centres:,} centres in {seconds:.1f} s ({url.split(':')[0]})")
        yield env


@contextmanager
def gunicorn(
    env: dict, workers: int = 2, master_pid: bool = False, app: str = "wsgi:app", cwd: Path = ROOT
):
    """Serve the portal (or another WSGI `app`, from `cwd`); yields the port (and the
    master's pid, when asked)."""
    port = free_port()
    server = subprocess.Popen(
        [
            str(BIN / "gunicorn"),
            "--workers",
            str(workers),
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            app,
        ],
        cwd=cwd,
        env=env,
    )
    try:
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                time.sleep(0.1)
        yield (port, server.pid) if master_pid else port
    finally:
        server.terminate()
        server.wait(timeout=30)


class Browser:
    """A keep-alive HTTP client with one cookie jar: enough to sign in and GET pages."""

    def __init__(self, port: int):
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.cookies: dict[str, str] = {}

    def request(
        self,
        method: str,
        path: str,
        body: str | None = None,
        headers: dict | None = None,
        text: bool = True,
    ) -> tuple[int, str | bytes, dict]:
        """(status, body as text — or bytes, with text=False — headers)."""
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        self.connection.request(method, path, body=body, headers=headers)
        response = self.connection.getresponse()
        content = response.read()
        for name, value in response.getheaders():
            if name.lower() == "set-cookie":
                key, _, rest = value.partition("=")
                self.cookies[key] = rest.split(";", 1)[0]
        return (
            response.status,
            content.decode() if text else content,
            dict(response.getheaders()),
        )

    def sign_in(self, email: str, password: str) -> None:
        _, page, _ = self.request("GET", "/login")
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        body = urllib.parse.urlencode(
            {"username": email, "password": password, "csrf_token": token}
        )
        status, _, headers = self.request("POST", "/login", body)
        if status != 302:
            raise SystemExit(f"sign-in as {email} failed with {status}")


def measure(named_requests: dict, rounds: int, warmup: int = 20) -> dict[str, list[float]]:
    """Run each request once per round, interleaved, so all share the same conditions."""
    timings: dict[str, list[float]] = {name: [] for name in named_requests}
    for round_number in range(warmup + rounds):
        for name, send in named_requests.items():
            started = time.perf_counter()
            status = send(round_number)
            elapsed = time.perf_counter() - started
            if status != 200:
                raise SystemExit(f"{name} answered {status}")
            if round_number >= warmup:
                timings[name].append(elapsed * 1000)
    return timings


def report(timings: dict[str, list[float]], baseline: str) -> None:
    base = statistics.median(timings[baseline])
    print(f"{'request':<34} {'median ms':>10} {'p95 ms':>8} {'× ' + baseline:>14}")
    for name, values in timings.items():
        median = statistics.median(values)
        p95 = statistics.quantiles(values, n=20)[-1]
        print(f"{name:<34} {median:>10.2f} {p95:>8.2f} {median / base:>14.1f}")
