"""The command-line tasks: create-admin and seed-demo."""

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select

from app.models import Centre, Event, User
from app.services.accounts import passwords
from app.services.demo import DEMO_PASSWORD
from app.services.email.outbox import Envelope
from app.services.email.transport import print_to_console


def test_create_admin_with_a_password(app, db):
    result = app.test_cli_runner().invoke(
        args=["create-admin", "New.Admin@Example.com", "--password", "a long enough password"]
    )
    assert result.exit_code == 0, result.output
    assert "Created admin new.admin@example.com. They can sign in now." in result.output
    user = db.session.scalar(select(User).where(User.email == "new.admin@example.com"))
    assert user.role == "admin"
    assert user.activated_at is not None
    assert passwords.verify_password(user.password_hash, "a long enough password")
    event = db.session.scalar(select(Event).where(Event.action == "staff.created"))
    assert event.subject_id == user.id
    assert "a long enough password" not in str(event.details)


def test_create_admin_prompts_for_the_password(app, db):
    result = app.test_cli_runner().invoke(
        args=["create-admin", "prompted@example.com"],
        input="typed at the prompt\ntyped at the prompt\n",
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.email == "prompted@example.com"))
    assert passwords.verify_password(user.password_hash, "typed at the prompt")


def test_create_admin_refuses_a_duplicate(app, db, make_user):
    existing = make_user("centre", email="taken@example.com")
    result = app.test_cli_runner().invoke(
        args=["create-admin", "TAKEN@example.com", "--password", "a long enough password"]
    )
    assert result.exit_code == 1
    assert "That email address is already in use at " in result.output
    assert db.session.get(User, existing.id).role == "centre"
    assert db.session.scalar(select(func.count()).select_from(User)) == 1


def test_create_admin_refuses_bad_input(app, db):
    runner = app.test_cli_runner()
    short = runner.invoke(args=["create-admin", "a@example.com", "--password", "short"])
    assert short.exit_code == 1
    assert "Your password must have at least 12 characters." in short.output
    weak = runner.invoke(args=["create-admin", "a@example.com", "--password", "aaaaaaaaaaaa"])
    assert weak.exit_code == 1 and "That password is too easy to guess." in weak.output
    bad = runner.invoke(
        args=["create-admin", "not-an-email", "--password", "a long enough password"]
    )
    assert bad.exit_code == 1
    assert "“not-an-email” is not an email address" in bad.output
    assert db.session.scalar(select(func.count()).select_from(User)) == 0


def snapshot(db):
    centres = db.session.execute(
        select(Centre.number, Centre.name, Centre.timezone, Centre.deleted_at).order_by(
            Centre.number
        )
    ).all()
    users = db.session.execute(
        select(User.email, User.role, User.pin, User.password_hash, User.activated_at).order_by(
            User.email
        )
    ).all()
    return centres, users


def test_seed_demo_is_varied_and_idempotent(app, db):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0, first.output
    before = snapshot(db)
    second = runner.invoke(args=["seed-demo"])
    assert second.exit_code == 0, second.output
    db.session.rollback()
    assert snapshot(db) == before
    assert first.output == second.output

    centres = list(db.session.scalars(select(Centre)))
    assert len(centres) >= 20
    assert len({c.country for c in centres}) >= 6
    assert len({c.timezone for c in centres}) >= 3
    assert len({c.zone for c in centres}) >= 4
    assert any(not name.isascii() for name in (c.name for c in centres))
    users = list(db.session.scalars(select(User)))
    assert {u.role for u in users} == {"admin", "tp", "centre"}
    assert any(u.role == "centre" and u.activated_at for u in users)
    assert any(u.role == "centre" and u.activated_at is None and u.pin for u in users)
    assert f"admin@example.com                password {DEMO_PASSWORD}" in first.output


def test_printed_demo_sign_ins_work(app, client, csrf_token, db):
    output = app.test_cli_runner().invoke(args=["seed-demo"]).output
    for line in output.splitlines()[1:]:
        role, email, note = line.split(None, 2)
        if not note.startswith("password"):
            continue
        fresh = app.test_client()
        response = fresh.post(
            "/login",
            data={"username": email, "password": DEMO_PASSWORD, "csrf_token": csrf_token(fresh)},
        )
        assert response.status_code == 302, email
        assert email in fresh.get("/").get_data(as_text=True)


def test_seed_demo_refuses_a_production_app(make_app, db):
    app = make_app(ENV_NAME="production", MAIL_SERVER="mail.example.org")
    with app.app_context():
        result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code == 1
    assert "It runs only with PORTAL_ENV=development" in result.output
    assert db.session.scalar(select(func.count()).select_from(User)) == 0


def test_seed_demo_at_scale_is_realistic_and_idempotent(app, db):
    from app.services.geography import countries, is_known_timezone

    runner = app.test_cli_runner()
    first = runner.invoke(args=["seed-demo", "--centres", "300"])
    assert first.exit_code == 0, first.output
    assert "Generated 300 centres and " in first.output
    generated = db.session.scalars(select(Centre).where(func.length(Centre.number) == 7)).all()
    assert len(generated) == 300
    assert all(c.country in countries() and is_known_timezone(c.timezone) for c in generated)
    assert len({c.country for c in generated}) > 50
    assert {c.zone for c in generated} == {1, 2, 3, 4, 5, 6}
    assert any(not c.name.isascii() for c in generated)
    per_centre = dict(
        db.session.execute(
            select(User.centre_id, func.count())
            .where(User.email.like("officer%"))
            .group_by(User.centre_id)
        ).all()
    )
    assert set(per_centre.values()) == {1, 2, 3, 4, 5}
    assert len(per_centre) == 300
    pins = db.session.scalars(select(User.pin).where(User.pin.is_not(None))).all()
    assert len(pins) == len(set(pins))

    again = runner.invoke(args=["seed-demo", "--centres", "300"])
    assert "Generated 0 centres and 0 users" in again.output


def test_a_missing_setting_is_one_line_not_a_traceback(tmp_path):
    """`flask --app wsgi ...` outside development without SECRET_KEY: say what to set."""
    root = Path(__file__).resolve().parents[1]
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in ("PORTAL_ENV", "SECRET_KEY", "DATABASE_URL")
    }
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", "import wsgi"],
        cwd=root,
        env={**environment, "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert result.stderr.startswith("The portal cannot start: SECRET_KEY is not set.")
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_development_emails_stand_out_in_the_console(capsys):
    print_to_console(
        Envelope(
            id=7,
            to_address="head@example.org",
            template="activation",
            subject="Activate your account",
            body="Open https://portal.example.org/activate/abc\n",
        )
    )
    printed = capsys.readouterr().out
    assert "=" * 72 + "\nEMAIL (development: printed, not sent) to head@example.org" in printed
    assert "Subject: Activate your account\n" in printed
    assert "https://portal.example.org/activate/abc\n" + "=" * 72 in printed


def test_seed_demo_makes_a_release_open_now_with_downloads(app, db, client, login_as):
    from app.models import CentreFigures, Download, Release

    runner = app.test_cli_runner()
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    assert runner.invoke(args=["seed-demo"]).exit_code == 0  # not twice
    db.session.rollback()
    release = db.session.scalars(select(Release)).one()
    figures = db.session.scalars(
        select(CentreFigures).where(CentreFigures.release_id == release.id)
    ).all()
    live = db.session.scalar(
        select(func.count()).select_from(Centre).where(Centre.deleted_at.is_(None))
    )
    assert len(figures) == live
    downloaded = [f for f in figures if f.downloads]
    assert 0 < len(downloaded) < live
    assert db.session.scalar(select(func.count()).select_from(Download)) == len(downloaded)
    login_as("admin")
    page = client.get(f"/reports/audit/releases/{release.id}").get_data(as_text=True)
    assert f"{len(downloaded)} of {live} centres have downloaded." in page
