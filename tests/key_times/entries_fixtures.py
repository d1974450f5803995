"""Fixtures and helpers for the entries upload and Entry Errors tests. Not a conftest,
so other tests are untouched: a test module imports the fixtures it uses, by the
names ending in `_fixture` (pytest knows them by their short names)."""

import io
import re
from datetime import date

import pytest
from openpyxl import Workbook
from sqlalchemy import select

from app.models import Centre, Entry, EntryError, KeyTime, TimetableSlot
from tests.conftest import csrf_token_of

SERIES = "2026-06"
HEADER = ("Centre Number", "Syllabus", "Component")
# Far enough after the `clock` fixture's 1 June 2026 that no window has opened.
LATER = date(2026, 6, 20)


def workbook(rows, header=HEADER, formulas=()) -> bytes:
    """An entries workbook made by openpyxl: numbers stay numbers; `formulas` are
    (row index, column index, "=...") cells, 0-based under the header."""
    book = Workbook()
    sheet = book.active
    sheet.title = "Entries"
    if header is not None:
        sheet.append(list(header))
    for values in rows:
        sheet.append(list(values))
    offset = 2 if header is not None else 1
    for row, column, formula in formulas:
        sheet.cell(row=row + offset, column=column + 1, value=formula)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


@pytest.fixture(name="pending_folder")
def pending_folder_fixture(app, monkeypatch, tmp_path):
    """Uploads waiting for Confirm are kept under the instance folder: a temporary one."""
    monkeypatch.setattr(app, "instance_path", str(tmp_path))
    return tmp_path


@pytest.fixture(name="slot")
def slot_fixture(db):
    """A timetable slot of SERIES (committed)."""

    def add(syllabus="0580", component="22", *, day=LATER, session="AM", zones="", series=SERIES):
        db.session.rollback()
        row = TimetableSlot(
            series=series,
            syllabus=syllabus,
            component=component,
            exam_date=day,
            session=session,
            duration_minutes=90,
            zones=zones,
        )
        db.session.add(row)
        db.session.commit()
        return row

    return add


@pytest.fixture(name="key_time")
def key_time_fixture(db):
    def add(country="GB", timezone="", series=SERIES, **sessions):
        db.session.rollback()
        row = KeyTime(series=series, country=country, timezone=timezone, **sessions)
        db.session.add(row)
        db.session.commit()
        return row

    return add


def upload(client, content, series=SERIES, name="entries.xlsx", headers=None):
    data = {"csrf_token": csrf_token_of(client, "/"), "series": series}
    if content is not None:
        data["file"] = (io.BytesIO(content), name)
    return client.post(
        "/key-times/entries", data=data, content_type="multipart/form-data", headers=headers
    )


PREVIEW = "Check the upload before it is applied"


def preview_form(response) -> tuple[str, str]:
    """The Confirm form's action and plan on a preview page."""
    page = response.get_data(as_text=True)
    assert PREVIEW in page, page[:3000]
    action = re.search(r'<form method="post" action="([^"]+/waiting/[^"/]+)"', page).group(1)
    plan = re.search(r'name="plan" value="([0-9a-f]+)"', page).group(1)
    return action, plan


def confirm(client, response, plan=None):
    """Press Confirm on the preview `response` shows (with another plan, if given)."""
    action, shown = preview_form(response)
    return client.post(
        action, data={"plan": plan or shown, "csrf_token": csrf_token_of(client, "/")}
    )


def report(client, response) -> str:
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    return client.get(response.headers["Location"]).get_data(as_text=True)


def entries(db, series=SERIES, live=True) -> set[tuple[str, str, str]]:
    """(centre number, syllabus, component) of the stored entries, live or withdrawn."""
    db.session.rollback()
    withdrawn = Entry.withdrawn_at.is_(None) if live else Entry.withdrawn_at.is_not(None)
    rows = db.session.execute(
        select(Centre.number, Entry.syllabus, Entry.component)
        .join(Centre, Centre.id == Entry.centre_id)
        .where(Entry.series == series, withdrawn)
    ).all()
    return {tuple(row) for row in rows}


def open_errors(db) -> list[tuple]:
    """(kind, row, centre number, syllabus, component) of the open Entry Errors."""
    db.session.rollback()
    rows = db.session.execute(
        select(
            EntryError.kind,
            EntryError.row,
            EntryError.centre_number,
            EntryError.syllabus,
            EntryError.component,
        ).where(EntryError.resolved_at.is_(None), EntryError.dismissed_at.is_(None))
    ).all()
    return sorted((tuple(row) for row in rows), key=lambda r: (r[1] is None, r[1] or 0, r))
