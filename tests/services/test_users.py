"""Centre users, staff accounts and PINs, without a request."""

import pytest
from sqlalchemy import select

from app.models import Event, User
from app.services.accounts.addresses import AccountError
from app.services.accounts.pins import PIN_ALPHABET, generate_pin, new_unused_pin
from app.services.accounts.users import (
    add_centre_user,
    change_role,
    delete_centre_user,
    delete_staff,
    invite_staff,
    reset_pin,
    unlock,
)


def test_pins_avoid_look_alike_characters():
    assert not set("0O1Il") & set(PIN_ALPHABET)
    pins = {generate_pin() for _ in range(500)}
    assert all(len(pin) == 8 and set(pin) <= set(PIN_ALPHABET) for pin in pins)
    assert len(pins) == 500


def test_a_new_pin_is_never_one_already_waiting_to_be_used(make_user, monkeypatch):
    waiting = make_user("centre", activated=False, pin="AAAAAAAA")
    queue = iter(["AAAAAAAA", "AAAAAAAA", "BBBBBBBB"])
    monkeypatch.setattr("app.services.accounts.pins.generate_pin", lambda: next(queue))
    assert new_unused_pin() == "BBBBBBBB"
    assert waiting.pin == "AAAAAAAA"


def test_adding_a_centre_user_gives_a_pin_and_an_event(db, make_centre):
    centre = make_centre()
    user = add_centre_user(centre, "  Exams.Officer@School.example ")
    db.session.commit()
    assert user.email == "exams.officer@school.example"
    assert user.role == "centre" and user.centre_id == centre.id
    assert len(user.pin) == 8 and user.activated_at is None
    event = db.session.scalar(select(Event).where(Event.action == "user.created"))
    assert event.details == {"email": user.email, "centre": centre.number}
    assert user.pin not in str(event.details)


def test_duplicate_and_invalid_addresses_are_refused(db, make_centre, make_user):
    make_user("tp", email="taken@example.com")
    centre = make_centre()
    with pytest.raises(AccountError, match="That email address is already in use."):
        add_centre_user(centre, "TAKEN@example.com")
    with pytest.raises(AccountError, match="is not an email address"):
        add_centre_user(centre, "not an address")


def test_pin_reset_only_before_activation(db, make_user):
    waiting = make_user("centre", activated=False)
    old = waiting.pin
    assert reset_pin(waiting) != old
    active = make_user("centre")
    with pytest.raises(AccountError, match="there is no PIN to reset"):
        reset_pin(active)


def test_deleting_a_centre_user_keeps_the_centre(db, make_user):
    user = make_user("centre")
    centre_id = user.centre_id
    delete_centre_user(user)
    db.session.commit()
    assert db.session.get(User, user.id) is None
    assert db.session.get(type(user.centre), centre_id) is not None


def test_staff_rules(db, make_user):
    me = make_user("admin")
    other_admin = make_user("admin")
    producer = invite_staff("New.Producer@example.com", "tp")
    db.session.commit()
    assert (producer.role, producer.activated_at, producer.pin) == ("tp", None, None)
    with pytest.raises(AccountError, match="Choose Admin or Admin - TP."):
        invite_staff("x@example.com", "centre")

    with pytest.raises(AccountError, match="You cannot change the role of your own account"):
        change_role(me, "tp", by=me, read_version=me.version)
    with pytest.raises(AccountError, match="You cannot delete your own account"):
        delete_staff(me, by=me)

    token = other_admin.session_token
    change_role(other_admin, "tp", by=me, read_version=other_admin.version)
    db.session.commit()
    assert other_admin.role == "tp"
    assert other_admin.session_token != token  # signed out, to sign in with the new role

    # `me` is now the last admin: nobody may remove them, not even another admin.
    change_role(producer, "admin", by=me, read_version=producer.version)
    db.session.commit()
    delete_staff(producer, by=me)
    db.session.commit()
    with pytest.raises(AccountError, match="last admin"):
        change_role(me, "tp", by=other_admin, read_version=me.version)
    with pytest.raises(AccountError, match="last admin"):
        delete_staff(me, by=other_admin)


def test_unlock_clears_the_wait(db, make_user, clock):
    user = make_user("tp", failed_logins=7, locked_until=clock.now.replace(year=2027))
    unlock(user)
    db.session.commit()
    assert (user.failed_logins, user.locked_until) == (0, None)
