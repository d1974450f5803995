"""Upload Resources - TP: files are checked, shown in a confirmation table, and saved
all together or not at all."""

from sqlalchemy import func, select

from app.models import Event, Resource, ResourceFile
from tests.resources import files
from tests.resources.conftest import sha256


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
    # The batch is gone once saved: nothing waits in pending/ or incoming/.
    assert list((resource_dir / "pending").iterdir()) == []
    assert list((resource_dir / "incoming").iterdir()) == []
