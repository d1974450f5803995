"""Changing a saved release: Edit window and Add centres.

Each is worked out first without writing anything (what would move, what would be
added, what blocks it), shown to the admin, then saved from the same inputs worked
out again; the page's fingerprint says whether what is saved is what was shown.
An open window moves only if the admin says so. Flushes, never commits.
"""

import hashlib
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

from app.extensions import db
from app.models import Authorisation, Release, ReleaseCentre, ReleaseResource
from app.services.audit import record_event, refuse_stale_edit
from app.services.clock import utcnow
from app.services.errors import DomainError
from app.services.releases import notices
from app.services.releases.planning import (
    ReleasePlan,
    centre_places,
    insert_authorisations,
    plan_release,
)
from app.services.releases.recompute import move_windows, rework, rule_of
from app.services.releases.windows import WindowRule
from app.services.timetable.instants import TZ_DATABASE_VERSION

SHOWN = 200  # centres listed by name on a preview; the rest are counted


class ChangeRefused(DomainError):
    """The change cannot be saved; str() says why."""


@dataclass(frozen=True)
class CentreMove:
    centre_id: int
    opens_at: datetime  # its first opening now
    new_opens_at: datetime  # and under the new rule
    closes_at: datetime  # its last closing now
    new_closes_at: datetime


@dataclass
class WindowChange:
    rule: WindowRule
    moves: list[dict] = field(default_factory=list)  # not yet open
    open_moves: list[dict] = field(default_factory=list)  # open now
    blocked: dict[int, str] = field(default_factory=dict)  # centre id → why no window
    unchanged: int = 0
    closed: int = 0  # closed windows: history, never moved
    _centres: dict[int, list] = field(default_factory=dict)  # centre → [o, no, c, nc, open?]

    def centre_moves(self, open_now: bool) -> list[CentreMove]:
        """The centres whose windows move (those open now, or not yet open)."""
        return [
            CentreMove(centre_id, *found[:4])
            for centre_id, found in self._centres.items()
            if found[4] == open_now
        ]

    @property
    def centres(self) -> set[int]:
        """Every centre with a window that would change (open now or not)."""
        return set(self._centres)

    @property
    def fingerprint(self) -> str:
        digest = hashlib.sha256()
        rule = self.rule
        digest.update(
            repr(
                (rule.opens_days, rule.opens_hours, rule.opens_at, rule.closes_at)
                + tuple(sorted(self.blocked.items()))
            ).encode()
        )
        for move in sorted(self.moves + self.open_moves, key=lambda m: m["id_"]):
            digest.update(
                f"{move['id_']},{move['new_opens'].isoformat()},"
                f"{move['new_closes'].isoformat()};".encode()
            )
        return digest.hexdigest()


def plan_window_change(release: Release, rule: WindowRule, now: datetime) -> WindowChange:
    """What giving `release` the window `rule` would do to its authorisations."""
    change = WindowChange(rule)
    for row in rework(release.series, {release.id: rule}):
        if row.closes_at <= now:
            change.closed += 1
            continue
        if row.window is None:
            change.blocked.setdefault(row.centre_id, row.why_none)
            continue
        if row.window == (row.opens_at, row.closes_at):
            change.unchanged += 1
            continue
        is_open = row.opens_at <= now
        move = {"id_": row.id, "new_opens": row.window[0], "new_closes": row.window[1]}
        (change.open_moves if is_open else change.moves).append(move)
        found = change._centres.get(row.centre_id)
        if found is None:
            change._centres[row.centre_id] = [
                row.opens_at,
                row.window[0],
                row.closes_at,
                row.window[1],
                is_open,
            ]
        else:
            found[0] = min(found[0], row.opens_at)
            found[1] = min(found[1], row.window[0])
            found[2] = max(found[2], row.closes_at)
            found[3] = max(found[3], row.window[1])
            found[4] = found[4] or is_open
    return change


def save_window_change(
    release: Release,
    change: WindowChange,
    *,
    read_version: int | None,
    move_open: bool,
    opens_zone: str,
    closes_zone: str,
) -> None:
    """Give `release` the new rule and move its windows; those open now only if
    `move_open`."""
    if release.is_cancelled:
        raise ChangeRefused("This release is cancelled: its windows can no longer change.")
    refuse_stale_edit(release, read_version, "release")
    if change.blocked:
        raise ChangeRefused(
            f"No window can be worked out under this rule for {len(change.blocked):,} "
            "centre(s): correct their key times, choose fixed moments, or remove them "
            "from the release first."
        )
    before = _rule_words(release)
    rule = change.rule
    release.opens_days = rule.opens_days if rule.opens_at is None else None
    release.opens_hours = rule.opens_hours if rule.opens_at is None else None
    release.opens_at_fixed = rule.opens_at
    release.closes_at_fixed = rule.closes_at
    release.opens_zone, release.closes_zone = opens_zone, closes_zone
    release.tz_version = TZ_DATABASE_VERSION
    db.session.flush()
    moves = change.moves + (change.open_moves if move_open else [])
    move_windows(moves)
    # Every centre with a window that changes: its pending notices are worded again
    # from its windows as they are now (those left open are worded as they were).
    notices.windows_moved(release.id, change.centres)
    record_event(
        "release.window_changed",
        subject=release,
        details={
            "before": before,
            "after": _rule_words(release),
            "moved": len(moves),
            "open_moved": len(change.open_moves) if move_open else 0,
            "open_left": 0 if move_open else len(change.open_moves),
        },
    )


def _rule_words(release: Release) -> dict:
    return {
        "opens_days": release.opens_days,
        "opens_hours": release.opens_hours,
        "opens_at": release.opens_at_fixed.isoformat() if release.opens_at_fixed else None,
        "closes_at": release.closes_at_fixed.isoformat() if release.closes_at_fixed else None,
    }


# Add centres


@dataclass
class Addition:
    plan: ReleasePlan  # its targets: only the new (centre, resource) pairs
    already: list[int]  # centres already in the release with every resource

    @property
    def fingerprint(self) -> str:
        digest = hashlib.sha256(repr(sorted(self.plan.blocked.items())).encode())
        for t in sorted(self.plan.targets):
            digest.update(f"{t.centre_id},{t.resource_id},{t.opens_at},{t.closes_at};".encode())
        return digest.hexdigest()


def plan_added_centres(release: Release, centre_ids: list[int]) -> Addition:
    """What adding `centre_ids` to `release` would authorise: every resource of the
    release, with the release's window rule, for each centre not already given it."""
    resource_ids = list(
        db.session.scalars(
            select(ReleaseResource.resource_id).where(ReleaseResource.release_id == release.id)
        )
    )
    plan = plan_release(release.series, resource_ids, "chosen", rule_of(release), centre_ids)
    held = set(
        db.session.execute(
            select(Authorisation.centre_id, Authorisation.resource_id).where(
                Authorisation.release_id == release.id,
                Authorisation.centre_id.in_(plan.chosen),
            )
        ).all()
    )
    plan.targets = [t for t in plan.targets if (t.centre_id, t.resource_id) not in held]
    for centre_id in {c for c, _ in held}:
        plan.blocked.pop(centre_id, None)  # in the release already: nothing to work out
    new = {t.centre_id for t in plan.targets}
    already = sorted({c for c, _ in held} - new)
    return Addition(plan, already)


def add_centres(release: Release, addition: Addition, *, read_version: int | None) -> set[int]:
    """Authorise the addition's centres; they are listed on the release as added.
    Returns the centres added."""
    if release.is_cancelled:
        raise ChangeRefused("This release is cancelled: no centre can be added to it.")
    refuse_stale_edit(release, read_version, "release")
    plan = addition.plan
    if plan.blocked:
        raise ChangeRefused(
            f"No window can be worked out for {len(plan.blocked):,} of these centre(s): "
            "correct their key times or take them off the list."
        )
    if not plan.targets:
        raise ChangeRefused("These centres are in the release already: nothing to add.")
    insert_authorisations(release.id, plan.targets)
    added = {t.centre_id for t in plan.targets}
    listed = {
        row.centre_id: row
        for row in db.session.scalars(
            select(ReleaseCentre).where(
                ReleaseCentre.release_id == release.id,
                ReleaseCentre.centre_id.in_(sorted(added)),
            )
        )
    }
    for centre_id in added:
        row = listed.get(centre_id)
        if row is None:
            db.session.add(
                ReleaseCentre(release_id=release.id, centre_id=centre_id, role="added", reason="")
            )
        else:
            row.role, row.reason = "added", ""
    release.updated_at = utcnow()  # the release changed: its version moves on
    db.session.flush()
    notices.queue_opening_notices(release, added)
    if release.notify_scheduled:
        notices.queue_scheduled_notices(release, added)
    numbers = sorted(place.number for place in centre_places(added).values())
    record_event(
        "release.centres_added",
        subject=release,
        details={
            "centres": numbers[:100],
            "count": len(added),
            "authorisations": len(plan.targets),
        },
    )
    return added
