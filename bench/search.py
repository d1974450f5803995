"""Manage Centres at 10,000 centres and ~30,000 users: how fast are its pages?

Seeds a throwaway database with `seed-demo --centres 10000`, serves it with
gunicorn, signs in as the demo admin and measures, interleaved in one run, the
search fragment, the centre details page (with its users table), the users table
fragment and the trivial /healthz; prints each median and p95, and its median as a multiple
of /healthz's. Run with `make bench` (BENCH_ROUNDS=300 by default;
BENCH_DATABASE_URL=postgresql+psycopg://... to measure on PostgreSQL).
"""

import os
import random
import sqlite3
import urllib.parse

from common import Browser, gunicorn, measure, report, seeded_database

CENTRES = 10_000
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "300"))
QUERIES = [
    "in0",
    "academy",
    "penalara",
    "london",
    "sakura",
    "GB00042",
    "école",
    "kolkata",
    "hillside college",
    "zz-no-match",
]


def centre_ids(env) -> list[int]:
    url = env["DATABASE_URL"]
    if url.startswith("sqlite:///"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as connection:
            return [row[0] for row in connection.execute("SELECT id FROM centres")]
    import sqlalchemy

    with sqlalchemy.create_engine(url).connect() as connection:
        return list(connection.execute(sqlalchemy.text("SELECT id FROM centres")).scalars())


def main() -> None:
    with seeded_database(CENTRES) as env:
        ids = centre_ids(env)
        rng = random.Random(7)
        picks = [rng.choice(ids) for _ in range(ROUNDS + 100)]
        with gunicorn(env) as port:
            browser = Browser(port)
            browser.sign_in("admin@example.com", "portal-demo-2026")
            fragment = {"HX-Request": "true"}

            def get(path, headers=None):
                return browser.request("GET", path, headers=headers)[0]

            requests = {
                "GET /healthz (trivial)": lambda i: get("/healthz"),
                "search fragment (htmx)": lambda i: get(
                    "/admin/centres?" + urllib.parse.urlencode({"q": QUERIES[i % len(QUERIES)]}),
                    {**fragment, "HX-Target": "search-results"},
                ),
                "centre details page": lambda i: get(f"/admin/centres/{picks[i]}"),
                "users table (htmx fragment)": lambda i: get(
                    f"/admin/centres/{picks[i]}/users", {**fragment, "HX-Target": "centre-users"}
                ),
            }
            timings = measure(requests, ROUNDS)
    print(f"\n{ROUNDS} rounds, {CENTRES:,} centres, gunicorn with 2 workers, one client:")
    report(timings, "GET /healthz (trivial)")


if __name__ == "__main__":
    main()
