"""The paper most centre-download tests release: 0580/22 (sat Thursday 4 June 2026,
09:00 in London), with a real file kept in storage, released to London's GB101."""

import pytest

from tests.home.test_centre_resources import release, store_resource, timetable
from tests.resources import files

CONTENT = files.pdf("secure paper 22")


@pytest.fixture
def paper(db, resource_dir):
    timetable(db)
    return store_resource(db, resource_dir, CONTENT)


@pytest.fixture
def london(make_centre):
    return make_centre(number="GB101", name="Cambridge Grammar")


@pytest.fixture
def released(db, paper, london):
    return release(db, [paper], [london])
