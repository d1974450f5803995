"""Fixtures and helpers of the Key Times page tests (imported by each test module, so
that they do not depend on whichever conftest.py this folder ends up with)."""

import io
import re
from datetime import date

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from app.models import Entry, Event, KeyTime, KeyTimeError, TimetableSlot
from tests.conftest import csrf_token_of

JUNE = "2026-06"
NOVEMBER = "2026-11"
HTMX = {"HX-Request": "true"}
HEADER = ("Country", "Time Zone", "Session", "Key Time", "GMT")


@pytest.fixture(autouse=True)
def temporary_instance_folder(app, monkeypatch, tmp_path):
    """Uploads waiting for Confirm are kept under the instance folder: a temporary one.
    (Autouse in every module that imports it.)"""
    monkeypatch.setattr(app, "instance_path", str(tmp_path))


@pytest.fixture
def admin(client, login_as, clock):
    """The client signed in as an admin, on 1 June 2026 (the clock stopped)."""
    return login_as("admin")


@pytest.fixture
def csrf(client, admin):
    """The CSRF token of the admin's session."""
    return csrf_token_of(client, "/key-times/")


def add_key_time(db, country="GB", timezone="", series=JUNE, **times) -> KeyTime:
    db.session.rollback()
    row = KeyTime(series=series, country=country, timezone=timezone, **times)
    db.session.add(row)
    db.session.commit()
    db.session.refresh(row)
    return row


def add_slot(db, series=JUNE, syllabus="0580", component="22", day=date(2026, 6, 2), session="AM"):
    db.session.rollback()
    slot = TimetableSlot(
        series=series,
        syllabus=syllabus,
        component=component,
        exam_date=day,
        session=session,
        duration_minutes=90,
    )
    db.session.add(slot)
    db.session.commit()
    return slot


def enter(db, centre, series=JUNE, syllabus="0580", component="22") -> None:
    db.session.rollback()
    db.session.add(
        Entry(series=series, centre_id=centre.id, syllabus=syllabus, component=component)
    )
    db.session.commit()


def stored(db, series=JUNE) -> dict:
    """(country, zone) → (am, pm, ev, am_gmt, pm_gmt, ev_gmt) of a series."""
    db.session.rollback()
    return {
        (r.country, r.timezone): (r.am, r.pm, r.ev, r.am_gmt, r.pm_gmt, r.ev_gmt)
        for r in db.session.scalars(select(KeyTime).where(KeyTime.series == series))
    }


def events(db, action: str) -> list[Event]:
    db.session.rollback()
    return list(db.session.scalars(select(Event).where(Event.action == action).order_by(Event.id)))


def key_time_errors(db) -> list[tuple]:
    db.session.rollback()
    return db.session.execute(
        select(KeyTimeError.kind, KeyTimeError.country, KeyTimeError.session).order_by(
            KeyTimeError.kind, KeyTimeError.country
        )
    ).all()


def count(db, model) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(model))


def workbook(rows, header=HEADER) -> bytes:
    """A key-times workbook: text cells, and time cells where a row gives a datetime.time."""
    book = Workbook()
    sheet = book.active
    sheet.title = "Key times"
    if header is not None:
        sheet.append(list(header))
    for values in rows:
        sheet.append(list(values))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def upload(client, content: bytes, series=JUNE, name="key-times.xlsx", **kwargs):
    data = {
        "series": series,
        "file": (io.BytesIO(content), name),
        "csrf_token": csrf_token_of(client, "/key-times/upload"),
    }
    return client.post("/key-times/upload", data=data, content_type="multipart/form-data", **kwargs)


def confirm(client, response):
    """Press Confirm on the preview that `response` shows."""
    page = response.get_data(as_text=True)
    assert "Check the upload before it is applied" in page, page[:3000]
    action = re.search(r'<form method="post" action="(/key-times/upload/waiting/[^"]+)"', page)
    plan = re.search(r'name="plan" value="([0-9a-f]+)"', page).group(1)
    return client.post(
        action.group(1), data={"plan": plan, "csrf_token": csrf_token_of(client, "/key-times/")}
    )


def text_of(html: str) -> str:
    """A page's text, tags removed and spaces squeezed, to assert what a user reads."""
    text = re.sub(r"<[^>]+>", " ", html)
    for entity, char in (
        ("&amp;", "&"),
        ("&#34;", '"'),
        ("&#39;", "'"),
        ("&lt;", "<"),
        ("&gt;", ">"),
    ):
        text = text.replace(entity, char)
    return " ".join(text.split())


def row_html(html: str, dom_id: str) -> str:
    """The <tr> with this id."""
    match = re.search(rf'<tr id="{re.escape(dom_id)}"[^>]*>.*?</tr>', html, re.S)
    assert match, f"no row {dom_id}"
    return match.group(0)
