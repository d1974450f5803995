"""Saving a release at scale: 30 resources to 10,000 entered centres, 300,000
authorisations, against a bare bulk insert of the same rows, in one run.

In-process (no HTTP): the save is what the Save button runs — plan_release (the
entries, every centre's window from its key time in its own zone) and save_release
(the Release, its resources, 300,000 authorisations in bulk, the Event), committed.
The floor is a Core bulk insert of the same 300,000 rows, committed. Rounds are
interleaved and the table emptied between them; medians.
Goal: saving ≤ 2× the bare insert. Run with `make bench`.
"""

import os
import statistics
import tempfile
import time

from entries import COMPONENTS, SERIES, build_app, seed
from sqlalchemy import delete, insert, select

ROUNDS = int(os.environ.get("BENCH_RELEASE_ROUNDS", "3"))


def seed_release_inputs(app, numbers: list[str]) -> list[int]:
    """Every centre entered for every component; one question paper per component."""
    from app.extensions import db
    from app.models import Centre, Entry, Resource

    with app.app_context():
        ids = dict(db.session.execute(select(Centre.number, Centre.id)).all())
        rows = [
            {"series": SERIES, "centre_id": ids[n], "syllabus": s, "component": c}
            for n in numbers
            for s, c in COMPONENTS
        ]
        for start in range(0, len(rows), 50_000):
            db.session.execute(insert(Entry), rows[start : start + 50_000])
        resources = [
            Resource(
                series=SERIES,
                syllabus=s,
                component=c,
                kind="question-paper",
                title=f"Paper {s}/{c}",
            )
            for s, c in COMPONENTS
        ]
        db.session.add_all(resources)
        db.session.commit()
        return [r.id for r in resources]


def clear(app) -> None:
    from app.extensions import db
    from app.models import Authorisation, Event, Release, ReleaseCentre, ReleaseResource

    with app.app_context():
        for model in (Authorisation, ReleaseCentre, ReleaseResource):
            db.session.execute(delete(model))
        db.session.execute(delete(Event).where(Event.action == "release.created"))
        db.session.execute(delete(Release))
        db.session.commit()


def save(app, resource_ids: list[int]) -> tuple[float, list[dict]]:
    from app.extensions import db
    from app.models import Authorisation
    from app.services.releases.planning import plan_release, save_release
    from app.services.releases.windows import WindowRule

    with app.app_context():
        started = time.perf_counter()
        plan = plan_release(SERIES, resource_ids, "entered", WindowRule())
        release = save_release(plan, title="bench", actor_id=None)
        db.session.commit()
        elapsed = time.perf_counter() - started
        rows = [
            dict(row._mapping)
            for row in db.session.execute(
                select(
                    Authorisation.release_id,
                    Authorisation.centre_id,
                    Authorisation.resource_id,
                    Authorisation.opens_at,
                    Authorisation.closes_at,
                ).where(Authorisation.release_id == release.id)
            )
        ]
        return elapsed, rows


def bare_insert(app, rows: list[dict]) -> float:
    """The same rows, straight in: the least a save can cost."""
    from app.extensions import db
    from app.models import Authorisation

    with app.app_context():
        started = time.perf_counter()
        for start in range(0, len(rows), 5_000):
            db.session.execute(insert(Authorisation.__table__), rows[start : start + 5_000])
        db.session.commit()
        return time.perf_counter() - started


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="portal-bench-releases-") as folder:
        app = build_app(folder)
        numbers = seed(app)
        resource_ids = seed_release_inputs(app, numbers)
        saves, bares = [], []
        rows: list[dict] = []
        for _ in range(ROUNDS):
            clear(app)
            seconds, rows = save(app, resource_ids)
            saves.append(seconds)
            release_id = rows[0]["release_id"]
            clear(app)
            from app.extensions import db
            from app.models import Release

            with app.app_context():  # the release the bare rows point at
                db.session.add(Release(id=release_id, series=SERIES, opens_days=3, opens_hours=0))
                db.session.commit()
            bares.append(bare_insert(app, rows))
        floor, saving = statistics.median(bares), statistics.median(saves)
        print(
            f"{len(numbers):,} centres, {len(resource_ids)} resources, {len(rows):,} "
            f"authorisations; {ROUNDS} rounds, medians"
        )
        print()
        print("| measure | median | ratio | goal |")
        print("|---|---|---|---|")
        print(f"| bare bulk insert of the rows (floor) | {floor:.2f} s | 1.0 | |")
        print(f"| plan and save the release | {saving:.2f} s | {saving / floor:.2f} × | ≤ 2 |")


if __name__ == "__main__":
    main()
