"""The layout's rules, checked on the code: imports point one way (cli → services → shared; evaluation, which no code imports, never imports tests), the environment is read only by settings modules, each faust app is a few lines."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def modules(package: str) -> list[Path]:
    return sorted((REPO / package).rglob("*.py"))


def imported(path: Path) -> set[str]:
    """Every module name ``path`` imports, at any depth (function-level imports included)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        ("shared", ("services", "cli", "evaluation")),
        ("services", ("cli", "evaluation")),
        ("cli", ("evaluation",)),
        ("evaluation", ("tests",)),
    ],
)
def test_imports_point_down(package, forbidden):
    upward = {
        f"{path.relative_to(REPO)}: {name}"
        for path in modules(package)
        for name in imported(path)
        if name.split(".")[0] in forbidden
    }
    assert not upward


# The one crossing left, with why: the alerts stage loads the entities stage's pipeline (the same
# model fallback and domain ruler, for the NER it runs on titles of messages written before the
# entities stage read titles). Moving the loader to shared/ would take the ruler with it.
CROSSINGS_ALLOWED = {"services/alerts/handler.py: services.entities.pipeline"}


def test_a_service_imports_no_other_service():
    # What two services share lives in shared/ (the linear-time regexes, the headline casing);
    # services/stages.py, the registry of every stage, is the one module that names them all,
    # and each worker (app.py) reads its own stages from it.
    crossing = set()
    for path in modules("services"):
        parts = path.relative_to(REPO / "services").parts
        if len(parts) < 2:
            continue
        for name in imported(path):
            words = name.split(".")
            if words[0] == "services" and len(words) > 1 and words[1] not in (parts[0], "stages"):
                crossing.add(f"{path.relative_to(REPO)}: {name}")
    assert crossing == CROSSINGS_ALLOWED


def test_only_settings_modules_read_the_environment():
    readers = set()
    for package in ("shared", "services", "cli", "evaluation"):
        for path in modules(package):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if (
                    isinstance(node, ast.Attribute)
                    and node.attr in {"environ", "getenv"}
                    and isinstance(node.value, ast.Name)
                    and node.value.id == "os"
                ):
                    readers.add(str(path.relative_to(REPO)))
    assert all(Path(r).name == "settings.py" for r in readers), readers
    assert readers  # the check sees os.environ where it is (cli/settings.py passes it to workers)


@pytest.mark.parametrize(
    "app", sorted((REPO / "services").glob("*/app.py")), ids=lambda p: p.parent.name
)
def test_each_faust_app_is_a_few_lines(app):
    assert len(app.read_text(encoding="utf-8").splitlines()) < 20
