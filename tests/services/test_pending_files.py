"""Workbooks waiting for Confirm: only their admin, only their kind, never past expiry."""

from app.services.spreadsheets.pending import PendingFiles


def test_a_kept_file_is_found_only_by_its_admin_and_kind_until_it_expires(tmp_path, clock):
    pending = PendingFiles(tmp_path)
    token = pending.keep("entries", b"PK...", "entries.xlsx", 7, series="2026-06")
    found = pending.find("entries", token, 7)
    assert (found.content, found.file_name, found.about) == (
        b"PK...",
        "entries.xlsx",
        {"series": "2026-06"},
    )
    assert pending.find("entries", token, 8) is None
    assert pending.find("timetable", token, 7) is None
    assert pending.find("entries", "../" + token[3:], 7) is None
    clock.advance(hours=25)
    assert pending.find("entries", token, 7) is None
    pending.keep("entries", b"PK2", "other.xlsx", 7)  # keeping another clears expired ones
    assert not (tmp_path / "pending-sheets" / f"{token}.xlsx").exists()


def test_a_discarded_file_is_gone(tmp_path):
    pending = PendingFiles(tmp_path)
    token = pending.keep("timetable", b"PK", "t.xlsx", 1)
    pending.discard(token)
    assert pending.find("timetable", token, 1) is None
    assert list((tmp_path / "pending-sheets").iterdir()) == []
