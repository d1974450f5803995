"""Every action the code records has words and a kind on the Event Logs page, so a new
action is never left out of its filters unseen.

The actions are read from the source: the first argument of every call to
`record_event` / `record_events` (and `action=` of an `Event(...)` built by hand),
whether written there ("centre.deleted"), chosen
there ("a" if ok else "b"), or passed in by the callers of the function it sits in
(`_signed_in_with(user, hash, "account.activated")`).
"""

import ast
from pathlib import Path

from app.services.reports.event_logs import ACTIONS, KINDS, action_label, actions_of

APP = Path(__file__).resolve().parents[2] / "app"
RECORDERS = {"record_event", "record_events"}


def _name_of(call: ast.Call) -> str | None:
    function = call.func
    if isinstance(function, ast.Name):
        return function.id
    if isinstance(function, ast.Attribute):
        return function.attr
    return None


def _strings(node: ast.AST) -> list[str] | None:
    """The action names an expression can be, or None if it is not made of literals."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        body, orelse = _strings(node.body), _strings(node.orelse)
        return None if body is None or orelse is None else body + orelse
    return None


def _trees() -> dict[Path, ast.Module]:
    return {path: ast.parse(path.read_text(encoding="utf-8")) for path in APP.rglob("*.py")}


def recorded_actions() -> tuple[dict[str, list[str]], list[str]]:
    """{action: [where]} for every action recorded in app/, and the calls whose action
    could not be read (which the test refuses: write the name out, or pass it in)."""
    trees = _trees()
    found: dict[str, list[str]] = {}
    unread: list[str] = []
    # Functions that pass one of their parameters on as the action: name → position.
    forwarded: dict[str, tuple[int, str]] = {}

    for path, tree in trees.items():
        for function in ast.walk(tree):
            if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            params = [a.arg for a in (*function.args.posonlyargs, *function.args.args)]
            for call in ast.walk(function):
                if not (isinstance(call, ast.Call) and _name_of(call) in RECORDERS and call.args):
                    continue
                if function.name in RECORDERS:
                    continue  # the recorders themselves (app/services/audit.py)
                where = f"{path.relative_to(APP.parent)}:{call.lineno}"
                names = _strings(call.args[0])
                if names is not None:
                    for name in names:
                        found.setdefault(name, []).append(where)
                elif isinstance(call.args[0], ast.Name) and call.args[0].id in params:
                    forwarded[function.name] = (params.index(call.args[0].id), call.args[0].id)
                else:
                    unread.append(where)

    for path, tree in trees.items():
        for call in ast.walk(tree):
            # An Event built by hand: Event(action="...", ...).
            if isinstance(call, ast.Call) and _name_of(call) == "Event":
                action = next((k.value for k in call.keywords if k.arg == "action"), None)
                names = _strings(action) if action is not None else None
                where = f"{path.relative_to(APP.parent)}:{call.lineno}"
                if names is None and path.name != "audit.py":
                    unread.append(where)
                for name in names or ():
                    found.setdefault(name, []).append(where)

    for path, tree in trees.items():
        for call in ast.walk(tree):
            if not (isinstance(call, ast.Call) and _name_of(call) in forwarded):
                continue
            position, keyword = forwarded[_name_of(call)]
            where = f"{path.relative_to(APP.parent)}:{call.lineno}"
            argument = next((k.value for k in call.keywords if k.arg == keyword), None)
            if argument is None and len(call.args) > position:
                argument = call.args[position]
            names = _strings(argument) if argument is not None else None
            if names is None:
                unread.append(where)
                continue
            for name in names:
                found.setdefault(name, []).append(where)
    return found, unread


def test_the_scan_finds_actions_written_chosen_and_passed_in():
    found, _ = recorded_actions()
    assert "centre.deleted" in found  # written in the call
    assert {"centres.imported", "centres.import_failed"} <= found.keys()  # chosen there
    assert {"account.activated", "account.password_reset"} <= found.keys()  # passed in
    assert {"user.created", "centre.updated"} <= found.keys()  # record_events
    assert len(found) > 50


def test_every_recorded_action_has_words_and_a_kind():
    found, unread = recorded_actions()
    assert not unread, f"actions the test cannot read (write the name out): {unread}"
    missing = {name: where for name, where in found.items() if name not in ACTIONS}
    assert not missing, (
        "actions recorded but not in app/services/reports/event_logs.py ACTIONS "
        f"(give each words and a kind): {missing}"
    )


def test_every_listed_action_has_known_kinds_and_words():
    for name, action in ACTIONS.items():
        assert action.kinds, name
        assert set(action.kinds) <= KINDS.keys(), name
        assert action.label and action.label != name, name
    assert all(actions_of(kind) for kind in KINDS)  # no kind filters nothing
    assert action_label("not.listed") == "not.listed"


def test_the_lead_s_and_the_page_s_own_actions_are_listed():
    # Recorded by `flask events verify` and by this page's export.
    assert "events.verified" in ACTIONS and "report.exported" in ACTIONS
