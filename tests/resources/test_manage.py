"""Manage Resources - TP: the list, details, Replace file, Download, Delete and Undo."""

import io

import pytest
from sqlalchemy import select

from app.models import Download, Event, Resource
from tests.resources import files
from tests.resources.conftest import ROW, sha256


@pytest.fixture
def stored(client, upload, confirm, db):
    """Upload and save resources: [(name, content, row)] → the Resources, in order."""

    def store(items):
        location = upload([(name, content) for name, content, _ in items]).headers["Location"]
        response = confirm(location, [row for _, _, row in items])
        assert response.status_code == 302, response.get_data(as_text=True)
        db.session.rollback()
        return db.session.scalars(select(Resource).order_by(Resource.id)).all()[-len(items) :]

    return store


def test_the_list_filters_by_series_syllabus_kind_and_text(client, login_as, stored):
    login_as("tp")
    stored(
        [
            ("0580_s26_qp_22.pdf", files.pdf("1"), ROW),
            ("0580_s26_in_22.pdf", files.pdf("2"), {**ROW, "kind": "insert", "title": "Insert"}),
            (
                "0610_w26_qp_41.pdf",
                files.pdf("3"),
                {
                    **ROW,
                    "series": "2026-11",
                    "syllabus": "0610",
                    "component": "41",
                    "title": "Biology paper",
                },
            ),
        ]
    )
    page = client.get("/resources/").get_data(as_text=True)
    assert "3 resources." in page and "0580_s26_qp_22.pdf" in page
    page = client.get("/resources/?series=2026-11").get_data(as_text=True)
    assert "Biology paper" in page and "Paper 22" not in page
    page = client.get("/resources/?syllabus=0580&kind=insert").get_data(as_text=True)
    assert "1 resource matching." in page and "Insert" in page and "Biology" not in page
    page = client.get("/resources/?q=biology").get_data(as_text=True)
    assert "Biology paper" in page and "Paper 22" not in page
    # htmx asks for the results only.
    fragment = client.get(
        "/resources/?q=paper", headers={"HX-Request": "true", "HX-Target": "resource-results"}
    ).get_data(as_text=True)
    assert "<h1>" not in fragment and "Biology paper" in fragment
    page = client.get("/resources/?q=nothing-like-it").get_data(as_text=True)
    assert "No resources match these filters." in page


def test_the_list_is_paged(client, login_as, stored, monkeypatch):
    monkeypatch.setattr("app.services.resources.catalogue.PAGE_SIZE", 2)
    login_as("tp")
    stored([(f"f{n}.pdf", files.pdf(str(n)), {**ROW, "component": f"2{n}"}) for n in range(1, 4)])
    first = client.get("/resources/").get_data(as_text=True)
    assert "Showing 1–2 of 3 resources." in first and "Page 1 of 2" in first
    assert "f1.pdf" in first and "f2.pdf" in first and "f3.pdf" not in first
    assert 'href="/resources/?page=2" rel="next"' in first
    second = client.get("/resources/?page=2").get_data(as_text=True)
    assert "Showing 3–3 of 3 resources." in second and "f3.pdf" in second
    assert "f1.pdf" not in second
    # A page past the last shows the last.
    assert "Page 2 of 2" in client.get("/resources/?page=99").get_data(as_text=True)


def test_details_are_edited_and_a_stale_form_is_refused(client, login_as, stored, csrf_token, db):
    login_as("admin")
    (resource,) = stored([("0580_s26_qp_22.pdf", files.pdf(), ROW)])
    url = f"/resources/{resource.id}"
    token = csrf_token(client, url)
    form = {
        **ROW,
        "title": "Mathematics Paper 22",
        "version": resource.version,
        "csrf_token": token,
    }
    response = client.post(url, data=form)
    assert response.status_code == 302
    db.session.rollback()
    saved = db.session.get(Resource, resource.id)
    assert saved.title == "Mathematics Paper 22"
    # The same (now stale) version again: refused, naming who changed it.
    response = client.post(url, data={**form, "title": "Another title"})
    assert response.status_code == 409
    assert "was changed by" in response.get_data(as_text=True)
    db.session.rollback()
    assert db.session.get(Resource, resource.id).title == "Mathematics Paper 22"
    # A field out of range is shown by its field.
    bad = {**form, "version": saved.version, "component": "123"}
    response = client.post(url, data=bad)
    assert response.status_code == 422
    assert "Component must be 2 digits" in response.get_data(as_text=True)


def test_replace_makes_a_new_version_and_keeps_the_old(client, login_as, stored, csrf_token, db):
    login_as("tp")
    old = files.pdf("version one")
    (resource,) = stored([("0580_s26_qp_22.pdf", old, ROW)])
    url = f"/resources/{resource.id}"
    new = files.pdf("version two")
    data = {
        "csrf_token": csrf_token(client, url),
        "version": resource.version,
        "file": (io.BytesIO(new), "0580_s26_qp_22_v2.pdf"),
    }
    response = client.post(f"{url}/replace", data=data, content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)
    db.session.rollback()
    resource = db.session.get(Resource, resource.id)
    assert resource.current_version == 2
    assert [(f.number, f.sha256) for f in resource.files] == [(1, sha256(old)), (2, sha256(new))]
    page = client.get(url).get_data(as_text=True)
    assert "Version 2 (0580_s26_qp_22_v2.pdf) is now the current file." in page
    assert sha256(new) in page
    # Both versions download, each recorded.
    assert client.get(f"{url}/versions/1/download").data == old
    current = client.get(f"{url}/versions/2/download")
    assert current.data == new
    assert "attachment" in current.headers["Content-Disposition"]
    assert current.headers["Cache-Control"] == "private, no-store"
    downloads = db.session.scalars(select(Download).order_by(Download.id)).all()
    assert [(d.resource_file.number, d.status) for d in downloads] == [(1, "sent"), (2, "sent")]
    assert db.session.scalar(select(Event.action).where(Event.action == "resource.replaced"))


def test_replacing_with_an_identical_or_wrong_file_is_refused(
    client, login_as, stored, csrf_token, db
):
    login_as("tp")
    paper = files.pdf()
    (resource,) = stored([("0580_s26_qp_22.pdf", paper, ROW)])
    url = f"/resources/{resource.id}"
    for content, name, message in (
        (
            paper,
            "again.pdf",
            "again.pdf&#34;: It is identical to version 1 (0580_s26_qp_22.pdf). "
            "Nothing was replaced.",
        ),
        (files.windows_program(), "new.pdf", "is a program (Windows executable)"),
        (b"", "empty.pdf", "The file is empty."),
    ):
        data = {
            "csrf_token": csrf_token(client, url),
            "version": resource.version,
            "file": (io.BytesIO(content), name),
        }
        response = client.post(f"{url}/replace", data=data, content_type="multipart/form-data")
        assert response.status_code == 422
        assert message in response.get_data(as_text=True)
    db.session.rollback()
    assert db.session.get(Resource, resource.id).current_version == 1


def test_a_range_request_is_answered_and_recorded(client, login_as, stored, db):
    login_as("tp")
    paper = files.pdf("ranged")
    (resource,) = stored([("0580_s26_qp_22.pdf", paper, ROW)])
    response = client.get(
        f"/resources/{resource.id}/versions/1/download", headers={"Range": "bytes=0-3"}
    )
    assert response.status_code == 206 and response.data == paper[:4]
    download = db.session.scalar(select(Download))
    assert download.range == "bytes=0-3" and download.status == "sent"


def test_a_missing_file_is_a_recorded_refusal(client, login_as, stored, db, resource_dir):
    login_as("tp")
    (resource,) = stored([("0580_s26_qp_22.pdf", files.pdf(), ROW)])
    (resource_dir / "files" / resource.current_file.stored_name).unlink()
    response = client.get(f"/resources/{resource.id}/versions/1/download")
    assert response.status_code == 404
    assert "missing from the portal" in response.get_data(as_text=True)
    download = db.session.scalar(select(Download))
    assert (download.status, download.reason) == ("refused", "file missing from storage")


def test_delete_asks_then_hides_and_undo_brings_it_back(client, login_as, stored, csrf_token, db):
    login_as("tp")
    (resource,) = stored([("0580_s26_qp_22.pdf", files.pdf(), ROW)])
    url = f"/resources/{resource.id}"
    read_version = resource.version
    ask = client.get(f"{url}/delete?version={resource.version}").get_data(as_text=True)
    assert "Delete “Paper 22”?" in ask and "soft delete" in ask
    token = csrf_token(client, url)
    response = client.post(f"{url}/delete", data={"csrf_token": token, "version": resource.version})
    assert response.status_code == 302
    listed = client.get("/resources/").get_data(as_text=True)
    assert "There are no resources yet" not in listed
    assert "1 deleted resource matches: switch on “Show deleted resources”" in listed
    assert "Paper 22" not in client.get("/resources/").get_data(as_text=True)
    assert "Paper 22" in client.get("/resources/?deleted=1").get_data(as_text=True)
    page = client.get(url).get_data(as_text=True)
    assert "This resource is deleted" in page
    # Undo Delete from a page read before the delete is refused; from the current one, done.
    stale = client.post(f"{url}/restore", data={"csrf_token": token, "version": read_version})
    assert stale.status_code == 409
    db.session.rollback()
    deleted = db.session.get(Resource, resource.id)
    assert deleted.is_deleted
    done = client.post(f"{url}/restore", data={"csrf_token": token, "version": deleted.version})
    assert done.status_code == 302
    assert "Paper 22" in client.get("/resources/").get_data(as_text=True)
    actions = db.session.scalars(select(Event.action).where(Event.subject_type == "Resource"))
    assert sorted(actions) == ["resource.deleted", "resource.restored", "resource.uploaded"]


def test_a_delete_from_a_stale_page_is_refused(client, login_as, stored, csrf_token, db):
    login_as("tp")
    (resource,) = stored([("0580_s26_qp_22.pdf", files.pdf(), ROW)])
    url = f"/resources/{resource.id}"
    token = csrf_token(client, url)
    response = client.post(f"{url}/delete", data={"csrf_token": token, "version": 0})
    assert response.status_code == 409
    db.session.rollback()
    assert db.session.get(Resource, resource.id).deleted_at is None


def test_a_range_outside_the_file_and_a_current_copy_are_recorded_as_such(
    client, login_as, stored, db
):
    login_as("tp")
    paper = files.pdf("ranged")
    (resource,) = stored([("0580_s26_qp_22.pdf", paper, ROW)])
    url = f"/resources/{resource.id}/versions/1/download"
    outside = client.get(url, headers={"Range": f"bytes={len(paper) + 10}-"})
    assert outside.status_code == 416
    current = client.get(url, headers={"If-None-Match": f'"{sha256(paper)}"'})
    assert current.status_code == 304 and current.data == b""
    downloads = db.session.scalars(select(Download).order_by(Download.id)).all()
    assert [(d.status, d.reason) for d in downloads] == [
        ("refused", "416 Requested Range Not Satisfiable"),
        ("not-modified", None),
    ]


def test_details_that_would_duplicate_another_resource_are_refused(
    client, login_as, stored, csrf_token, db
):
    login_as("tp")
    same = files.pdf("shared insert")
    first, second = stored(
        [("a.pdf", same, ROW), ("b.pdf", same, {**ROW, "component": "21", "title": "Paper 21"})]
    )
    url = f"/resources/{second.id}"
    form = {
        **ROW,
        "title": "Paper 21",
        "version": second.version,
        "csrf_token": csrf_token(client, url),
    }
    response = client.post(url, data=form)  # component 21 → 22: the same file as `first`
    assert response.status_code == 422
    assert (
        "With these details it would duplicate another resource: its file is identical to "
        "version 1 of “Paper 22”" in response.get_data(as_text=True)
    )
    db.session.rollback()
    assert db.session.get(Resource, second.id).component == "21"


def test_paging_links_carry_only_the_filters(client, login_as, stored, monkeypatch):
    """Query values that are not filters never reach the page links (they were once
    url_for's own arguments: ?endpoint=x was a 500)."""
    monkeypatch.setattr("app.services.resources.catalogue.PAGE_SIZE", 1)
    login_as("tp")
    stored([(f"f{n}.pdf", files.pdf(str(n)), {**ROW, "component": f"2{n}"}) for n in range(1, 3)])
    response = client.get("/resources/?endpoint=x&_external=1&_scheme=javascript&syllabus=0580")
    assert response.status_code == 200
    assert 'href="/resources/?syllabus=0580&amp;page=2" rel="next"' in response.get_data(
        as_text=True
    )
