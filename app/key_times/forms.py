"""The forms of the Key Times page. The rules live in app.services.timetable.key_times,
so the page's forms and the key-times upload check alike."""

from collections.abc import Callable

from wtforms import FileField, HiddenField, SelectField, StringField
from wtforms.validators import ValidationError

from app.services.errors import DomainError
from app.services.geography import countries, zones_for
from app.services.resources.naming import clean_series
from app.services.timetable import key_times
from app.services.timetable.key_times import FIELD_LABELS, FIELDS, KeyTimeRuleError
from app.web.forms import PortalForm, VersionField

TIME_ATTRS = {
    "inputmode": "numeric",
    "maxlength": 5,
    "placeholder": "HH:MM",
    "autocomplete": "off",
    "spellcheck": "false",
}


def rule(clean: Callable) -> Callable:
    """A WTForms validator from one of the service's clean_* functions."""

    def validate(form, field) -> None:
        try:
            clean(field.data)
        except DomainError as error:
            raise ValidationError(str(error)) from None

    return validate


def _time_field(name: str) -> StringField:
    return StringField(
        FIELD_LABELS[name], validators=[rule(key_times.clean_time)], render_kw=TIME_ATTRS
    )


class KeyTimeForm(PortalForm):
    """One row's AM, PM and EV local times and published GMT times."""

    am = _time_field("am")
    am_gmt = _time_field("am_gmt")
    pm = _time_field("pm")
    pm_gmt = _time_field("pm_gmt")
    ev = _time_field("ev")
    ev_gmt = _time_field("ev_gmt")
    version = VersionField()
    # The date the page shows UTC times for, so the saved row comes back the same.
    on = HiddenField()

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if not valid:
            return False
        for name, message in key_times.value_problems(self.values()).items():
            self[name].errors = [*self[name].errors, message]
            valid = False
        return valid

    def values(self) -> dict[str, str | None]:
        """The cleaned times, "HH:MM" or None (call once the form is valid)."""
        found = {}
        for name in FIELDS:
            try:
                found[name] = key_times.clean_time(self[name].data)
            except KeyTimeRuleError:
                found[name] = None
        return found


class DeleteForm(PortalForm):
    """Delete: the version the row was read at, so a delete from a stale page is refused
    like any other edit, and the date the page showed."""

    version = VersionField()
    on = HiddenField()


def key_time_form_data(row) -> dict:
    """The form's values for a stored row (None: a row not added yet, version 0)."""
    if row is None:
        return {"version": 0}
    return {**{name: getattr(row, name) or "" for name in FIELDS}, "version": row.version}


def country_options() -> list[tuple[str, str]]:
    return [(code, f"{name} ({code})") for code, name in countries().items()]


def zone_options(country: str | None) -> list[tuple[str, str]]:
    """The time zones a row may be narrowed to: the country's, or (no country yet) all."""
    if country and country in countries():
        return [(zone, zone) for zone in zones_for(country)]
    return sorted({(zone, zone) for code in countries() for zone in zones_for(code)})


class AddKeyTimeForm(PortalForm):
    series = HiddenField()
    country = SelectField("Country", choices=[], validate_choice=False)
    timezone = SelectField("Time zone", choices=[], validate_choice=False)

    def validate_series(self, field) -> None:
        try:
            field.data = clean_series(field.data)
        except DomainError as error:
            raise ValidationError(str(error)) from None

    def validate_country(self, field) -> None:
        if not (field.data or "").strip():
            raise ValidationError("Choose the country.")
        try:
            field.data = key_times.find_country(field.data)
        except DomainError as error:
            raise ValidationError(str(error)) from None

    def validate_timezone(self, field) -> None:
        if self.country.data not in countries():
            return  # the country's own error says what to fix first
        try:
            field.data = key_times.clean_place_timezone(field.data, self.country.data)
        except DomainError as error:
            raise ValidationError(str(error)) from None


class UploadForm(PortalForm):
    series = SelectField("Series", choices=[], validate_choice=False)
    file = FileField("Key times file (.xlsx)")

    def validate_series(self, field) -> None:
        try:
            field.data = clean_series(field.data)
        except DomainError as error:
            raise ValidationError(str(error)) from None
