"""A timetabled paper sat by a London, a Kolkata and a Chicago centre, and a helper
that posts the Release Resources form."""

import re
from datetime import date

import pytest
from sqlalchemy import select

from app.models import Entry, KeyTime, Resource, ResourceFile, TimetableSlot

SERIES = "2026-06"


@pytest.fixture
def paper(db):
    """0580/22, sat on Thursday 4 June 2026 in the morning, 90 minutes; its paper."""
    db.session.add(
        TimetableSlot(
            series=SERIES,
            syllabus="0580",
            component="22",
            exam_date=date(2026, 6, 4),
            session="AM",
            duration_minutes=90,
        )
    )
    for country, tz in (("GB", ""), ("IN", ""), ("US", "America/Chicago")):
        db.session.add(KeyTime(series=SERIES, country=country, timezone=tz, am="09:00"))
    resource = Resource(
        series=SERIES, syllabus="0580", component="22", kind="question-paper", title="Paper 22"
    )
    db.session.add(resource)
    db.session.commit()
    return resource


def paper_file(db, paper) -> ResourceFile:
    """The paper's file, version 1 (a row only: nothing reads its bytes), made once."""
    file = db.session.scalars(
        select(ResourceFile).where(ResourceFile.resource_id == paper.id)
    ).first()
    if file is None:
        file = ResourceFile(
            resource_id=paper.id,
            number=1,
            original_name="0580_s26_qp_22.pdf",
            stored_name="stored-1",
            size=10,
            sha256="0" * 64,
            media_type="application/pdf",
        )
        db.session.add(file)
        db.session.flush()
    return file


@pytest.fixture
def centres(db, make_centre):
    made = {
        "london": make_centre(number="GB001"),
        "kolkata": make_centre(number="IN001", country="IN", timezone="Asia/Kolkata", zone=4),
        "chicago": make_centre(number="US001", country="US", timezone="America/Chicago", zone=1),
    }
    for centre in made.values():
        db.session.add(Entry(series=SERIES, centre_id=centre.id, syllabus="0580", component="22"))
    db.session.commit()
    return made


@pytest.fixture
def admin(login_as):
    return login_as("admin")


@pytest.fixture
def release_form(client, csrf_token, admin):
    """POST the Release Resources form: the defaults for `resources`, changed by
    `fields` (None removes a field) → the response, not followed."""

    def post(resources, action="preview", **fields):
        data = {
            "csrf_token": csrf_token(client, "/releases/new"),
            "series": SERIES,
            "resources": [str(r.id) for r in resources],
            "audience": "entered",
            "opens": "before",
            "opens_days": "3",
            "opens_hours": "0",
            "opens_zone": "Europe/London",
            "closes": "rule",
            "closes_zone": "Europe/London",
            "title": "June papers",
            "action": action,
        }
        data.update(fields)
        data = {k: v for k, v in data.items() if v is not None}
        if action == "save" and "plan" not in data:
            # As the admin does: Preview first, then Save the plan previewed.
            preview = client.post("/releases/new", data={**data, "action": "preview"})
            found = re.search(r'name="plan" value="([0-9a-f]+)"', preview.get_data(as_text=True))
            data["plan"] = found.group(1) if found else ""
        return client.post("/releases/new", data=data)

    return post
