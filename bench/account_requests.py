"""No enumeration by timing: "New user" and "Existing user" answer as fast for a
registered address (an email is queued and sent) as for an unknown one.

Served by gunicorn, sending to a real SMTP server (aiosmtpd) on loopback. The
requests alternate within each round, so both kinds share the same conditions.
Prints medians and the ratio registered / unknown (1.0 means no difference).
"""

import os
import re
import urllib.parse

from aiosmtpd.controller import Controller
from common import Browser, free_port, gunicorn, measure, report, seeded_database

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "300"))
UNLIMITED = "1000000 per minute"


class CountingSmtp:
    received = 0

    async def handle_DATA(self, server, session, envelope) -> str:
        CountingSmtp.received += 1
        return "250 OK"


def main() -> None:
    smtp_port = free_port()
    smtp = Controller(CountingSmtp(), hostname="127.0.0.1", port=smtp_port)
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
                timings = measure(requests(Browser(port)), ROUNDS)
    finally:
        smtp.stop()
    print(
        f"\n{ROUNDS} rounds, gunicorn with 2 workers, one client; {CountingSmtp.received:,} "
        "emails received by the SMTP server:"
    )
    report(timings, "New user: unknown address")


def requests(browser: Browser) -> dict:
    _, page, _ = browser.request("GET", "/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)

    def ask(path: str, field: str, address: str):
        body = urllib.parse.urlencode({field: address, "csrf_token": token})
        return browser.request("POST", path, body)[0]

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
