"""Examples files: both sides read in order, sources kept, and every mistake named with its file."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from services.alerts.examples import ExamplesError, read_examples


def write(path: Path, data: dict) -> Path:
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def test_both_sides_are_read_with_their_sources_and_notes(tmp_path):
    path = write(
        tmp_path / "e.yaml",
        {
            "rule": "r",
            "source": "written",
            "fire": [
                "Troops  were sent\nto the border.",
                {"text": "Marines landed.", "source": "voa"},
            ],
            "silent": [{"text": "The unit was sold.", "why": "business unit"}],
        },
    )
    examples = read_examples([path], rule="r")
    assert examples.texts == [
        "Troops were sent to the border.",
        "Marines landed.",
        "The unit was sold.",
    ]
    assert examples.labels == [True, True, False]
    assert [e.source for e in examples.items] == ["written", "voa", "written"]
    assert examples.items[2].why == "business unit"
    assert len(examples.digest) == 16


def test_the_digest_follows_the_files_content(tmp_path):
    path = write(tmp_path / "e.yaml", {"fire": ["A."], "silent": ["B."]})
    first = read_examples([path], rule="r").digest
    write(path, {"fire": ["A."], "silent": ["C."]})
    assert read_examples([path], rule="r").digest != first


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"fire": ["A."]}, "both sides"),
        ({"fire": ["A."], "silent": [""]}, "silent #1: needs a non-empty text"),
        ({"fire": ["A."], "silent": ["B."], "extra": 1}, "unknown keys"),
        ({"fire": ["A."], "silent": [{"text": "B.", "label": 1}]}, "silent #1: unknown keys"),
        ({"rule": "other", "fire": ["A."], "silent": ["B."]}, "examples of rule other"),
        ({"fire": "A.", "silent": ["B."]}, "fire: needs a list"),
        (["A."], "needs 'fire:'"),
    ],
)
def test_a_file_that_cannot_be_used_is_refused_with_its_name(tmp_path, data, message):
    path = write(tmp_path / "bad.yaml", data)
    with pytest.raises(ExamplesError, match=message) as error:
        read_examples([path], rule="r")
    assert str(path) in str(error.value) or "rule r" in str(error.value)


def test_a_sentence_in_two_files_is_refused_naming_both(tmp_path):
    first = write(tmp_path / "a.yaml", {"fire": ["Troops left."], "silent": ["B."]})
    second = write(tmp_path / "b.yaml", {"silent": ["troops  LEFT."]})
    with pytest.raises(ExamplesError, match="already in") as error:
        read_examples([first, second], rule="r")
    assert str(first) in str(error.value) and str(second) in str(error.value)


def test_a_missing_file_is_refused(tmp_path):
    with pytest.raises(ExamplesError, match="cannot read"):
        read_examples([tmp_path / "none.yaml"], rule="r")
