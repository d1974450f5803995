"""A release's progress over time, for the chart on its page: how many of its centres'
windows had opened (stepping up zone by zone as they open), and how many centres had
downloaded (their first file sent under the release), from the first opening until
now, the last closing or the release's cancellation, whichever is first.

Two grouped queries, whatever the number of centres: each centre's first opening
(grouped again by opening time and time zone), and each centre's first download.
The changes are then merged into at most MAX_STEPS steps, so the chart and its table
stay small at 10,000 centres. The chart's geometry (an SVG drawn by
templates/releases/_progress.html) is worked out here, without the request.
"""

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from app.extensions import db
from app.models import Centre, CentreFigures, Release

MAX_STEPS = 200
ZONES_SHOWN = 6  # time zones named in a step of the table; the rest are counted


@dataclass(frozen=True)
class Step:
    """The counts from `at` on (until the next step)."""

    at: datetime
    opened: int  # centres whose first window had opened by `at`
    downloaded: int  # centres that had downloaded by `at`
    opening: tuple[tuple[str, int], ...] = ()  # (time zone, centres) opening in this step

    @property
    def opening_text(self) -> str:
        named = [f"{zone} ({count:,})" for zone, count in self.opening[:ZONES_SHOWN]]
        rest = len(self.opening) - ZONES_SHOWN
        if rest > 0:
            named.append(f"and {rest:,} more time zone{'' if rest == 1 else 's'}")
        return ", ".join(named)


@dataclass(frozen=True)
class Progress:
    centres: int  # the release's centres (those it authorises now)
    first_opens: datetime | None
    last_closes: datetime | None
    start: datetime | None  # the chart's time axis: the first opening...
    end: datetime | None  # ...to now, the last closing or the cancellation
    ended: str  # why it ends there: "now", "closed" or "cancelled"
    steps: list[Step] = field(default_factory=list)
    merged: bool = False  # changes close together were merged to keep MAX_STEPS

    @property
    def state(self) -> str:
        """ "no-centres", "not-open" (no window opened before the end) or "chart"."""
        if not self.centres:
            return "no-centres"
        return "chart" if self.steps else "not-open"

    @property
    def opened(self) -> int:
        return self.steps[-1].opened if self.steps else 0

    @property
    def downloaded(self) -> int:
        return self.steps[-1].downloaded if self.steps else 0

    def chart(self) -> "Chart":
        return chart_of(self)


def release_progress(release: Release, now: datetime) -> Progress:
    """The progress of `release` up to `now`."""
    # Each centre's first opening and last closing, and its first download, are its
    # figures in the release (release_centre_figures: one row per centre it authorises).
    f = CentreFigures
    openings = db.session.execute(
        select(f.opens_at, Centre.timezone, func.count(), func.max(f.closes_at))
        .join(Centre, Centre.id == f.centre_id)
        .where(f.release_id == release.id)
        .group_by(f.opens_at, Centre.timezone)
    ).all()
    centres = sum(count for _, _, count, _ in openings)
    if not centres:
        return Progress(0, None, None, None, None, "now")
    first_opens = min(opens for opens, _, _, _ in openings)
    last_closes = max(closes for _, _, _, closes in openings)
    end, ended = min(
        (now, "now"),
        (last_closes, "closed"),
        (release.cancelled_at or now, "cancelled" if release.cancelled_at else "now"),
        key=lambda candidate: candidate[0],
    )
    progress = Progress(centres, first_opens, last_closes, first_opens, end, ended)
    if end < first_opens:
        return progress
    # Each centre's first download sent under the release, of the centres it still
    # authorises (a centre removed from it has no figures).
    first_downloads = db.session.scalars(
        select(f.first_download_at).where(
            f.release_id == release.id, f.first_download_at.is_not(None)
        )
    ).all()
    changes = _changes(openings, first_downloads, first_opens, end)
    steps, merged = _steps(changes, first_opens, end)
    return Progress(
        centres, first_opens, last_closes, first_opens, end, ended, steps, merged=merged
    )


@dataclass(slots=True)
class _Change:
    opened: int = 0
    downloaded: int = 0
    # A plain dict, not a Counter: thousands of these are made (one per first
    # download's time), and a Counter costs ten times as much to make.
    zones: dict = field(default_factory=dict)

    def add(self, other: "_Change") -> None:
        self.opened += other.opened
        self.downloaded += other.downloaded
        for zone, count in other.zones.items():
            self.zones[zone] = self.zones.get(zone, 0) + count


def _changes(openings, first_downloads, start: datetime, end: datetime) -> dict:
    changes: dict[datetime, _Change] = {}
    for opens_at, timezone, count, _ in openings:
        if opens_at <= end:
            change = changes.setdefault(opens_at, _Change())
            change.opened += count
            change.zones[timezone] = change.zones.get(timezone, 0) + count
    for at in first_downloads:
        # A download before the first opening can only be from a window since moved.
        at = max(at, start)
        if at <= end:
            changes.setdefault(at, _Change()).downloaded += 1
    return changes


def _steps(changes: dict, start: datetime, end: datetime) -> tuple[list[Step], bool]:
    """The changes as cumulative steps; when there are more than MAX_STEPS, those in
    the same 1/MAX_STEPS of the time axis are one step, at the last of their times
    (so every step's counts are exact at its time)."""
    times = sorted(changes)
    merged = len(times) > MAX_STEPS
    if merged:
        width = (end - start) / MAX_STEPS
        buckets: dict[int, tuple[datetime, _Change]] = {}
        for at in times:
            index = min(MAX_STEPS - 1, int((at - start) / width))
            _, change = buckets.setdefault(index, (at, _Change()))
            change.add(changes[at])
            buckets[index] = (at, change)
        grouped = [buckets[index] for index in sorted(buckets)]
    else:
        grouped = [(at, changes[at]) for at in times]
    steps = []
    opened = downloaded = 0
    for at, change in grouped:
        opened += change.opened
        downloaded += change.downloaded
        zones = tuple(sorted(change.zones.items(), key=lambda item: (-item[1], item[0])))
        steps.append(Step(at, opened, downloaded, zones))
    return steps, merged


# ---------------------------------------------------------------------------
# The chart's geometry (SVG user units)

WIDTH, HEIGHT = 720, 340
LEFT, RIGHT, TOP, BOTTOM = 64, 700, 48, 268  # the plot area
# Spacing of the time axis's ticks: the first that gives at most MAX_X_TICKS.
TICK_STEPS = [timedelta(minutes=m) for m in (1, 5, 10, 15, 30)] + [
    timedelta(hours=h) for h in (1, 2, 3, 6, 12, 24, 48, 168)
]
MAX_X_TICKS = 6
MAX_Y_TICKS = 5


@dataclass(frozen=True)
class Tick:
    position: float  # x for the time axis, y for the count axis
    lines: tuple[str, ...]  # its label, a line each


@dataclass(frozen=True)
class Chart:
    opened_path: str
    downloaded_path: str
    x_ticks: list[Tick]
    y_ticks: list[Tick]
    end_label: str
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    right: int = RIGHT
    top: int = TOP
    bottom: int = BOTTOM


def _nice_step(top: int) -> int:
    """A step of 1, 2 or 5 times a power of ten giving at most MAX_Y_TICKS steps to `top`."""
    power = 1
    while True:
        for multiple in (1, 2, 5):
            if top <= multiple * power * MAX_Y_TICKS:
                return multiple * power
        power *= 10


def _time_ticks(start: datetime, end: datetime, x) -> list[Tick]:
    span = end - start
    step = next((s for s in TICK_STEPS if span / s <= MAX_X_TICKS), TICK_STEPS[-1])
    while span / step > MAX_X_TICKS:  # more than weeks: a multiple of the longest step
        step *= 2
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    moment = epoch + math.ceil((start - epoch) / step) * step
    moments = []
    while moment <= end:
        moments.append(moment)
        moment += step
    if not moments:  # a span shorter than a minute
        moments = [start]
    return [
        Tick(x(m), (f"{m:%d %b}",) if step >= timedelta(days=1) else (f"{m:%d %b}", f"{m:%H:%M}"))
        for m in moments
    ]


def chart_of(progress: Progress) -> Chart:
    start, end = progress.start, progress.end
    span = max((end - start).total_seconds(), 1.0)
    top_count = max(progress.centres, progress.downloaded, 1)
    step = _nice_step(top_count)
    y_max = -(-top_count // step) * step

    def x(moment: datetime) -> float:
        return round(LEFT + (moment - start).total_seconds() / span * (RIGHT - LEFT), 1)

    def y(count: int) -> float:
        return round(BOTTOM - count / y_max * (BOTTOM - TOP), 1)

    def path(value) -> str:
        """A step line: level until a step's time, then up to its count."""
        parts = [f"M{LEFT},{y(0)}"]
        level = 0
        for each in progress.steps:
            if value(each) != level:
                level = value(each)
                parts.append(f"H{x(each.at)}V{y(level)}")
        parts.append(f"H{RIGHT}")
        return "".join(parts)

    return Chart(
        opened_path=path(lambda each: each.opened),
        downloaded_path=path(lambda each: each.downloaded),
        x_ticks=_time_ticks(start, end, x),
        y_ticks=[Tick(y(count), (f"{count:,}",)) for count in range(0, y_max + 1, step)],
        end_label={"now": "Now", "closed": "Last window closed", "cancelled": "Cancelled"}[
            progress.ended
        ],
    )
