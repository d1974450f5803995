"""Deleting an account keeps what it did on record: its downloads keep the email they
were made with; uploads, releases and entry uploads no longer point to it."""

from sqlalchemy import select

from app.models import Download, Release, ResourceFile, User
from app.services.accounts.users import delete_centre_user, delete_staff
from app.services.resources.catalogue import record_download
from tests.releases.conftest import SERIES


def stored_file(db, paper, **details) -> ResourceFile:
    file = ResourceFile(
        resource_id=paper.id,
        number=1,
        original_name="paper.pdf",
        stored_name=f"stored-{paper.id}",
        size=1,
        sha256="0" * 64,
        media_type="application/pdf",
        **details,
    )
    db.session.add(file)
    db.session.flush()
    return file


def test_a_centre_user_who_downloaded_can_be_deleted(db, make_centre, make_user, paper):
    centre = make_centre()
    user = make_user(centre=centre, email="exams@gb.example")
    file = stored_file(db, paper)
    record_download(file, user, ip="192.0.2.1", user_agent="test", range_header=None)
    record_download(
        file,
        user,
        ip="192.0.2.1",
        user_agent="test",
        range_header=None,
        status="refused",
        reason="too early",
    )
    db.session.commit()

    delete_centre_user(db.session.get(User, user.id))
    db.session.commit()

    kept = db.session.scalars(select(Download).order_by(Download.id)).all()
    assert [(d.user_id, d.user_email, d.status) for d in kept] == [
        (None, "exams@gb.example", "sent"),
        (None, "exams@gb.example", "refused"),
    ]
    assert db.session.get(User, user.id) is None


def test_a_staff_member_who_uploaded_and_released_can_be_deleted(
    client, db, login_as, make_centre, make_user, paper
):
    from app.services.releases.planning import plan_release, save_release
    from app.services.releases.windows import WindowRule

    make_centre()
    tp = make_user("admin", email="producer@board.example")
    file = stored_file(db, paper, uploaded_by_id=tp.id)
    release = save_release(
        plan_release(SERIES, [paper.id], "all", WindowRule()), title="June", actor_id=tp.id
    )
    db.session.commit()
    admin = login_as("admin")

    delete_staff(db.session.get(User, tp.id), by=admin)
    db.session.commit()

    db.session.expire_all()
    assert db.session.get(ResourceFile, file.id).uploaded_by_id is None
    assert db.session.get(Release, release.id).created_by_id is None
    page = client.get(f"/releases/{release.id}").get_data(as_text=True)
    assert "producer@board.example" not in page and "June" in page
