from collections.abc import Callable

from markupsafe import Markup
from wtforms import BooleanField, HiddenField, SelectChoice, SelectField, StringField
from wtforms.validators import InputRequired, ValidationError

from app.models.user import ROLE_LABELS
from app.services.accounts.addresses import AccountError, EmailInUse
from app.services.accounts.users import STAFF_ROLES
from app.services.centres import rules as centre_rules
from app.services.centres.operations import CentreDetails
from app.services.centres.rules import RuleError
from app.services.geography import all_timezones, countries, zones_for
from app.web.forms import PortalForm, VersionField

EMAIL_MAX = 254


def rule(clean: Callable) -> Callable:
    """A WTForms validator from one of centre_rules' clean_* functions."""

    def validate(form, field) -> None:
        try:
            clean(field.data)
        except RuleError as error:
            raise ValidationError(str(error)) from None

    return validate


class CentreForm(PortalForm):
    """A centre's details, checked by the same rules as the centres upload."""

    number = StringField("Centre number", validators=[rule(centre_rules.clean_number)])
    name = StringField("Name", validators=[rule(centre_rules.clean_name)])
    country = SelectField(
        "Country",
        choices=[],
        validate_choice=False,
        validators=[rule(centre_rules.clean_country)],
    )
    town = StringField("Town", validators=[rule(centre_rules.clean_town)])
    timezone = SelectField("Time zone", choices=[], validate_choice=False)
    zone = SelectField(
        "Administrative zone",
        choices=[],
        validate_choice=False,
        validators=[rule(centre_rules.clean_zone)],
    )
    keep_timezone = BooleanField("Keep this time zone: the centre really keeps this time")
    # Set to "1" by Undo Delete: Save then restores the centre.
    restore = HiddenField()
    version = VersionField()

    def __init__(self, *args, stored: tuple[str, str] | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # The saved (country, time zone): keeping them as they are needs no confirmation.
        self.stored = stored
        self.timezone_warning: str | None = None

    def validate_timezone(self, field) -> None:
        try:
            country = centre_rules.clean_country(self.country.data)
        except RuleError:
            return  # the country's own error says what to fix first
        try:
            timezone = centre_rules.clean_timezone(field.data, country)
        except RuleError as error:
            raise ValidationError(str(error)) from None
        warning = centre_rules.timezone_warning(timezone, country)
        if warning and (country, timezone) != self.stored and not self.keep_timezone.data:
            self.timezone_warning = warning
            raise ValidationError(
                f"{warning} Choose one of its time zones, or tick “Keep this time zone”."
            )

    @property
    def restoring(self) -> bool:
        """Undo Delete was clicked: saving restores the centre."""
        return self.restore.data == "1"

    def details(self) -> CentreDetails:
        country = centre_rules.clean_country(self.country.data)
        return CentreDetails(
            number=centre_rules.clean_number(self.number.data),
            name=centre_rules.clean_name(self.name.data),
            country=country,
            town=centre_rules.clean_town(self.town.data),
            timezone=centre_rules.clean_timezone(self.timezone.data, country),
            zone=centre_rules.clean_zone(self.zone.data),
        )


def centre_form_data(centre) -> dict:
    return {
        "number": centre.number,
        "name": centre.name,
        "country": centre.country,
        "town": centre.town,
        "timezone": centre.timezone,
        "zone": str(centre.zone),
        "version": centre.version,
    }


def country_options() -> list[tuple[str, str]]:
    return [(code, f"{name} ({code})") for code, name in countries().items()]


def timezone_groups(country: str | None) -> list[tuple[str, list[tuple[str, str]]]]:
    """The zones of the chosen country first, then every zone, as (value, text) options."""
    own = [(zone, zone) for zone in zones_for(country or "")]
    groups = [("All time zones", [(zone, zone) for zone in all_timezones()])]
    if own:
        groups.insert(0, (f"Time zones in {countries()[country]}", own))
    return groups


def _email_length(form, field) -> None:
    if field.data and len(field.data.strip()) > EMAIL_MAX:
        raise ValidationError(f"An email address has at most {EMAIL_MAX} characters.")


_EMAIL_VALIDATORS = [InputRequired("Enter an email address."), _email_length]


class AddUserForm(PortalForm):
    email = StringField("Email address", validators=_EMAIL_VALIDATORS)


def account_error_message(error: AccountError, link_for: Callable[[object], str]) -> str:
    """The error for an admin's form; an address in use links to where it is used."""
    if not isinstance(error, EmailInUse):
        return str(error)
    holder = error.holder
    place = holder.centre.number if holder.centre else "a staff account"
    return Markup('That email address is already in use {} <a href="{}">{}</a>.').format(
        "at" if holder.centre else "by", link_for(holder), place
    )


_STAFF_ROLE_CHOICES = [SelectChoice(role, ROLE_LABELS[role]) for role in STAFF_ROLES]


class InviteStaffForm(PortalForm):
    email = StringField("Email address", validators=_EMAIL_VALIDATORS)
    role = SelectField("Role", choices=_STAFF_ROLE_CHOICES)


class RoleForm(PortalForm):
    role = SelectField("Role", choices=_STAFF_ROLE_CHOICES)
    version = VersionField()
