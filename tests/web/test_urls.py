import pytest

from app.web.urls import safe_next_path


@pytest.mark.parametrize("target", ["/", "/centres?q=GB1", "/a/b#c"])
def test_same_site_paths_are_kept(target):
    assert safe_next_path(target) == target


@pytest.mark.parametrize(
    "target",
    [
        None,
        "",
        "https://evil.example.net/",
        "//evil.example.net/path",
        "/\\evil.example.net",
        "\\\\evil.example.net",
        "javascript:alert(1)",
        "centres",
        "/\tevil",
        "/ok\r\nLocation: https://evil.example.net",
        "/" + "a" * 3000,
    ],
)
def test_everything_else_is_dropped(target):
    assert safe_next_path(target) is None
