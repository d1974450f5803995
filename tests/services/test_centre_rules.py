"""The centre rules shared by the forms and the centres upload."""

import pytest

from app.services.centres.rules import (
    RuleError,
    clean_country,
    clean_name,
    clean_number,
    clean_timezone,
    clean_town,
    clean_zone,
)
from app.services.text import search_key


@pytest.mark.parametrize(("raw", "clean"), [(" gb123 ", "GB123"), ("IN3", "IN3"), ("12", "12")])
def test_numbers_are_upper_cased_and_trimmed(raw, clean):
    assert clean_number(raw) == clean


@pytest.mark.parametrize("raw", ["", "G", "GB-123", "GB 123", "ABCDEFGHIJK", "GB12é", None])
def test_bad_numbers_say_what_a_number_is(raw):
    with pytest.raises(RuleError) as error:
        clean_number(raw)
    assert "centre number" in str(error.value)


def test_names_have_their_spaces_tidied_and_a_limit():
    assert clean_name("  Colegio   Peñalara ") == "Colegio Peñalara"
    with pytest.raises(RuleError, match="Enter the centre name."):
        clean_name("   ")
    with pytest.raises(RuleError, match="at most 200 characters"):
        clean_name("x" * 201)
    assert clean_town("") == ""
    with pytest.raises(RuleError, match="at most 100 characters"):
        clean_town("x" * 101)


def test_countries_are_iso_codes():
    assert clean_country(" in ") == "IN"
    with pytest.raises(RuleError, match="“XX” is not an ISO 3166 country code"):
        clean_country("XX")
    with pytest.raises(RuleError, match="Choose the country."):
        clean_country("")


def test_time_zone_defaults_from_a_country_with_one_zone():
    assert clean_timezone("", "IN") == "Asia/Kolkata"
    assert clean_timezone("Europe/London", "IN") == "Europe/London"
    with pytest.raises(RuleError, match="United States has several"):
        clean_timezone("", "US")
    with pytest.raises(RuleError, match="“Mars/Olympus” is not an IANA time zone"):
        clean_timezone("Mars/Olympus", "GB")


@pytest.mark.parametrize(("raw", "zone"), [("1", 1), (" 6 ", 6), (3, 3), (4.0, 4), ("2.0", 2)])
def test_zones_are_one_to_six(raw, zone):
    assert clean_zone(raw) == zone


@pytest.mark.parametrize("raw", ["0", "7", "x", "", None, "2.5", -1])
def test_other_zones_are_refused(raw):
    with pytest.raises(RuleError):
        clean_zone(raw)


def test_search_key_ignores_case_and_accents():
    assert search_key("ES201", "Colegio Peñalara", "Málaga") == "es201 colegio penalara malaga"
    assert search_key("NZ502", "Kōwhai College", "") == "nz502 kowhai college"


@pytest.mark.parametrize("raw", ["²", "３", "٣"])
def test_digits_that_are_not_ascii_are_refused_as_zones(raw):
    with pytest.raises(RuleError, match="The zone must be a whole number from 1 to 6"):
        clean_zone(raw)


@pytest.mark.parametrize("raw", ["Hill\x00side", "Hill\x7fside", "Hill\x85side", "\x1b[31mRed"])
def test_names_and_towns_with_control_characters_are_refused(raw):
    """The upload's cells pass these rules too: nothing invisible reaches the database."""
    with pytest.raises(RuleError, match="contains an invisible control character"):
        clean_name(raw)
    with pytest.raises(RuleError, match=r"The town contains an invisible control character"):
        clean_town(raw)
