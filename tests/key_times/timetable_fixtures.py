"""Helpers for the Timetable tests: workbooks made with openpyxl (typed cells), the
upload, its preview's Confirm and Cancel, and slots and entries stored directly."""

import io
import re
from datetime import date

from openpyxl import Workbook
from sqlalchemy import func, select

from app.extensions import db
from app.models import Entry, TimetableSlot
from tests.conftest import csrf_token_of

SERIES = "2026-06"
HEADER = ("Syllabus", "Component", "Date", "Session", "Duration", "Zones")
HTMX = {"HX-Request": "true", "HX-Target": "timetable-results"}
PREVIEW_HEADING = "Check the timetable before it is applied"


def workbook(rows, header=HEADER, sheets=("Timetable",)) -> bytes:
    """An .xlsx whose cells keep their Python types: numbers, dates (datetime), times,
    durations (timedelta), text; a str starting with "=" is a formula."""
    book = Workbook()
    book.active.title = sheets[0]
    for name in sheets[1:]:
        book.create_sheet(name)
    sheet = book.active
    if header is not None:
        sheet.append(list(header))
    for row in rows:
        sheet.append(list(row))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def upload(client, content, name="timetable.xlsx", series=SERIES, headers=None):
    return client.post(
        "/key-times/timetable/upload",
        data={
            "file": (io.BytesIO(content), name),
            "series": series,
            "csrf_token": csrf_token_of(client, "/"),
        },
        content_type="multipart/form-data",
        headers=headers,
    )


def preview_forms(response) -> tuple[str, str, str]:
    """(Confirm action, plan fingerprint, Cancel action) of a preview page."""
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and PREVIEW_HEADING in page, page[:3000]
    actions = re.findall(r'<form method="post" action="([^"]+/waiting/[^"]+)"', page)
    plan = re.search(r'name="plan" value="([0-9a-f]{64})"', page).group(1)
    return actions[0], plan, actions[1]


def confirm(client, response, plan=None):
    action, seen, _ = preview_forms(response)
    return client.post(
        action, data={"plan": plan or seen, "csrf_token": csrf_token_of(client, "/")}
    )


def cancel(client, response):
    _, _, action = preview_forms(response)
    return client.post(action, data={"csrf_token": csrf_token_of(client, "/")})


def flashed(client, response) -> str:
    """The page a redirect leads to (where the result is flashed)."""
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    return client.get(response.headers["Location"]).get_data(as_text=True)


def add_slot(
    syllabus="0580",
    component="22",
    day=date(2026, 6, 2),
    session="AM",
    minutes=90,
    zones="",
    series=SERIES,
) -> TimetableSlot:
    db.session.rollback()
    slot = TimetableSlot(
        series=series,
        syllabus=syllabus,
        component=component,
        exam_date=day,
        session=session,
        duration_minutes=minutes,
        zones=zones,
    )
    db.session.add(slot)
    db.session.commit()
    return slot


def enter(centre, syllabus="0580", component="22", series=SERIES, withdrawn=None) -> Entry:
    db.session.rollback()
    entry = Entry(
        series=series,
        centre_id=centre.id,
        syllabus=syllabus,
        component=component,
        withdrawn_at=withdrawn,
    )
    db.session.add(entry)
    db.session.commit()
    return entry


def stored(series=SERIES) -> dict[str, tuple]:
    """ "0580/22" → (date, session, minutes, zones) of every stored slot of the series."""
    db.session.rollback()
    rows = db.session.execute(
        select(
            TimetableSlot.syllabus,
            TimetableSlot.component,
            TimetableSlot.exam_date,
            TimetableSlot.session,
            TimetableSlot.duration_minutes,
            TimetableSlot.zones,
        ).where(TimetableSlot.series == series)
    )
    return {f"{s}/{c}": (d, session, m, z) for s, c, d, session, m, z in rows}


def count(model, *where) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(model).where(*where))
