"""Upload Resources - TP: files are checked, shown in a confirmation table, and saved
all together or not at all."""

import errno
import io
import os
import sqlite3

from sqlalchemy import func, select

from app.extensions import db as _db
from app.models import Event, Resource, ResourceFile
from tests.resources import files
from tests.resources.conftest import ROW, sha256, signed_in_client


def stored_files(resource_dir):
    folder = resource_dir / "files"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_files_named_the_boards_way_are_filled_in_confirmed_and_saved(
    client, login_as, upload, confirm, db, resource_dir
):
    producer = login_as("tp")
    paper, insert = files.pdf("qp"), files.pdf("insert")
    response = upload([("0580_s26_qp_22.pdf", paper), ("0580_s26_in_22.pdf", insert)])
    assert response.status_code == 302
    location = response.headers["Location"]

    page = client.get(location).get_data(as_text=True)
    assert "Check the upload" in page
    assert "0580_s26_qp_22.pdf" in page and "0580 June 2026 Question paper 22" in page
    assert db.session.scalar(select(func.count()).select_from(Resource)) == 0  # nothing yet

    rows = [
        {
            "series": "2026-06",
            "syllabus": "0580",
            "component": "22",
            "kind": "question-paper",
            "title": "0580 June 2026 Question paper 22",
        },
        {
            "series": "2026-06",
            "syllabus": "0580",
            "component": "22",
            "kind": "insert",
            "title": "0580 June 2026 Insert 22",
        },
    ]
    saved = confirm(location, rows)
    assert saved.status_code == 302, saved.get_data(as_text=True)
    assert "Saved 2 resources." in client.get(saved.headers["Location"]).get_data(as_text=True)

    stored = db.session.scalars(select(ResourceFile).order_by(ResourceFile.id)).all()
    assert [(f.original_name, f.sha256, f.size, f.number) for f in stored] == [
        ("0580_s26_qp_22.pdf", sha256(paper), len(paper), 1),
        ("0580_s26_in_22.pdf", sha256(insert), len(insert), 1),
    ]
    assert all(
        f.uploaded_by_id == producer.id and f.media_type == "application/pdf" for f in stored
    )
    assert stored_files(resource_dir) == sorted(f.stored_name for f in stored)
    assert (resource_dir / "files" / stored[0].stored_name).read_bytes() == paper
    actions = db.session.scalars(select(Event.action).where(Event.action.like("resource.%")))
    assert sorted(actions) == ["resource.uploaded", "resource.uploaded"]
    # The batch is gone once saved (a note says it was): nothing waits in pending/ or incoming/.
    assert [p.suffix for p in (resource_dir / "pending").iterdir()] == [".saved"]
    assert list((resource_dir / "incoming").iterdir()) == []


def resource_count(db) -> int:
    return db.session.scalar(select(func.count()).select_from(Resource))


def test_each_refused_file_says_why_on_its_row_and_leaves_nothing(
    client, login_as, upload, resource_dir
):
    login_as("tp")
    response = upload(
        [
            ("0580_s26_qp_22.pdf", files.pdf()),
            ("empty.pdf", b""),
            ("setup.pdf", files.windows_program()),
            ("notes.docm", files.ooxml("word/document.xml", macros=True)),
            ("report.docx", files.ooxml("word/document.xml", macros=True)),
            ("../../x.pdf", files.pdf("path")),
            ("song.mp3", files.pdf("not audio")),
            ("program.exe", files.windows_program()),
        ]
    )
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "7 files refused" in page
    for reason in (
        "The file is empty.",
        "is a program (Windows executable)",
        "macro-enabled Office files are not accepted",
        "contains macros",
        "contains folder parts",
        "does not look like an MP3",
        ".exe files are not accepted",
    ):
        assert reason in page, reason
    assert "Save 1 resource" in page
    # Only the accepted file waits; nothing refused was kept anywhere.
    pending = [p for p in (resource_dir / "pending").rglob("*") if p.is_file()]
    assert sorted(p.name for p in pending) == ["1", "batch.json"]
    assert list((resource_dir / "incoming").iterdir()) == []


def test_a_file_over_the_size_limit_is_refused_and_not_kept(
    make_app, make_user, csrf_token, resource_dir
):
    app = make_app(RESOURCE_MAX_MB=1)
    client = signed_in_client(app, make_user("tp"))
    data = {
        "csrf_token": csrf_token(client, "/resources/upload"),
        "files": [(io.BytesIO(b"%PDF-1.7\n" + b"x" * (1024 * 1024)), "big.pdf")],
    }
    response = client.post("/resources/upload", data=data, content_type="multipart/form-data")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "It is larger than 1 MB, the largest file the portal accepts." in page
    assert list((resource_dir / "incoming").iterdir()) == []


def test_metadata_problems_are_shown_on_their_rows_and_nothing_is_saved(
    client, login_as, upload, confirm, db
):
    login_as("admin")
    location = upload([("a.pdf", files.pdf("a")), ("b.pdf", files.pdf("b"))]).headers["Location"]
    page = client.get(location).get_data(as_text=True)
    assert "Not named the board&#39;s way" in page or "Not named the board's way" in page
    bad = {**ROW, "syllabus": "58", "component": "2x"}
    response = confirm(location, [ROW, bad])
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Row 2 (b.pdf): Syllabus code must be 4 digits" in page
    assert "Component must be 2 digits" in page
    assert resource_count(db) == 0
    # Corrected, both are saved together.
    fixed = {**ROW, "kind": "insert", "title": "Insert 22"}
    assert confirm(location, [ROW, fixed]).status_code == 302
    assert resource_count(db) == 2


def test_an_identical_file_with_the_same_details_is_reported_not_stored_twice(
    client, login_as, upload, confirm, db
):
    login_as("tp")
    paper = files.pdf("same")
    first = upload([("0580_s26_qp_22.pdf", paper)]).headers["Location"]
    assert confirm(first, [ROW]).status_code == 302
    second = upload([("copy.pdf", paper), ("0580_s26_qp_22.pdf", paper)]).headers["Location"]
    response = confirm(second, [ROW, ROW])
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "identical to version 1 of “Paper 22”" in page
    assert resource_count(db) == 1
    # With other details (another component), the same file is a new resource.
    other = {**ROW, "component": "21"}
    assert confirm(second, [other, {**other, "kind": "insert"}]).status_code == 302
    assert resource_count(db) == 3


def test_the_same_file_twice_in_one_upload_is_a_problem(client, login_as, upload, confirm, db):
    login_as("tp")
    paper = files.pdf("twice")
    location = upload([("one.pdf", paper), ("two.pdf", paper)]).headers["Location"]
    response = confirm(location, [ROW, ROW])
    assert "It is identical to row 1 (one.pdf)" in response.get_data(as_text=True)
    assert resource_count(db) == 0


def test_cancel_deletes_the_waiting_files(client, login_as, upload, csrf_token, resource_dir):
    login_as("tp")
    location = upload([("0580_s26_qp_22.pdf", files.pdf())]).headers["Location"]
    token = location.rsplit("/", 1)[1]
    assert (resource_dir / "pending" / token).is_dir()
    response = client.post(f"{location}/cancel", data={"csrf_token": csrf_token(client, location)})
    assert response.status_code == 302
    assert not (resource_dir / "pending" / token).exists()
    page = client.get(location, follow_redirects=True).get_data(as_text=True)
    assert "This upload is no longer waiting" in page


def test_another_users_batch_cannot_be_opened_or_saved(
    app, client, login_as, upload, make_user, csrf_token, db
):
    login_as("tp")
    location = upload([("0580_s26_qp_22.pdf", files.pdf())]).headers["Location"]
    other = signed_in_client(app, make_user("tp"))
    page = other.get(location, follow_redirects=True).get_data(as_text=True)
    assert "This upload is no longer waiting" in page
    data = {"csrf_token": csrf_token(other, "/resources/upload")}
    data.update({f"rows-0-{k}": v for k, v in ROW.items()})
    other.post(location, data=data)
    assert resource_count(db) == 0


def test_choosing_no_file_says_so(client, login_as, csrf_token):
    login_as("tp")
    data = {"csrf_token": csrf_token(client, "/resources/upload")}
    response = client.post("/resources/upload", data=data, content_type="multipart/form-data")
    assert response.status_code == 422
    assert "Choose one or more files to upload." in response.get_data(as_text=True)


def test_a_full_disk_refuses_the_file_and_leaves_nothing(
    client, login_as, upload, monkeypatch, resource_dir, db
):
    login_as("tp")
    real_open = open

    class FullDisk:
        def __init__(self, file):
            self._file = file

        def write(self, data):
            raise OSError(errno.ENOSPC, "No space left on device")

        def __getattr__(self, name):
            return getattr(self._file, name)

    def opener(path, mode="r", *args, **kwargs):
        file = real_open(path, mode, *args, **kwargs)
        return FullDisk(file) if str(path).endswith(".part") else file

    monkeypatch.setattr("app.services.resources.storage.open", opener, raising=False)
    response = upload([("0580_s26_qp_22.pdf", files.pdf())])
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "The portal&#39;s disk is full" in page or "The portal's disk is full" in page
    assert list((resource_dir / "incoming").iterdir()) == []
    assert resource_count(db) == 0


BOUNDARY = "portalboundary"


def upload_head(token: str) -> bytes:
    """A multipart body by hand, up to the start of one file's content (a.pdf)."""
    return (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{token}\r\n'
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="files"; filename="a.pdf"\r\n'
        "Content-Type: application/pdf\r\n\r\n"
    ).encode()


def test_a_client_that_disconnects_mid_upload_leaves_no_file(
    client, login_as, csrf_token, resource_dir, db
):
    login_as("tp")
    token = csrf_token(client, "/resources/upload")
    head = upload_head(token) + b"%PDF-1.7\n" + b"x" * 200_000
    response = client.post(
        "/resources/upload",
        input_stream=io.BytesIO(head),  # the body ends long before Content-Length says
        content_type=f"multipart/form-data; boundary={BOUNDARY}",
        environ_overrides={"CONTENT_LENGTH": str(len(head) + 500_000)},
    )
    assert response.status_code == 400
    assert list((resource_dir / "incoming").iterdir()) == []
    assert (
        not (resource_dir / "pending").exists() or list((resource_dir / "pending").iterdir()) == []
    )
    assert resource_count(db) == 0


def test_a_file_of_several_mebibytes_is_stored_whole_with_its_hash(
    client, login_as, upload, confirm, db, resource_dir
):
    """Past the first MiB the hash is computed on a thread of its own: it must still be
    the hash of every byte, in order."""
    login_as("tp")
    content = b"%PDF-1.7\n" + os.urandom(3 * 1024 * 1024 + 123)
    location = upload([("0580_s26_qp_22.pdf", content)]).headers["Location"]
    assert confirm(location, [ROW]).status_code == 302
    stored = db.session.scalar(select(ResourceFile))
    assert (stored.size, stored.sha256) == (len(content), sha256(content))
    assert (resource_dir / "files" / stored.stored_name).read_bytes() == content


def test_a_body_larger_than_every_file_allowed_is_refused_before_it_is_read(
    client, login_as, csrf_token, resource_dir, app
):
    login_as("tp")
    token = csrf_token(client, "/resources/upload")
    limit = app.config["RESOURCE_MAX_FILES"] * app.config["RESOURCE_MAX_MB"] * 1024 * 1024
    response = client.post(
        "/resources/upload",
        input_stream=io.BytesIO(b"--b\r\n"),
        content_type="multipart/form-data; boundary=b",
        headers={"X-CSRFToken": token},
        environ_overrides={"CONTENT_LENGTH": str(limit + 2 * 1024 * 1024)},
    )
    assert response.status_code == 413
    page = response.get_data(as_text=True)
    assert "This page accepts 50 files at a time, each at most 500 MB." in page
    assert not (resource_dir / "incoming").exists() or not list(
        (resource_dir / "incoming").iterdir()
    )


def test_saving_the_same_upload_again_says_it_was_saved(client, login_as, upload, confirm, db):
    login_as("tp")
    location = upload([("0580_s26_qp_22.pdf", files.pdf())]).headers["Location"]
    assert confirm(location, [ROW]).status_code == 302
    again = confirm(location, [ROW])  # a second click, or Back and Save
    assert again.status_code == 302 and again.headers["Location"].endswith("/resources/")
    page = client.get(again.headers["Location"]).get_data(as_text=True)
    assert "This upload has already been saved (1 resource)" in page
    assert resource_count(db) == 1


def test_a_save_whose_commit_fails_keeps_no_file_and_can_be_saved_again(
    app, client, login_as, upload, confirm, db, resource_dir, monkeypatch
):
    """The rows roll back, so the files kept for them go, and the upload still waits."""
    from flask import has_request_context, request
    from sqlalchemy.exc import OperationalError
    from sqlalchemy.orm import Session

    login_as("tp")
    location = upload([("0580_s26_qp_22.pdf", files.pdf())]).headers["Location"]
    real_commit = Session.commit

    def failing_commit(session):
        if (
            has_request_context()
            and request.method == "POST"
            and not session.in_nested_transaction()
        ):
            raise OperationalError("COMMIT", {}, Exception("database or disk is full"))
        return real_commit(session)

    monkeypatch.setattr(Session, "commit", failing_commit)
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)
    response = confirm(location, [ROW])
    assert response.status_code == 500
    monkeypatch.setattr(Session, "commit", real_commit)
    assert resource_count(db) == 0
    assert list((resource_dir / "files").iterdir()) == []
    assert confirm(location, [ROW]).status_code == 302  # the upload waited
    assert resource_count(db) == 1


def test_a_malformed_body_says_the_upload_could_not_be_read(
    client, login_as, csrf_token, resource_dir
):
    login_as("tp")
    token = csrf_token(client, "/resources/upload")
    response = client.post(
        "/resources/upload",
        data=b"x" * 100_000,  # no boundary anywhere
        content_type="multipart/form-data; boundary=portal",
        headers={"X-CSRFToken": token},
    )
    assert response.status_code == 400
    assert "The upload could not be read" in response.get_data(as_text=True)
    assert not (resource_dir / "incoming").exists() or not list(
        (resource_dir / "incoming").iterdir()
    )


def test_more_files_than_an_upload_takes_are_refused_as_they_arrive(
    make_app, make_user, csrf_token, resource_dir
):
    app = make_app(RESOURCE_MAX_FILES=2)
    client = signed_in_client(app, make_user("tp"))
    data = {
        "csrf_token": csrf_token(client, "/resources/upload"),
        "files": [(io.BytesIO(files.pdf(str(n))), f"{n}.pdf") for n in range(3)],
    }
    response = client.post("/resources/upload", data=data, content_type="multipart/form-data")
    assert response.status_code == 413
    assert "This page accepts 2 files at a time" in response.get_data(as_text=True)
    assert list((resource_dir / "incoming").iterdir()) == []


def test_no_transaction_is_open_while_an_upload_arrives(client, login_as, csrf_token, database_url):
    """While a (long) upload's body is still arriving the request holds no transaction,
    so no lock: on SQLite, another connection can take the write lock meanwhile."""
    login_as("tp")
    token = csrf_token(client, "/resources/upload")
    head = upload_head(token) + files.pdf()
    tail = f"\r\n--{BOUNDARY}--\r\n".encode()
    seen = {}

    class SlowBody(io.RawIOBase):
        chunks = [head, b"\n" * 1000, tail]

        def readable(self):
            return True

        def readinto(self, buffer):
            if not self.chunks:
                return 0
            if len(self.chunks) == 2:  # mid-upload, inside the request
                seen["in_transaction"] = _db.session().in_transaction()
                if database_url.startswith("sqlite"):
                    seen["other_writer"] = other_sqlite_writer(database_url)
            chunk = self.chunks.pop(0)
            buffer[: len(chunk)] = chunk
            return len(chunk)

    length = len(head) + 1000 + len(tail)
    response = client.post(
        "/resources/upload",
        environ_overrides={
            "wsgi.input": io.BufferedReader(SlowBody()),
            "CONTENT_LENGTH": str(length),
            "CONTENT_TYPE": f"multipart/form-data; boundary={BOUNDARY}",
        },
    )
    assert response.status_code == 302
    assert seen["in_transaction"] is False
    if database_url.startswith("sqlite"):
        assert seen["other_writer"] == "wrote"


def other_sqlite_writer(database_url: str) -> str:
    """Whether another connection can take SQLite's write lock now."""
    other = sqlite3.connect(database_url.removeprefix("sqlite:///"), timeout=0)
    other.isolation_level = None
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
        return "wrote"
    except sqlite3.OperationalError as error:
        return str(error)
    finally:
        other.close()


def test_an_upload_left_waiting_for_a_day_is_deleted(client, login_as, upload, clock, resource_dir):
    login_as("tp")
    location = upload([("0580_s26_qp_22.pdf", files.pdf())]).headers["Location"]
    token = location.rsplit("/", 1)[1]
    clock.advance(hours=23)
    client.get("/resources/upload")
    assert (resource_dir / "pending" / token).is_dir()
    clock.advance(hours=2)
    client.get("/resources/upload")
    assert not (resource_dir / "pending" / token).exists()
    page = client.get(location, follow_redirects=True).get_data(as_text=True)
    assert "This upload is no longer waiting" in page
