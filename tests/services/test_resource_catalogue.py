"""Versioning, at the service: replacing a resource's file adds a version and keeps
the others; a stale or identical replacement changes nothing."""

import pytest

from app.extensions import db
from app.models import Resource, ResourceFile
from app.services.errors import DomainError, EditConflict
from app.services.resources import catalogue
from app.services.resources.storage import Storage
from tests.resources import files


@pytest.fixture
def folder(resource_dir):
    return Storage(resource_dir)


def received(folder, content: bytes):
    incoming = folder.receive(10**9)
    incoming.write(content)
    return incoming


@pytest.fixture
def resource(folder, make_user):
    producer = make_user("tp")
    first = received(folder, files.pdf("one"))
    first.finish()
    stored = folder.keep(first.path, "pdf")
    resource = Resource(
        series="2026-06", syllabus="0580", component="22", kind="question-paper", title="P22"
    )
    resource.files.append(
        ResourceFile(
            number=1,
            original_name="one.pdf",
            stored_name=stored,
            size=first.size,
            sha256=first.sha256,
            media_type="application/pdf",
            uploaded_by_id=producer.id,
        )
    )
    db.session.add(resource)
    db.session.commit()
    return resource, producer


def test_a_replacement_becomes_the_current_version_and_the_old_one_stays(folder, resource):
    resource, producer = resource
    file = catalogue.replace_file(
        folder, resource, "two.pdf", received(folder, files.pdf("two")), producer, resource.version
    )
    db.session.commit()
    assert (file.number, resource.current_version) == (2, 2)
    assert [f.original_name for f in resource.files] == ["one.pdf", "two.pdf"]
    assert all(folder.path_of(f.stored_name).is_file() for f in resource.files)
    assert resource.current_file.sha256 == file.sha256


def test_a_stale_or_identical_replacement_changes_nothing(folder, resource):
    resource, producer = resource
    with pytest.raises(EditConflict):
        catalogue.replace_file(
            folder, resource, "two.pdf", received(folder, files.pdf("two")), producer, 0
        )
    with pytest.raises(DomainError, match="identical to version 1"):
        catalogue.replace_file(
            folder,
            resource,
            "again.pdf",
            received(folder, files.pdf("one")),
            producer,
            resource.version,
        )
    db.session.rollback()
    assert resource.current_version == 1 and len(resource.files) == 1
    assert len(list((folder.files).iterdir())) == 1
