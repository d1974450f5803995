"""Files arriving (storage.Incoming): counted, hashed and written as they stream, and
nothing left behind when they are refused."""

import errno
import hashlib
import os
import zipfile

import pytest

from app.services.resources import filetypes, storage
from app.services.resources.storage import DISK_FULL, Storage, too_large_message


def receive(tmp_path, pieces, max_bytes=10**9):
    incoming = Storage(tmp_path).receive(max_bytes)
    for piece in pieces:
        incoming.write(piece)
    incoming.finish()
    return incoming


def test_a_file_arriving_in_pieces_is_written_and_hashed_whole(tmp_path):
    # Past the first MiB the hash is taken on a thread: pieces of every size, in order.
    pieces = [os.urandom(n) for n in (1, 1024 * 1024, 7, 3 * 1024 * 1024 + 5, 0, 12345)]
    whole = b"".join(pieces)
    incoming = receive(tmp_path, pieces)
    assert incoming.problem is None
    assert (incoming.size, incoming.sha256) == (len(whole), hashlib.sha256(whole).hexdigest())
    assert incoming.path.read_bytes() == whole


def test_memoryviews_of_bytes_are_hashed_as_they_were(tmp_path):
    data = os.urandom(3 * 1024 * 1024)
    view = memoryview(data)
    incoming = receive(tmp_path, [view[:10], view[10 : 2 * 1024 * 1024], view[2 * 1024 * 1024 :]])
    assert incoming.sha256 == hashlib.sha256(data).hexdigest()


def test_past_the_limit_the_partial_file_is_deleted_and_the_rest_only_counted(tmp_path):
    incoming = receive(tmp_path, [b"x" * 2_000_000, b"y" * 2_000_000], max_bytes=3_000_000)
    assert incoming.problem == too_large_message(3_000_000)
    assert incoming.size == 4_000_000
    assert incoming.path is None
    assert list((tmp_path / "incoming").iterdir()) == []


class FullDisk:
    """A file whose writes fail as on a full disk, also when closing flushes."""

    def __init__(self, file):
        self._file = file

    def write(self, data):
        raise OSError(errno.ENOSPC, "No space left on device")

    def close(self):
        self._file.close()
        raise OSError(errno.ENOSPC, "No space left on device")

    def __getattr__(self, name):
        return getattr(self._file, name)


def test_a_full_disk_refuses_the_file_without_an_error_escaping(tmp_path, monkeypatch):
    real_open = open
    monkeypatch.setattr(
        storage, "open", lambda *a, **k: FullDisk(real_open(*a, **k)), raising=False
    )
    incoming = receive(tmp_path, [b"%PDF-1.7\n", b"x" * 100])
    assert incoming.problem == DISK_FULL
    assert list((tmp_path / "incoming").iterdir()) == []


def test_kept_files_get_generated_names_inside_the_folder(tmp_path):
    folder = Storage(tmp_path)
    incoming = receive(tmp_path, [b"%PDF-1.7\n"])
    name = folder.keep(incoming.path, ".PDF")
    assert name.endswith(".pdf") and folder.path_of(name).read_bytes() == b"%PDF-1.7\n"
    for bad in ("../x.pdf", "a/b.pdf", "0" * 32 + ".pdf/..", ""):
        with pytest.raises(ValueError):
            folder.path_of(bad)


def test_a_zip_listing_too_many_files_is_refused_before_it_is_listed(tmp_path):
    path = tmp_path / "many.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for n in range(filetypes.ZIP_ENTRIES_MAX + 1):
            archive.writestr(f"{n}", b"")
    with pytest.raises(filetypes.FileRefused, match="listing 20,001 files, more than the 20,000"):
        filetypes.identify("sources.zip", path)
