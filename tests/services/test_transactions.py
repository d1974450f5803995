"""changes(): a refused change leaves nothing; a registered clash becomes its DomainError."""

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.models import Centre, User
from app.services.accounts.addresses import EMAIL_IN_USE, AccountError
from app.services.errors import DomainError
from app.services.transactions import changes


def test_a_refused_change_leaves_nothing_and_what_came_before_stays(db, make_centre):
    kept = make_centre(number="GB101", name="Before")
    kept.name = "Changed before the refusal"
    with pytest.raises(DomainError, match="refused"), changes():
        db.session.add(User(email="half@example.com", role="centre", centre=kept))
        db.session.flush()
        raise DomainError("refused")
    db.session.commit()
    assert db.session.scalars(select(User)).all() == []
    assert db.session.scalar(select(Centre.name)) == "Changed before the refusal"


def test_a_registered_unique_clash_becomes_the_domain_error(db, make_user):
    taken = make_user("tp", email="taken@example.com")
    with pytest.raises(AccountError, match=EMAIL_IN_USE), changes():
        db.session.add(User(email=taken.email, role="tp"))
        db.session.flush()
    assert db.session.scalar(select(User.id).where(User.email == taken.email)) == taken.id


def test_any_other_integrity_error_is_a_bug_and_raised_as_it_is(db):
    with pytest.raises(IntegrityError), changes():
        db.session.add(User(email="no-centre@example.com", role="centre"))  # needs a centre
        db.session.flush()
