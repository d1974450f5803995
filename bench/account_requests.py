"""No enumeration by timing: "New user" and "Existing user" answer as fast for a
registered address (an email is queued and sent) as for an unknown one.

Served by gunicorn, sending to a real SMTP server (aiosmtpd) on loopback that
takes 200 ms over each email, as a distant one might. Each request is timed
until the server closes the connection, not only until the body has come:
a worker that talked to the mail server before closing would show here. The
requests alternate within each round, so all share the same conditions.
Prints medians and the ratio to an unknown address (1.0 means no difference).
"""

import asyncio
import os
import re
import socket
import urllib.parse

from aiosmtpd.controller import Controller
from common import Browser, free_port, gunicorn, measure, report, seeded_database

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "300"))
UNLIMITED = "1000000 per minute"


class SlowCountingSmtp:
    received = 0

    async def handle_DATA(self, server, session, envelope) -> str:
        await asyncio.sleep(0.2)
        SlowCountingSmtp.received += 1
        return "250 OK"


def main() -> None:
    smtp_port = free_port()
    smtp = Controller(SlowCountingSmtp(), hostname="127.0.0.1", port=smtp_port)
    smtp.start()
    try:
        with seeded_database(0) as env:
            env = {
                **env,
                "PORTAL_BASE_URL": "https://portal.example.org",
                "MAIL_SERVER": "127.0.0.1",
                "MAIL_PORT": str(smtp_port),
                "ACCOUNT_EMAIL_RATE_LIMIT": UNLIMITED,
                "ACCOUNT_EMAIL_ADDRESS_RATE_LIMIT": UNLIMITED,
            }
            with gunicorn(env) as port:
                timings = measure(requests(port), ROUNDS)
    finally:
        smtp.stop()
    print(
        f"\n{ROUNDS} rounds, gunicorn with 2 workers, one client; {SlowCountingSmtp.received:,} "
        "emails received by the SMTP server:"
    )
    report(timings, "New user: unknown address")


def requests(port: int) -> dict:
    browser = Browser(port)
    _, page, _ = browser.request("GET", "/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    cookie = "; ".join(f"{k}={v}" for k, v in browser.cookies.items())

    def ask(path: str, field: str, address: str) -> int:
        """POST on a new connection and read until the server closes it."""
        body = urllib.parse.urlencode({field: address, "csrf_token": token}).encode()
        head = (
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n"
            f"Cookie: {cookie}\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode()
        with socket.create_connection(("127.0.0.1", port)) as connection:
            connection.sendall(head + body)
            answer = b""
            while chunk := connection.recv(65536):
                answer += chunk
        return int(answer.split(b" ", 2)[1])

    return {
        "New user: unknown address": lambda i: ask(
            "/activate", "activate-email", f"nobody{i}@example.com"
        ),
        "New user: registered, not active": lambda i: ask(
            "/activate", "activate-email", "head.in301@example.com"
        ),
        "Existing user: unknown username": lambda i: ask(
            "/reset", "reset-username", f"nobody{i}@example.com"
        ),
        "Existing user: registered": lambda i: ask(
            "/reset", "reset-username", "exams.in301@example.com"
        ),
    }


if __name__ == "__main__":
    main()
