"""Countries and their time zones, from the IANA time zone database (the tzdata package).

`iso3166.tab` names the countries; `zone.tab` lists each country's zones. A
country with one zone (India: Asia/Kolkata) gives its centres that zone by
default; a country with several (the United States) needs it chosen.
"""

from functools import cache
from importlib import resources
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones


def _rows(name: str) -> list[list[str]]:
    text = resources.files("tzdata.zoneinfo").joinpath(name).read_text(encoding="utf-8")
    return [line.split("\t") for line in text.splitlines() if line and not line.startswith("#")]


@cache
def countries() -> dict[str, str]:
    """ISO 3166 alpha-2 code → English name, sorted by name."""
    pairs = ((code, name) for code, name, *_ in _rows("iso3166.tab"))
    return dict(sorted(pairs, key=lambda pair: pair[1]))


@cache
def zone_table() -> tuple[list[str], ...]:
    """zone.tab's rows: country code, ISO 6709 coordinates, zone name[, comment]."""
    return tuple(_rows("zone.tab"))


@cache
def _zones_by_country() -> dict[str, tuple[str, ...]]:
    zones: dict[str, list[str]] = {}
    for code, _coordinates, zone, *_ in zone_table():
        zones.setdefault(code, []).append(zone)
    return {code: tuple(sorted(names)) for code, names in zones.items()}


def zones_for(country: str) -> tuple[str, ...]:
    """The time zones used in a country (empty for an unknown code)."""
    return _zones_by_country().get(country, ())


def keeps_country_time(timezone: str, country: str) -> bool:
    """Whether a centre in `country` on `timezone` keeps that country's time.

    True for one of the country's zones, or a zone with exactly the same rules
    (Europe/Zurich in Liechtenstein), and for a country with no listed zones.
    """
    zones = zones_for(country)
    if not zones or timezone in zones:
        return True
    if timezone not in _current_zones():
        return False
    return any(_rules_of(zone) == _rules_of(timezone) for zone in zones)


def default_timezone(country: str) -> str | None:
    """The country's time zone when it has exactly one, else None."""
    zones = zones_for(country)
    return zones[0] if len(zones) == 1 else None


@cache
def all_timezones() -> tuple[str, ...]:
    """Every IANA zone a centre may use: the canonical zones plus UTC, sorted."""
    canonical = {zone for zones in _zones_by_country().values() for zone in zones}
    return tuple(sorted(canonical | {"UTC"}))


_available_timezones = cache(available_timezones)


def is_known_timezone(name: str) -> bool:
    """True for any zone name ZoneInfo can load, links such as Asia/Calcutta included."""
    if name not in _available_timezones():
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def canonical_timezone(name: str) -> str | None:
    """The current name of a time zone: itself, or what an old name links to.

    "Asia/Calcutta" → "Asia/Kolkata", "US/Pacific" → "America/Los_Angeles".
    None when the name is unknown, or is not one zone (an old name whose rules
    several current zones share, or a zone no country uses, such as "Factory").
    """
    if name in _current_zones():
        return name
    if not is_known_timezone(name):
        return None
    candidates = _zones_by_rules().get(_rules_of(name), ())
    return candidates[0] if len(candidates) == 1 else None


@cache
def _current_zones() -> frozenset[str]:
    return frozenset(all_timezones())


def _rules_of(name: str) -> bytes:
    return resources.files("tzdata.zoneinfo").joinpath(*name.split("/")).read_bytes()


@cache
def _zones_by_rules() -> dict[bytes, tuple[str, ...]]:
    """The current zones grouped by their compiled rules: a link is a copy of its target."""
    groups: dict[bytes, list[str]] = {}
    for zone in all_timezones():
        groups.setdefault(_rules_of(zone), []).append(zone)
    return {rules: tuple(zones) for rules, zones in groups.items()}
