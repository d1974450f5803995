"""Adding a row (a country, or one of its time zones) and copying another series' rows."""

from tests.key_times.key_time_fixtures import (
    JUNE,
    NOVEMBER,
    add_key_time,
    admin,
    csrf,
    events,
    stored,
    text_of,
)

# The fixtures these tests use (imported, so that pytest finds them here).
__all__ = ["admin", "csrf"]


def add(client, csrf, country, timezone="", series=JUNE):
    return client.post(
        "/key-times/add",
        data={"csrf_token": csrf, "series": series, "country": country, "timezone": timezone},
    )


def test_add_a_zone_row_then_set_its_times(client, admin, csrf, db, make_centre):
    make_centre(country="US", timezone="America/Chicago")
    response = add(client, csrf, "US", "America/Chicago")
    assert response.status_code == 302
    assert (
        response.headers["Location"] == "/key-times/2026-06/US/edit?timezone=America/Chicago#main"
    )
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Row added for United States, America/Chicago. Enter its key times below." in page
    assert stored(db) == {("US", "America/Chicago"): (None,) * 6}
    (added,) = events(db, "key_time.added")
    assert added.details == {"series": JUNE, "country": "US", "timezone": "America/Chicago"}


def test_an_old_zone_name_is_read_as_its_current_one(client, admin, csrf, db):
    add(client, csrf, "IN", "Asia/Calcutta")
    assert ("IN", "Asia/Kolkata") in stored(db)


def test_a_row_that_exists_is_a_clear_error(client, admin, csrf, db):
    add_key_time(db, "GB", am="09:00")
    response = add(client, csrf, "GB")
    assert response.status_code == 422
    text = text_of(response.get_data(as_text=True))
    assert "No row was added." in text
    assert (
        "The key time row for Britain (UK) in June 2026 is already on the page: edit that row "
        "instead."
    ) in text
    assert stored(db)[("GB", "")][0] == "09:00"


def test_a_zone_of_another_country_is_refused(client, admin, csrf, db):
    response = add(client, csrf, "GB", "Europe/Paris")
    assert response.status_code == 422
    assert (
        "“Europe/Paris” is not a time zone of Britain (UK): its time zone is Europe/London. "
        "Leave it blank for the whole country."
    ) in text_of(response.get_data(as_text=True))
    assert stored(db) == {}


def test_a_country_is_required(client, admin, csrf, db):
    response = add(client, csrf, "")
    assert response.status_code == 422
    assert "Choose the country." in response.get_data(as_text=True)
    response = add(client, csrf, "ZZ")
    assert "“ZZ” is not a country" in text_of(response.get_data(as_text=True))


def test_the_zone_list_follows_the_country(client, admin):
    html = client.get("/key-times/zones?country=US", headers={"HX-Request": "true"}).get_data(
        as_text=True
    )
    assert html.lstrip().startswith('<div id="add-timezone-field">')
    assert '<option value="">Whole country</option>' in html
    assert '<option value="America/Chicago">America/Chicago</option>' in html
    assert "Europe/London" not in html
    every = client.get("/key-times/").get_data(as_text=True)
    assert '<option value="Europe/London">Europe/London</option>' in every  # no country yet


def test_copy_asks_first_and_never_overwrites(client, admin, csrf, db):
    add_key_time(db, "GB", am="09:00", am_gmt="08:00")
    add_key_time(db, "US", am="09:00")
    add_key_time(db, "US", "America/Chicago", am="08:00")
    add_key_time(db, "IN", am="09:00")
    add_key_time(db, "IN", series=NOVEMBER, am="10:00")
    page = client.get("/key-times/?series=2026-11").get_data(as_text=True)
    assert '<option value="2026-06">June 2026</option>' in page.split('id="copy-source"')[1]

    response = client.get("/key-times/copy?series=2026-11&source=2026-06")
    text = text_of(response.get_data(as_text=True))
    assert "Copy the key times of June 2026 to November 2026?" in text
    assert (
        "3 rows of key times will be added to November 2026, for 2 countries: "
        "Britain (UK), United States."
    ) in text
    assert "will be left as they are (never overwritten): India (IN)" in text
    assert stored(db, NOVEMBER) == {("IN", ""): ("10:00", None, None, None, None, None)}

    response = client.post(
        "/key-times/copy", data={"csrf_token": csrf, "series": NOVEMBER, "source": JUNE}
    )
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert (
        "Copied 3 rows of key times from June 2026 to November 2026. 1 country that already "
        "had key times was left as it was."
    ) in page
    november = stored(db, NOVEMBER)
    assert november[("IN", "")][0] == "10:00"  # left as it was
    # The published GMT time is June's (BST): it is not carried into November.
    assert november[("GB", "")] == ("09:00", None, None, None, None, None)
    assert november[("US", "America/Chicago")][0] == "08:00"
    (copied,) = events(db, "key_times.copied")
    assert copied.details == {
        "from": JUNE,
        "to": NOVEMBER,
        "rows": 3,
        "countries": 2,
        "left_as_they_were": ["IN"],
    }

    again = client.get("/key-times/copy?series=2026-11&source=2026-06")
    assert "Nothing will be copied" in text_of(again.get_data(as_text=True))
    assert "Copy 0 rows" not in again.get_data(as_text=True)


def test_copy_refusals(client, admin, db):
    add_key_time(db, "GB", am="09:00")
    for query, message in (
        ("series=2026-06&source=2026-06", "Choose another series to copy from"),
        ("series=2026-11&source=2025-06", "June 2025 has no key times to copy."),
        ("series=2026-11&source=", "Choose the series to copy the key times from."),
        ("series=2026-11&source=junk", "Series must be March, June or November"),
    ):
        response = client.get(f"/key-times/copy?{query}")
        assert response.status_code == 302
        page = client.get(response.headers["Location"]).get_data(as_text=True)
        assert message in page
    assert events(db, "key_times.copied") == []
