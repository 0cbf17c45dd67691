"""The import contract beyond what ``lint-imports`` checks (pyproject.toml): imports of the
project's own modules sit at the top of a module, never inside a function, so the layers
and the absence of circles are visible where a reader looks first."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("domain", "storage", "reports", "scheduler", "conversations", "handlers", "bot")


def _nested_project_imports(path: Path, root: Path = ROOT) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    top = {id(node) for node in tree.body}
    found = []
    for node in ast.walk(tree):
        if id(node) in top or not isinstance(node, ast.Import | ast.ImportFrom):
            continue
        names = (
            [node.module or ""]
            if isinstance(node, ast.ImportFrom)
            else [alias.name for alias in node.names]
        )
        if any(name.split(".")[0] in PACKAGES for name in names):
            found.append(f"{path.relative_to(root)}:{node.lineno}")
    return found


def test_no_function_level_imports_of_project_modules() -> None:
    found = [
        where
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        for where in _nested_project_imports(path)
    ]
    assert found == []


def test_the_check_finds_a_nested_import(tmp_path: Path) -> None:
    module = tmp_path / "probe.py"
    module.write_text(
        "from storage import repo\n\ndef f() -> None:\n    from storage import models\n",
        encoding="utf-8",
    )
    assert _nested_project_imports(module, tmp_path) == ["probe.py:4"]
