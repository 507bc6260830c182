"""docs/configuration.md is what ``newswatch docs config`` prints from the settings classes."""

from __future__ import annotations

import pytest

from cli.docs import PAGE, SECTIONS, Section, render_configuration, render_section
from cli.main import main
from shared.settings import ServiceSettings


def test_configuration_page_is_what_the_generator_prints():
    assert PAGE.read_text(encoding="utf-8") == render_configuration(), (
        "docs/configuration.md is out of date: run `make docs` and commit it"
    )


def test_every_settings_field_has_one_row():
    page = render_configuration()
    rows = [line.split(" | ")[0] for line in page.splitlines() if line.startswith("| `")]
    expected = ["| `JAVA_HOME`"]  # the development broker's, as Kafka's scripts read it
    for section in SECTIONS:
        inherited = section.extends.model_fields if section.extends else {}
        prefix = section.settings.model_config.get("env_prefix")
        if prefix:
            expected += [f"| `{prefix}{name.upper()}`" for name in section.settings.model_fields
                         if name not in inherited]  # fmt: skip
    assert sorted(rows) == sorted(expected)


def test_a_field_without_a_description_stops_the_generator():
    from pydantic import Field

    class Undocumented(ServiceSettings):
        documented: int = Field(default=1, description="Has one.")
        bare: int = 2

    with pytest.raises(ValueError, match="Undocumented.bare has no description"):
        render_section(Section("x", "y", Undocumented, ServiceSettings))


def test_docs_config_prints_the_page(capsys):
    assert main(["docs", "config"]) == 0
    assert capsys.readouterr().out == render_configuration()
