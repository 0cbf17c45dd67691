"""Texts that take values (domain/template.py): filled by name, and every call in the code
names exactly the blanks of its template, as mypy checked it when they were functions."""

from __future__ import annotations

import ast
import importlib
import pkgutil
import string
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest

import conversations.texts
from domain.template import Template

ROOT = Path(__file__).resolve().parent.parent


def test_blanks_are_filled_by_name() -> None:
    saved = Template("Đã lưu “{name}”: {total:g}/{maximum} điểm ({{ví dụ}}).")
    assert saved.names == {"name", "total", "maximum"}
    assert saved(name="Dân vận khéo", total=72.5, maximum=100) == (
        "Đã lưu “Dân vận khéo”: 72.5/100 điểm ({ví dụ})."
    )


@pytest.mark.parametrize(
    ("values", "said"),
    [
        ({"name": "A"}, "missing year; unknown -"),
        ({"name": "A", "year": 2026, "unit": "B"}, "missing -; unknown unit"),
        ({"nam": "A", "year": 2026}, "missing name; unknown nam"),
    ],
)
def test_a_blank_left_or_a_name_unknown_is_an_error(values: dict[str, object], said: str) -> None:
    with pytest.raises(TypeError, match=said):
        Template("Mô hình “{name}” năm {year}.")(**values)


def catalogues() -> dict[str, ModuleType]:
    names = [
        f"conversations.texts.{m.name}" for m in pkgutil.iter_modules(conversations.texts.__path__)
    ]
    return {name: importlib.import_module(name) for name in [*names, "handlers.texts"]}


def templates() -> dict[str, dict[str, Template]]:
    return {
        name: {k: v for k, v in vars(module).items() if isinstance(v, Template)}
        for name, module in catalogues().items()
    }


@dataclass(frozen=True)
class Use:
    """One use of a template: called here (``call``), handed to a function that fills it (a
    step's prompt; Template itself refuses wrong names at run time there), or neither."""

    owner: str  # the catalogue module
    name: str
    line: int
    call: ast.Call | None
    handed: bool


def uses(tree: ast.Module, module: str, known: dict[str, dict[str, Template]]) -> Iterator[Use]:
    """Each use of a template of ``known`` in ``tree``, the source of ``module``."""
    modules: dict[str, str] = {}
    names: dict[str, tuple[str, str]] = {}
    for name in known.get(module, {}):
        names[name] = (module, name)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                if full in known:
                    modules[alias.asname or alias.name] = full
                elif alias.name in known.get(node.module, {}):
                    names[alias.asname or alias.name] = (node.module, alias.name)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in known and alias.asname:
                    modules[alias.asname] = alias.name

    def target(node: ast.AST) -> tuple[str, str] | None:
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in modules
            and node.attr in known[modules[node.value.id]]
        ):
            return modules[node.value.id], node.attr
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id in names:
            return names[node.id]
        return None

    calls = {id(n.func): n for n in ast.walk(tree) if isinstance(n, ast.Call)}
    handed = {
        id(a)
        for n in ast.walk(tree)
        if isinstance(n, ast.Call)
        for a in [*n.args, *(k.value for k in n.keywords)]
    }
    for node in ast.walk(tree):
        found = target(node)
        if found is not None:
            line = getattr(node, "lineno", 0)
            yield Use(*found, line, calls.get(id(node)), id(node) in handed)


def sources() -> list[Path]:
    """The project's Python files (not a virtual environment's, nor a build's)."""
    return [
        p
        for p in ROOT.rglob("*.py")
        if not any(part.startswith(".") or part == "build" for part in p.relative_to(ROOT).parts)
    ]


def module_of(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts)


def check(
    tree: ast.Module, module: str, known: dict[str, dict[str, Template]], used: set[tuple[str, str]]
) -> list[str]:
    """What is wrong with the uses of templates in one file (``used`` gathers the templates)."""
    wrong: list[str] = []
    for use in uses(tree, module, known):
        where = f"{module}:{use.line} {use.owner}.{use.name}"
        used.add((use.owner, use.name))
        call = use.call
        if use.handed:
            continue
        if call is None:
            wrong.append(f"{where}: used without being called; call it where it is said")
        elif call.args or any(k.arg is None for k in call.keywords):
            wrong.append(f"{where}: values given by position or **; name each blank")
        else:
            given = {k.arg for k in call.keywords if k.arg is not None}
            blanks = known[use.owner][use.name].names
            if given != blanks:
                wrong.append(f"{where}: gives {sorted(given)}, the template has {sorted(blanks)}")
    return wrong


def test_every_call_names_exactly_the_blanks_of_its_template() -> None:
    known = templates()
    assert sum(len(t) for t in known.values()) > 50  # the catalogues were found
    wrong: list[str] = []
    used: set[tuple[str, str]] = set()
    for path in sources():
        wrong += check(ast.parse(path.read_text()), module_of(path), known, used)
    unused = sorted(f"{m}.{n}" for m, t in known.items() for n in t if (m, n) not in used)
    assert wrong == []
    assert unused == [], "texts no code says"


def test_the_check_finds_a_wrong_call() -> None:
    known = {"conversations.texts.x": {"saved": Template("Đã lưu “{name}” năm {year}.")}}
    code = (
        "from conversations.texts import x as T\n"
        "a = T.saved(name=1, year=2)\n"
        "b = T.saved(name=1)\n"
        "c = T.saved(1, 2)\n"
        "d = T.saved\n"
        "e = kind_step(T.saved)\n"
        "f = T.saved(name=1, year=2, unit=3)\n"
    )
    used: set[tuple[str, str]] = set()
    wrong = sorted(check(ast.parse(code), "conversations.flow", known, used))
    assert [w.split(" ", 1)[0] for w in wrong] == [
        "conversations.flow:3",
        "conversations.flow:4",
        "conversations.flow:5",
        "conversations.flow:7",
    ]
    assert used == {("conversations.texts.x", "saved")}


def blanks_in(value: object) -> list[str]:
    """The ``{name}`` blanks of a plain text (or of the texts of a mapping or tuple)."""
    if isinstance(value, str):
        return [f for _, f, _, _ in string.Formatter().parse(value) if f]
    if isinstance(value, dict):
        return [b for v in value.values() for b in blanks_in(v)]
    if isinstance(value, tuple):
        return [b for v in value for b in blanks_in(v)]
    return []


def test_a_text_with_blanks_is_a_template() -> None:
    """One way to say a text with values: a plain string with "{name}" in it would be filled
    with .format, out of the calls' check."""
    plain = {
        f"{module}.{name}": blanks
        for module, catalogue in catalogues().items()
        for name, value in vars(catalogue).items()
        if not name.startswith("__") and (blanks := blanks_in(value))
    }
    assert plain == {}
    assert blanks_in({"a": ("Có {count} mô hình", "x")}) == ["count"]
