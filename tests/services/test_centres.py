"""Centre search and the centre operations, without a request."""

import pytest
from sqlalchemy import select

from app.models import Centre, Event
from app.services.centres.operations import (
    CentreDetails,
    CentreNumberTaken,
    create_centre,
    restore_centre,
    search_centres,
    soft_delete_centre,
    update_centre,
)


def numbers(result):
    return [centre.number for centre in result.centres]


def test_search_matches_number_name_and_town_ignoring_case_and_accents(make_centre):
    make_centre(number="ES201", name="Colegio Peñalara", town="Madrid")
    make_centre(number="NZ502", name="Kōwhai College", town="Auckland")
    make_centre(number="GB101", name="Hillside Academy", town="London")
    assert numbers(search_centres("penalara")) == ["ES201"]
    assert numbers(search_centres("PEÑA")) == ["ES201"]
    assert numbers(search_centres("kowhai")) == ["NZ502"]
    assert numbers(search_centres("auck")) == ["NZ502"]
    assert numbers(search_centres("gb1")) == ["GB101"]
    assert numbers(search_centres("hillside london")) == ["GB101"]  # every word, any field
    assert numbers(search_centres("hillside madrid")) == []


def test_an_exact_number_comes_first_then_numbers_starting_with_it(make_centre):
    make_centre(number="AB1234", name="Other GB12 School")
    make_centre(number="GB123", name="Third")
    make_centre(number="GB12", name="Exact")
    assert numbers(search_centres("gb12")) == ["GB12", "GB123", "AB1234"]


def test_like_wildcards_are_taken_literally(make_centre):
    make_centre(number="GB1", name="100% Academy")
    make_centre(number="GB2", name="Ordinary School")
    assert numbers(search_centres("%")) == ["GB1"]
    assert numbers(search_centres("_")) == []


def test_deleted_centres_only_when_asked(make_centre, clock):
    make_centre(number="GB1", name="Live")
    make_centre(number="GB2", name="Gone", deleted_at=clock.now)
    assert numbers(search_centres("gb")) == ["GB1"]
    assert numbers(search_centres("gb", include_deleted=True)) == ["GB1", "GB2"]


def test_results_stop_at_the_limit_and_count_the_rest(make_centre):
    for n in range(7):
        make_centre(number=f"XY{n}", name="Same Name School")
    result = search_centres("same name", limit=5)
    assert len(result.centres) == 5
    assert result.total == 7
    assert result.truncated
    assert not search_centres("same name", limit=10).truncated


def details(**overrides):
    values = dict(
        number="GB500",
        name="New Centre",
        country="GB",
        town="York",
        timezone="Europe/London",
        zone=3,
    )
    values.update(overrides)
    return CentreDetails(**values)


def events(db, action):
    return list(db.session.scalars(select(Event).where(Event.action == action)))


def test_create_update_delete_restore_write_events(db):
    centre = create_centre(details())
    db.session.commit()
    assert centre.search_key == "gb500 new centre york"

    changes = update_centre(centre, details(name="Renamed Centre", zone=4))
    db.session.commit()
    assert changes == {"name": ["New Centre", "Renamed Centre"], "zone": [3, 4]}
    assert centre.search_key == "gb500 renamed centre york"
    assert update_centre(centre, details(name="Renamed Centre", zone=4)) == {}

    soft_delete_centre(centre)
    db.session.commit()
    assert centre.is_deleted
    assert db.session.get(Centre, centre.id) is not None  # nothing removed
    restore_centre(centre)
    db.session.commit()
    assert not centre.is_deleted

    assert events(db, "centre.created")[0].details["name"] == "New Centre"
    [updated] = events(db, "centre.updated")
    assert updated.details["changes"] == {"name": ["New Centre", "Renamed Centre"], "zone": [3, 4]}
    assert len(events(db, "centre.deleted")) == len(events(db, "centre.restored")) == 1


def test_a_number_in_use_is_refused(db, make_centre, clock):
    make_centre(number="GB500", name="Hillside Academy", deleted_at=clock.now)
    with pytest.raises(CentreNumberTaken, match="already used by Hillside Academy \\(deleted\\)"):
        create_centre(details())
    other = make_centre(number="GB501")
    with pytest.raises(CentreNumberTaken):
        update_centre(other, details(number="GB500"))
