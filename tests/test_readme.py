"""The docs agree with the code: the README's one table is the stages' topics, every service README repeats its row, and relative links resolve."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from services.stages import STAGES
from shared.topics import SERVICES, dlq_name

REPO = Path(__file__).resolve().parents[1]
PAGES = sorted([REPO / "README.md", REPO / "CONTRIBUTING.md", REPO / "deploy" / "README.md",
                *(REPO / "docs").glob("*.md"), *(REPO / "services").glob("*/README.md")])  # fmt: skip
LINK = re.compile(r"\]\(([^)\s]+)\)")


def anchors(page: Path) -> set[str]:
    """GitHub's anchors of a page's headings: lower case, punctuation dropped, spaces as hyphens."""
    headings = re.findall(r"^#+ (.+)$", page.read_text(encoding="utf-8"), flags=re.MULTILINE)
    return {re.sub(r"[^\w\- ]", "", h.lower()).replace(" ", "-") for h in headings}


def table_rows(text: str) -> dict[str, str]:
    """The rows of the service table, by service: every line that starts with a service's word."""
    rows = {}
    for line in text.splitlines():
        if (m := re.match(r"\| `([a-z]+)` \|", line)) and m.group(1) in SERVICES:
            rows[m.group(1)] = line
    return rows


def cells(row: str) -> list[set[str]]:
    """The names in code spans of each cell after the first."""
    return [set(re.findall(r"`([^`]+)`", cell)) for cell in row.strip("|").split("|")[1:]]


def test_readme_stays_a_newcomers_page():
    assert len((REPO / "README.md").read_text(encoding="utf-8").splitlines()) <= 150


def test_readme_table_is_the_stages_topics():
    rows = table_rows((REPO / "README.md").read_text(encoding="utf-8"))
    assert list(rows) == list(SERVICES)
    for service, row in rows.items():
        stages = [stage for stage in STAGES if stage.service == service]
        consumes, produces, dead_letters, dashboard = cells(row)
        assert consumes == {stage.consumes.name for stage in stages}, service
        assert produces == {topic.name for stage in stages for topic in stage.produces}, service
        assert dead_letters == {dlq_name(service)}
        assert dashboard == {f"deploy/grafana/dashboards/{service}.json"}
        assert (REPO / next(iter(dashboard))).is_file()


@pytest.mark.parametrize("service", SERVICES)
def test_service_readme_repeats_its_row(service):
    root = table_rows((REPO / "README.md").read_text(encoding="utf-8"))
    own = table_rows((REPO / "services" / service / "README.md").read_text(encoding="utf-8"))
    assert own.get(service) == root[service]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(REPO)))
def test_relative_links_resolve(page):
    evaluation_written = (REPO / "evaluation" / "README.md").is_file()
    missing = []
    for target in LINK.findall(page.read_text(encoding="utf-8")):
        if re.match(r"[a-z]+:", target) or target.startswith("#"):
            continue  # a URL, or an anchor on the same page
        file, _, anchor = target.partition("#")
        path = (page.parent / file).resolve()
        # evaluation/ is written on its own branch; until it lands its links are not checked.
        if not evaluation_written and (REPO / "evaluation") in path.parents:
            continue
        if not path.exists() or (anchor and path.suffix == ".md" and anchor not in anchors(path)):
            missing.append(target)
    assert not missing, f"{page.relative_to(REPO)} links to missing files or headings: {missing}"
