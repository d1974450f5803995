"""Uploads waiting for Confirm are kept under the instance folder: a temporary one here."""

import pytest


@pytest.fixture(autouse=True)
def temporary_instance_folder(app, monkeypatch, tmp_path):
    monkeypatch.setattr(app, "instance_path", str(tmp_path))
