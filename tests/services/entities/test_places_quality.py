"""How right the countries are: the entities stage's country codes against hand labels (slow).

``places_gold.csv``: 300 place and people mentions (the stage's own GPE, LOC, NORP and FAC spans)
from text not used when the place rules were written: 150 from 120 BBC news articles (2004-05,
bodies without their headline line) and 150 from 250 Reuters-21578 story bodies (1987, whitespace
collapsed), the articles and then the mentions drawn with ``random.Random(20261202)``. Each
mention was labelled by one annotator (an AI model) BLIND: it saw the name, its sentence and the
article's first 400 characters, never the stage's output. Its label: the ISO 3166-1 alpha-2 code
of the one country the name names, lies in today, or whose people or government it names; "-"
when it names no place or people (a person, a club, a company) or nothing one country covers
(continents, "the Gulf", "Soviet", "EC"); "?" when the text does not tell.

Read with the project's policy in mind: a code is given only when the name is unambiguous in its
article (``services/entities/README.md``, "Countries"), so a missing code is a choice, a wrong
one is an error. Hence two figures: precision (codes given that are right) and coverage (labelled
codes the stage gives).

Measured 2026-12-02. First look, blind (no change made before it): precision 207/213 = 0.972
[0.94, 0.99], coverage 207/239 = 0.866 [0.82, 0.90]. Its six wrong codes were then read: two
general bugs, fixed (countryinfo's two-letter ISO codes taken as country names: a rating "BB"
became Barbados; a US anchor in the article sent "Moscow" to Moscow, Idaho, twice: a national
capital 100 times as populous as the anchored reading now wins), the rest the NER's (a football
club, "U.S. West" the company, tagged as places). After: precision 209/212 = 0.986 [0.96, 1.00],
coverage 209/239 = 0.874 [0.83, 0.91]: no longer a held-out figure. The 30 labelled codes not
given: "West Germany"/"West German" six times (a former state: left without a code, like
"Soviet"), regions the NER calls LOC (taken only as countries, by policy: "Siberia", "New South
Wales", "Rajasthan"), second-level regions ISO 3166-2 nests ("Lancashire"), names two countries
share ("Birmingham"), buildings and venues ("Edinburgh Airport"), "Mich.", "Philippine".

Run: ``.venv/bin/python -m pytest -m slow tests/services/entities/test_places_quality.py -s``.
"""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path

import pytest

from services.entities.extract import extract_entities_batch
from shared.schemas.articles import UniqueArticle
from tests.factories import split_sentences
from tests.figures import wilson
from tests.services.alerts.labelled import read_reuters_bodies

DATA = Path(__file__).resolve().parents[4] / "shared" / "data"
GOLD = Path(__file__).resolve().parent / "places_gold.csv"
MIN_PRECISION, MIN_COVERAGE = 0.96, 0.85  # just under the figures measured


def _article_text(source: str, ref: str, reuters: dict[str, str]) -> str:
    if source == "bbc":
        raw = (DATA / "bbc" / "bbc" / ref).read_bytes().decode("utf-8", "replace")
        return " ".join(raw.partition("\n")[2].split())
    return reuters[ref]


@pytest.mark.slow
def test_country_codes_are_right_where_given_and_given_for_most_named_places(nlp):
    if not DATA.is_dir():
        pytest.fail(f"the shared corpora are missing at {DATA}")
    with GOLD.open(encoding="utf-8") as f:
        gold = list(csv.DictReader(f))
    reuters = read_reuters_bodies(DATA / "reuters21578")
    by_article: dict[tuple[str, str], list[dict[str, str]]] = {}
    for row in gold:
        by_article.setdefault((row["source"], row["article"]), []).append(row)
    given = right = coded = found = 0
    wrong, gone = [], []
    for (source, ref), rows in by_article.items():
        text = _article_text(source, ref, reuters)
        article = UniqueArticle(article_id=f"{source}:{ref}", text=text, ingested_at=datetime(2024, 1, 1, tzinfo=UTC),
                                sentences=split_sentences(text), language="en")
        entities = {(e.start, e.end): e for e in extract_entities_batch([article], nlp)[0].entities}
        for row in rows:
            span = (int(row["start"]), int(row["end"]))
            entity = entities.get(span)
            if entity is None:
                gone.append(f"{source}:{ref}:{span}")  # no longer one of the stage's spans
            label = row["country"]
            ours = entity.country if entity is not None else None
            if label == "?":
                continue
            if ours is not None:
                given += 1
                right += ours == label
                if ours != label:
                    wrong.append(f"{text[span[0]:span[1]]!r}: {ours} (labelled {label})")
            if label != "-":
                coded += 1
                found += ours == label
    precision, coverage = right / given, found / coded
    p_lo, p_hi = wilson(right, given)
    c_lo, c_hi = wilson(found, coded)
    print(f"\ncountries: precision {right}/{given} = {precision:.3f} [{p_lo:.2f}, {p_hi:.2f}], "
          f"coverage {found}/{coded} = {coverage:.3f} [{c_lo:.2f}, {c_hi:.2f}]; "
          f"spans gone {len(gone)}\n  wrong: {wrong}")
    assert precision >= MIN_PRECISION, wrong
    assert coverage >= MIN_COVERAGE
    # The sample is the stage's own spans: if most are gone, the NER changed and the set needs redrawing.
    assert len(gone) <= len(gold) // 10, gone
