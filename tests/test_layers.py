"""The code's layers, checked on the import statements themselves.

Pure helpers (clock, text, geography) sit at the bottom and import nothing of
the app; models import only those; services never reach for the request.
"""

import ast
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parents[1] / "app"
BOTTOM = {
    "app.services.clock",
    "app.services.errors",
    "app.services.geography",
    "app.services.text",
}


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def module_files(folder: str) -> list[Path]:
    return sorted((APP / folder).rglob("*.py"))


@pytest.mark.parametrize("path", module_files("models"), ids=lambda p: p.name)
def test_models_import_only_the_pure_helpers(path):
    services = {name for name in imports_of(path) if name.startswith("app.services")}
    assert services <= BOTTOM, f"{path.name} imports {sorted(services - BOTTOM)}"


@pytest.mark.parametrize("module", sorted(BOTTOM))
def test_pure_helpers_import_nothing_of_the_app(module):
    path = APP.parent / (module.replace(".", "/") + ".py")
    own = {name for name in imports_of(path) if name.startswith("app")}
    assert own <= BOTTOM, f"{module} imports {sorted(own - BOTTOM)}"


@pytest.mark.parametrize("path", module_files("services"), ids=lambda p: str(p.relative_to(APP)))
def test_services_do_not_touch_the_request(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    from_flask = {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module == "flask"
        for alias in node.names
    }
    # The mail transport is built from the app's settings (Flask); nothing reads a request.
    assert from_flask <= {"Flask"}, f"{path.name} imports {sorted(from_flask)} from flask"
