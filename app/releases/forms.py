"""The forms of Releases: Release Resources (one form, previewed then saved) and
Cancel release.

ReleaseForm.release_choices() turns what the admin submitted into what plan_release needs,
putting every problem by its field; nothing the browser computed is trusted."""

import re
from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from wtforms import BooleanField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice

from app.models.release import AUDIENCES
from app.services.geography import all_timezones
from app.services.releases.planning import chosen_centres
from app.services.releases.windows import WindowRule
from app.services.resources.naming import KINDS, MetadataError, clean_series
from app.services.timetable.instants import LocalTimeProblem, UnknownZone, to_utc
from app.web.forms import PortalForm, VersionField

KIND_OPTIONS = [(kind.value, kind.label) for kind in KINDS]
DEFAULT_ZONE = "Europe/London"
MAX_DAYS, MAX_HOURS = 60, 23
TITLE_MAX = 200
CHOSEN_MAX = 20_000
OPENS_OPTIONS = [
    ("before", "Before the exam's key time, in each centre's local time"),
    ("fixed", "At a fixed moment"),
]
CLOSES_OPTIONS = [
    ("rule", "24 hours after the exam's end or its key time, whichever is later"),
    ("fixed", "At a fixed moment"),
]
_NUMBER_SEPARATORS = re.compile(r"[\s,;]+")
_WHOLE = re.compile(r"[0-9]{1,3}")
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_TIME = re.compile(r"([0-9]{1,2}):([0-9]{2})")


def zone_options() -> list[tuple[str, str]]:
    return [(name, name) for name in all_timezones()]


@dataclass(frozen=True)
class ReleaseChoices:
    """What a valid form comes to: the arguments of plan_release, and the rest."""

    series: str
    resource_ids: list[int]
    audience: str
    chosen: list[int]
    rule: WindowRule
    opens_zone: str
    closes_zone: str
    title: str


class _ResourcesAndAudience(PortalForm):
    # Declared before WindowFields so that the fields (and the error summary) follow
    # the page's order: resources, audience, window, title.
    series = SelectField("Series", choices=[], validate_choice=False)
    syllabus = StringField("Syllabus code", render_kw={"inputmode": "numeric", "maxlength": 4})
    component = StringField("Component", render_kw={"inputmode": "numeric", "maxlength": 2})
    kind = SelectField("Kind", choices=[], validate_choice=False)
    audience = RadioField(
        "Audience",
        choices=[SelectChoice(v, t) for v, t in AUDIENCES.items()],
        default="entered",
        validate_choice=False,
    )
    centres = TextAreaField("Centre Numbers", description="One per line, or separated by commas.")


class WindowFields(PortalForm):
    """When a release's windows open and close: on Release Resources and Edit window."""

    opens = RadioField(
        "Opens",
        choices=[SelectChoice(v, t) for v, t in OPENS_OPTIONS],
        default="before",
        validate_choice=False,
    )
    opens_days = StringField("Days before", render_kw={"inputmode": "numeric"})
    opens_hours = StringField("Hours before", default="0", render_kw={"inputmode": "numeric"})
    opens_date = StringField("Opening date", render_kw={"type": "date"})
    opens_time = StringField("Opening time", render_kw={"type": "time"})
    opens_zone = SelectField("Opening time zone", default=DEFAULT_ZONE, validate_choice=False)
    closes = RadioField(
        "Closes",
        choices=[SelectChoice(v, t) for v, t in CLOSES_OPTIONS],
        default="rule",
        validate_choice=False,
    )
    closes_date = StringField("Closing date", render_kw={"type": "date"})
    closes_time = StringField("Closing time", render_kw={"type": "time"})
    closes_zone = SelectField("Closing time zone", default=DEFAULT_ZONE, validate_choice=False)

    def window_rule(self) -> tuple[WindowRule | None, str, str]:
        """The rule and the zones its fixed moments were typed in; None for the rule
        (with the errors by their fields) when the fields do not make one."""
        opens_at = closes_at = None
        opens_zone = closes_zone = "UTC"
        days = hours = None
        if (self.opens.data or "before") == "fixed":
            opens_zone = self.opens_zone.data or ""
            opens_at = _moment(self.opens_date, self.opens_time, self.opens_zone, "opening")
        else:
            days = _whole(self.opens_days, MAX_DAYS, "Days before")
            hours = _whole(self.opens_hours, MAX_HOURS, "Hours before")
        if (self.closes.data or "rule") == "fixed":
            closes_zone = self.closes_zone.data or ""
            closes_at = _moment(self.closes_date, self.closes_time, self.closes_zone, "closing")
        if opens_at and closes_at and not opens_at < closes_at:
            self.closes_date.errors = ["The closing moment must be after the opening moment."]
            return None, opens_zone, closes_zone
        if (opens_at is None and (days is None or hours is None)) or (
            self.closes.data == "fixed" and closes_at is None
        ):
            return None, opens_zone, closes_zone
        rule = WindowRule(
            opens_days=days, opens_hours=hours, opens_at=opens_at, closes_at=closes_at
        )
        return rule, opens_zone, closes_zone

    def fill_from(self, release) -> None:
        """Show `release`'s rule in the fields, as the admin typed it."""
        if release.opens_at_fixed is not None:
            self.opens.data = "fixed"
            self.opens_date.data, self.opens_time.data = _typed(
                release.opens_at_fixed, release.opens_zone
            )
            self.opens_zone.data = release.opens_zone
        else:
            self.opens.data = "before"
            self.opens_days.data = str(release.opens_days)
            self.opens_hours.data = str(release.opens_hours)
        if release.closes_at_fixed is not None:
            self.closes.data = "fixed"
            self.closes_date.data, self.closes_time.data = _typed(
                release.closes_at_fixed, release.closes_zone
            )
            self.closes_zone.data = release.closes_zone
        else:
            self.closes.data = "rule"


def _typed(moment: datetime, zone: str) -> tuple[str, str]:
    local = moment.astimezone(ZoneInfo(zone))
    return local.date().isoformat(), f"{local:%H:%M}"


class ReleaseForm(_ResourcesAndAudience, WindowFields):
    title = StringField("Title (optional)", render_kw={"maxlength": TITLE_MAX})
    leave_out = BooleanField("Leave these centres out of the release")
    notify_scheduled = BooleanField(
        "Tell the centres now that this release is scheduled, with their local opening time"
    )

    def release_choices(
        self, resource_ids: list[int], series_values: set[str], series_resources: set[int]
    ) -> tuple[ReleaseChoices | None, list[str]]:
        """The choices, or None with the errors put by their fields; also the problems
        that belong to no field (the resources' list)."""
        loose: list[str] = []
        series = self._series(series_values)
        chosen_ids = [r for r in resource_ids if r in series_resources]
        if series and not chosen_ids:
            loose.append("Choose at least one resource of this series to release.")
        audience = self.audience.data or "entered"
        if audience not in AUDIENCES:
            self.audience.errors = ["Choose who the resources go to."]
        chosen = centre_ids_of(self.centres) if audience == "chosen" else []
        rule, opens_zone, closes_zone = self.window_rule()
        title = " ".join((self.title.data or "").split())
        if len(title) > TITLE_MAX:
            self.title.errors = [
                f"A title has at most {TITLE_MAX} characters; this one has {len(title)}."
            ]
        if loose or any(field.errors for field in self) or series is None or rule is None:
            return None, loose
        return (
            ReleaseChoices(
                series, chosen_ids, audience, chosen, rule, opens_zone, closes_zone, title
            ),
            loose,
        )

    def _series(self, known: set[str]) -> str | None:
        try:
            series = clean_series(self.series.data)
        except MetadataError:
            self.series.errors = ["Choose the series of the resources."]
            return None
        if series not in known:
            self.series.errors = ["Choose the series of the resources."]
            return None
        return series


def centre_ids_of(field) -> list[int]:
    """The live centres whose Centre Numbers the admin typed in `field` (a textarea);
    unknown and deleted numbers are put in the field's errors."""
    numbers = [n for n in _NUMBER_SEPARATORS.split(field.data or "") if n]
    if not numbers:
        field.errors = ["Enter the Centre Numbers of the chosen centres."]
        return []
    if len(numbers) > CHOSEN_MAX:
        field.errors = [f"Enter at most {CHOSEN_MAX:,} Centre Numbers."]
        return []
    found = chosen_centres(numbers)
    problems = []
    if found.unknown:
        problems.append(f"No centre has the Centre Number {_listed(found.unknown)}.")
    if found.deleted:
        problems.append(
            f"Deleted centre{'s' if len(found.deleted) > 1 else ''}: "
            f"{_listed(found.deleted)}. Undo the delete first, or leave "
            f"{'them' if len(found.deleted) > 1 else 'it'} out."
        )
    if problems:
        field.errors = problems
    return found.ids


def _listed(numbers: list[str], most: int = 20) -> str:
    shown = ", ".join(numbers[:most])
    return shown + (f" and {len(numbers) - most:,} more" if len(numbers) > most else "")


def _whole(field, most: int, label: str) -> int | None:
    text = (field.data or "").strip()
    if _WHOLE.fullmatch(text) and int(text) <= most:
        return int(text)
    field.errors = [f"{label} must be a whole number from 0 to {most}."]
    return None


def _moment(day_field, time_field, zone_field, what: str) -> datetime | None:
    """The UTC instant of a date, time and zone the admin chose; None (with the
    errors by their fields) when they name no single instant."""
    day_text = (day_field.data or "").strip()
    time_text = (time_field.data or "").strip()
    day = clock = None
    if not day_text:
        day_field.errors = [f"Enter the {what} date."]
    else:
        try:
            day = date.fromisoformat(day_text) if _DAY.fullmatch(day_text) else None
        except ValueError:
            day = None
        if day is None:
            day_field.errors = [f"The {what} date must be a real date, e.g. 2026-06-01."]
    found = _TIME.fullmatch(time_text)
    if not time_text:
        time_field.errors = [f"Enter the {what} time."]
    elif not found or int(found[1]) > 23 or int(found[2]) > 59:
        time_field.errors = [f"The {what} time must be a time of day, e.g. 09:00."]
    else:
        clock = time(int(found[1]), int(found[2]))
    zone_name = zone_field.data or ""
    if zone_name not in set(all_timezones()):
        zone_field.errors = [f"Choose the time zone of the {what} time."]
        return None
    if day is None or clock is None:
        return None
    try:
        return to_utc(day, clock, zone_name)
    except LocalTimeProblem as problem:
        time_field.errors = [
            str(problem).replace("a key time", f"{'an' if what == 'opening' else 'a'} {what} time")
        ]
    except UnknownZone:
        zone_field.errors = [f"Choose the time zone of the {what} time."]
    return None


class CancelForm(PortalForm):
    version = VersionField()


class EditWindowForm(WindowFields):
    version = VersionField()
    move_open = BooleanField("Move the windows that are open now too")


class AddCentresForm(PortalForm):
    centres = TextAreaField("Centre Numbers", description="One per line, or separated by commas.")
    version = VersionField()
