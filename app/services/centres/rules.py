"""The rules a centre's details must follow, shared by the web forms and the centres upload.

Each `clean_*` function takes what a person typed (or a spreadsheet held) and
returns the value to store, or raises RuleError with a message that says what
is wrong in the board's words.
"""

import re

from app.services.errors import DomainError
from app.services.geography import (
    canonical_timezone,
    countries,
    default_timezone,
    keeps_country_time,
    zones_for,
)
from app.services.text import control_character_in, control_character_message

NUMBER_PATTERN = re.compile(r"[A-Z0-9]{2,10}")
NAME_MAX = 200
TOWN_MAX = 100
ZONES = range(1, 7)


class RuleError(DomainError):
    """A value breaks a rule; str(error) says which, for the person who typed it."""


def clean_number(raw: str | None) -> str:
    number = (raw or "").strip().upper()
    if not number:
        raise RuleError("Enter the centre number.")
    if not NUMBER_PATTERN.fullmatch(number):
        raise RuleError("A centre number is 2 to 10 letters or digits, like GB123.")
    return number


def _refuse_control_characters(text: str, label: str) -> None:
    code = control_character_in(text)
    if code:
        raise RuleError(control_character_message(label, code))


def clean_name(raw: str | None) -> str:
    _refuse_control_characters(raw or "", "The centre name")
    name = " ".join((raw or "").split())
    if not name:
        raise RuleError("Enter the centre name.")
    if len(name) > NAME_MAX:
        raise RuleError(f"A centre name has at most {NAME_MAX} characters.")
    return name


def clean_town(raw: str | None) -> str:
    _refuse_control_characters(raw or "", "The town")
    town = " ".join((raw or "").split())
    if len(town) > TOWN_MAX:
        raise RuleError(f"A town has at most {TOWN_MAX} characters.")
    return town


def clean_country(raw: str | None) -> str:
    code = (raw or "").strip().upper()
    if not code:
        raise RuleError("Choose the country.")
    if code not in countries():
        raise RuleError(f"“{code}” is not an ISO 3166 country code (like GB or IN).")
    return code


def clean_timezone(raw: str | None, country: str) -> str:
    """The time zone's current name, or the country's own zone when it has only one."""
    name = (raw or "").strip()
    if not name:
        default = default_timezone(country)
        if default is None:
            if zones_for(country):
                raise RuleError(
                    f"Choose the time zone: {countries()[country]} has several "
                    f"({', '.join(zones_for(country)[:3])}, ...)."
                )
            raise RuleError("Choose the time zone.")
        return default
    canonical = canonical_timezone(name)
    if canonical is None:
        raise RuleError(f"“{name}” is not an IANA time zone (like Europe/London).")
    return canonical


def timezone_warning(timezone: str, country: str) -> str | None:
    """Why a centre's time zone looks wrong for its country (a GB centre on Asia/Tokyo),
    or None. A warning, not an error: a centre may really keep another country's time,
    so the admin confirms it instead."""
    if keeps_country_time(timezone, country):
        return None
    zones = zones_for(country)
    listed = ", ".join(zones[:3]) + (f" and {len(zones) - 3} more" if len(zones) > 3 else "")
    its = "its time zone is" if len(zones) == 1 else "its time zones are"
    return f"{timezone} is not a time zone of {countries()[country]}: {its} {listed}."


def clean_zone(raw) -> int:
    text = str(raw if raw is not None else "").strip()
    if text.endswith(".0"):  # spreadsheets store whole numbers as floats
        text = text[:-2]
    if not text:
        raise RuleError("Choose the administrative zone (1 to 6).")
    # isascii(): "²".isdigit() is true, but int("²") is an error.
    if not (text.isascii() and text.isdigit()) or int(text) not in ZONES:
        raise RuleError(f"The zone must be a whole number from 1 to 6, not “{text}”.")
    return int(text)
