"""`flask resources check`: the storage folder and the database agree, or it says where not."""

import os
import time

from tests.resources import files
from tests.resources.conftest import ROW


def run_check(app, *args):
    return app.test_cli_runner().invoke(args=["resources", "check", *args])


def test_a_healthy_folder_passes_and_every_problem_is_named(
    app, login_as, upload, confirm, resource_dir
):
    login_as("tp")
    location = upload([("0580_s26_qp_22.pdf", files.pdf("a")), ("b.pdf", files.pdf("b"))])
    assert (
        confirm(location.headers["Location"], [ROW, {**ROW, "kind": "insert"}]).status_code == 302
    )
    result = run_check(app, "--hashes")
    assert result.exit_code == 0, result.output
    assert (
        "2 kept files checked (size and SHA-256): 0 problem(s), 0 stray file(s)." in result.output
    )

    first, second = sorted((resource_dir / "files").iterdir())
    first.unlink()
    second.write_bytes(second.read_bytes().replace(b"%PDF", b"%PDX"))  # same size, other bytes
    stray = resource_dir / "files" / ("f" * 32 + ".pdf")
    stray.write_bytes(b"left behind")
    an_hour_ago = time.time() - 2 * 3600
    os.utime(stray, (an_hour_ago, an_hour_ago))

    result = run_check(app)  # sizes only: the changed bytes go unnoticed
    assert result.exit_code == 1
    assert f"{first.name} is missing" in result.output
    assert "does not have the SHA-256" not in result.output
    assert f"stray file: {stray.name}" in result.output

    result = run_check(app, "--hashes", "--remove-strays")
    assert f"{second.name} does not have the SHA-256 stored" in result.output
    assert f"stray file: {stray.name} (deleted)" in result.output
    assert not stray.exists()
    assert result.exit_code == 1  # the missing and changed files remain problems


def test_a_file_kept_moments_ago_is_not_a_stray(app, resource_dir):
    (resource_dir / "files").mkdir(parents=True, exist_ok=True)
    (resource_dir / "files" / ("e" * 32 + ".pdf")).write_bytes(b"a save in progress")
    result = run_check(app)
    assert result.exit_code == 0 and "0 stray file(s)" in result.output
