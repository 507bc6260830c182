"""Tests for services/alerts/core.py: the rule engine, alert ids, and the troop-movement rule."""

from __future__ import annotations

import csv
import hashlib
import re
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from services.alerts.core import Rule, alert_id, evaluate, load_rules
from services.entities.core import extract_entities
from shared.schemas.articles import Entity, UniqueArticle

from .conftest import DATA, FIRED_AT, split_sentences

DEV_SET = Path(__file__).with_name("troop_dev.csv")


# --- the troop-movement rule on single sentences ---------------------------------------------


@pytest.mark.parametrize(
    "sentence",
    [
        "An An-124 military cargo plane carrying troops and equipment arrived at the international airport outside Caracas on Saturday.",
        "Russia said on Thursday it had sent military personnel to Venezuela.",
        "About 100 Russian soldiers disembarked along with about 35 tons of equipment.",
        "Britain is deploying 300 troops to the UN peacekeeping mission in Mali.",
        "The first deployment of NATO peacekeeping troops have arrived in Bosnia.",
        "Russia has begun withdrawing some of its troops from Syria.",
        "Poland should decide soon when to pull its troops out of Iraq.",
        "The United States speeded up the withdrawal of some invasion forces from Panama.",
        "Black Watch troops move north towards Baghdad.",
        "Nigeria announced the deployment of 230 troops, including 19 officers, to Liberia.",
        "The UN chief urged the European Union to commit more troops.",
        "Israel mobilized troops for a possible ground assault.",
        # the Reuters lede of seed 004: a withdrawal demanded, with no direction word after the verb
        "Russia said it had sent specialists to Venezuela, brushing aside a call from Trump to remove all military personnel from the country.",
        "Trump said all options were open to make Russia pull troops out of Venezuela.",
        "The servicemen were sent as part of Russia’s agreements to supply weapons to Venezuela.",
        "France is ready to contribute up to 4,000 troops to an international peace-keeping force.",
    ],
)
def test_troop_movement_fires_on_deployments_arrivals_and_withdrawals(troop_rule, sentence):
    assert troop_rule.matches(sentence, [])


@pytest.mark.parametrize(
    "sentence",
    [
        "Israeli troops killed two Palestinians in separate incidents on Friday.",  # combat, no movement
        "Four US soldiers charged with abusing prisoners face pre-trial hearings in Germany.",
        "Russian troops won't participate in any military operations, Tass quoted him as saying.",
        "Troops of fans arrived at the stadium hours before kick-off.",
        "Microsoft and Amazon joined forces and sent letters to spammers.",
        "Market forces sent the dollar lower on Friday.",
        "Karl Elsener's knife, the Swiss Army Knife, arrived on the list at number 20.",
        "Eminem's Like Toy Soldiers was sent to the top of the charts.",
        "The army tested a new missile on Thursday.",
        "Indian troops remained on alert in the valley.",
        "Iran deploys a new missile.",  # weapons, not personnel
        "Clashes with security forces left 12 dead, leaving as many as 30 wounded.",
    ],
)
def test_troop_movement_ignores_other_military_and_non_military_sentences(troop_rule, sentence):
    assert not troop_rule.matches(sentence, [])


# --- evaluate(): sentences, seen, ids ---------------------------------------------------------


def test_alert_carries_evidence_entities_and_source(make_enriched, rules):
    text = "Tensions rose. An An-124 carrying troops arrived in Caracas on Saturday."
    entity = Entity(
        text="An-124", label="AIRCRAFT", start=18, end=24, sentence=1, canonical="An-124"
    )
    other = Entity(text="Tensions", label="ORG", start=0, end=8, sentence=0)
    article = make_enriched(
        text, entities=[other, entity], title="T", url="https://e.x/1", source="e.x"
    )
    (alert,) = evaluate(article, rules, fired_at=FIRED_AT)
    assert alert.rule_id == "troop_movement" and alert.rule_name == "Troop movement"
    assert alert.sentence_index == 1
    assert alert.evidence == "An An-124 carrying troops arrived in Caracas on Saturday."
    assert alert.entities == [entity]
    assert (alert.article_id, alert.title, alert.url, alert.source) == (
        "a1",
        "T",
        "https://e.x/1",
        "e.x",
    )
    assert alert.fired_at == FIRED_AT


def test_seen_sentence_does_not_fire(make_enriched, rules):
    text = "Russia sent troops to Venezuela. Russia sent more troops to Venezuela."
    article = make_enriched(text, seen=[0])
    assert [a.sentence_index for a in evaluate(article, rules, fired_at=FIRED_AT)] == [1]


def test_rule_without_new_only_fires_on_seen_sentences(make_enriched, troop_rule):
    replaying = troop_rule.model_copy(update={"new_only": False})
    article = make_enriched("Russia sent troops to Venezuela.", seen=[0])
    assert len(evaluate(article, [replaying], fired_at=FIRED_AT)) == 1


def test_alert_id_is_stable_across_replays_and_distinct_per_sentence(make_enriched, rules):
    text = "Russia sent troops to Venezuela. Russia sent more troops to Venezuela."
    first = evaluate(make_enriched(text), rules, fired_at=FIRED_AT)
    again = evaluate(make_enriched(text), rules, fired_at=FIRED_AT.replace(hour=13))
    assert [a.alert_id for a in first] == [a.alert_id for a in again]
    assert len({a.alert_id for a in first}) == 2
    assert first[0].alert_id == alert_id("troop_movement", "a1", 0)
    assert alert_id("troop_movement", "a2", 0) != first[0].alert_id


def test_article_without_matches_gives_no_alerts(make_enriched, rules):
    assert (
        evaluate(make_enriched("Markets rose on Friday. Oil fell."), rules, fired_at=FIRED_AT) == []
    )


# --- the engine's declarative conditions ---------------------------------------------------------


def make_rule(**conditions) -> Rule:
    return Rule.model_validate(
        {
            "id": "test_rule",
            "vocabularies": {"ship": ["warships?", "frigates?"], "move": ["sail(?:s|ed)?"]},
            "conditions": conditions["conditions"],
        }
    )


def test_near_respects_the_word_window():
    rule = make_rule(conditions=[{"near": ["ship", "move"], "within": 3}])
    assert rule.matches("Two warships sailed into port.", [])
    assert rule.matches("Warships of the fleet sailed.", [])  # three words between
    assert rule.matches("They sailed, the frigates.", [])  # either order
    assert not rule.matches("Warships that were in the old fleet sailed.", [])  # six


def test_entity_label_condition_uses_the_sentence_entities():
    rule = make_rule(conditions=[{"match": "ship"}, {"entity_labels": ["VESSEL"]}])
    vessel = Entity(text="HMS Ocean", label="VESSEL", start=0, end=9, sentence=0)
    assert rule.matches("HMS Ocean and two frigates.", [vessel])
    assert not rule.matches("Two frigates.", [])


def test_any_and_not_match_compose():
    rule = make_rule(
        conditions=[{"any": [{"match": "ship"}, {"match": "move"}]}, {"not_match": "move"}]
    )
    assert rule.matches("A frigate.", [])
    assert not rule.matches("A frigate sailed.", [])


@pytest.mark.parametrize(
    "bad",
    [
        {"id": "r", "conditions": [{"match": "nowhere"}]},  # unknown vocabulary
        {"id": "r", "vocabularies": {"v": ["("]}, "conditions": [{"match": "v"}]},  # bad regex
        {"id": "r", "vocabularies": {"v": ["x"]}, "conditions": [{"match": "v", "not_match": "v"}]},
        {"id": "Bad-Id", "vocabularies": {"v": ["x"]}, "conditions": [{"match": "v"}]},
        {"id": "r", "vocabularies": {"v": ["x"]}, "conditions": [{"matches": "v"}]},  # typo
    ],
)
def test_malformed_rule_is_refused(bad):
    with pytest.raises((ValidationError, ValueError)):
        Rule.model_validate(bad)


def test_duplicate_rule_ids_are_refused(tmp_path):
    rule = {"id": "r", "vocabularies": {"v": ["x"]}, "conditions": [{"match": "v"}]}
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump({"rules": [rule, rule]}))
    with pytest.raises(ValueError, match="duplicate"):
        load_rules(path)


def test_shipped_rules_load_and_include_the_flagship(rules):
    assert "troop_movement" in {r.id for r in rules}
    assert next(r for r in rules if r.id == "troop_movement").new_only


# --- the seeds, through the real entities stage (slow) -------------------------------------------


@pytest.mark.slow
def test_seeds_raise_troop_movement_alerts_on_the_russian_arrival(nlp, rules, seed_texts):
    evidence: list[str] = []
    for stem, text in seed_texts.items():
        article = UniqueArticle(
            article_id=stem, text=text, ingested_at=FIRED_AT, sentences=split_sentences(text)
        )
        alerts = evaluate(extract_entities(article, nlp), rules, fired_at=FIRED_AT)
        for a in alerts:
            assert a.article_id == stem and text.count(a.evidence) >= 1
            assert all(e.sentence == a.sentence_index for e in a.entities)
        evidence += [a.evidence for a in alerts]
    flagship = next(e for e in evidence if "An-124 military cargo plane carrying troops" in e)
    assert "arrived at the international airport outside Caracas" in flagship
    assert any("sent military personnel" in e for e in evidence)
    assert any("Two Russian military planes landed" in e for e in evidence)
    # The An-124 sentence carries its aircraft entities, canonicalised.
    (alert,) = [
        a
        for stem, text in seed_texts.items()
        for a in evaluate(
            extract_entities(
                UniqueArticle(
                    article_id=stem,
                    text=text,
                    ingested_at=FIRED_AT,
                    sentences=split_sentences(text),
                ),
                nlp,
            ),
            rules,
            fired_at=FIRED_AT,
        )
        if a.evidence == flagship
    ]
    assert {"Il-62", "An-124"} <= {e.canonical for e in alert.entities}


# --- the labelled development set (slow) ---------------------------------------------------------

_AG_SENTENCE_END = re.compile(r"(?<=[.!?])[\"”’]?\s+(?=[\"“‘]?[A-Z])")


def _dev_texts(source: str, ref: str, corpora: dict) -> list[str]:
    if source == "ag":
        row = corpora["ag"][int(ref)]
        return [row["title"], *_AG_SENTENCE_END.split(row["description"].replace("\\", " "))]
    if source == "cameo":
        part, line = ref.split(":")
        return [corpora["cameo"][part][int(line)]]
    path, span = ref.rsplit(":", 1)
    start, end = map(int, span.split("-"))
    text = (DATA / "bbc" / "bbc" / path).read_bytes().decode("utf-8", "replace")
    return [text[start:end]]


@pytest.fixture(scope="module")
def dev_rows() -> list[dict[str, str]]:
    if not DATA.is_dir():
        pytest.fail(f"the shared corpora are missing at {DATA}")
    with DEV_SET.open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


@pytest.mark.slow
@pytest.mark.parametrize(
    ("split", "min_precision", "min_recall"),
    [("dev", 0.95, 0.92), ("holdout", 0.85, 0.82)],
)
def test_troop_movement_dev_set_precision_and_recall(
    troop_rule, dev_rows, split, min_precision, min_recall
):
    """Precision and recall of ``troop_movement`` on 758 hand-labelled news items.

    How the set was built: every AG News test row (headline + snippet), CAMEO sentence (train and
    test) and BBC sentence that names troops/soldiers/forces/army/peacekeepers/contingents etc.,
    or names a movement verb (deploy, withdraw, pull out, send, arrive, invade, mass) together with
    a military or conflict word. Only ids are stored (AG row index after the header, CAMEO
    ``part:line``, BBC ``path:start-end`` character offsets of the sentence); the text is read
    from ../shared/data at test time, since those corpora are research-only.

    How it was labelled (by hand, by one annotator, reading each item once, before the rule was
    tuned): 1 = it reports or discusses a movement of troops or military personnel or units:
    deployment, dispatch, arrival, withdrawal/pull-out/drawdown, mobilisation or reinforcement,
    advancing into or leaving a place, including planned, offered, demanded or refused movements
    ("Syria is willing to withdraw its troops"). 0 = combat, casualties, trials, presence or alert
    without movement, weapons without personnel, and every non-military sense (market forces,
    Swiss Army knife, toy soldiers, joined forces). "?" = undecidable, excluded (mostly the 2004
    Gaza "pullout" items that never say whether troops or settlers move, and past invasions).

    Items were split by md5(source:ref) parity into ``dev`` (used to tune the vocabularies) and
    ``holdout`` (looked at once, after tuning; one fix followed: numbers like "4,000" inside the
    gap patterns). Thresholds sit just under the measured figures.
    """
    ag_path = DATA / "ag-news" / "test.csv"
    with ag_path.open(encoding="utf-8") as f:
        ag = list(csv.DictReader(f))
    cameo = {
        part: [
            line.rstrip("\n").rsplit("\t", 1)[0]
            for line in (DATA / "cameo-sentences" / f"{part}.tsv").open(encoding="utf-8")
        ]
        for part in ("train", "test")
    }
    corpora = {"ag": ag, "cameo": cameo}
    tp = fp = fn = 0
    errors = []
    for row in dev_rows:
        if row["split"] != split or row["label"] == "?":
            continue
        texts = _dev_texts(row["source"], row["ref"], corpora)
        predicted = any(troop_rule.matches(t, []) for t in texts)
        gold = row["label"] == "1"
        tp += predicted and gold
        fp += predicted and not gold
        fn += gold and not predicted
        if predicted != gold:
            errors.append(f"{'FP' if predicted else 'FN'} {row['source']}:{row['ref']}")
    precision, recall = tp / (tp + fp), tp / (tp + fn)
    print(f"\n{split}: tp={tp} fp={fp} fn={fn} precision={precision:.3f} recall={recall:.3f}")
    assert precision >= min_precision, errors
    assert recall >= min_recall, errors


def test_dev_set_stores_ids_and_labels_only():
    with DEV_SET.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert set(rows[0]) == {"source", "ref", "label", "split"}
    assert {r["label"] for r in rows} <= {"0", "1", "?"}
    assert {r["source"] for r in rows} == {"ag", "cameo", "bbc"}
    for r in rows:  # the split is reproducible from the id alone
        parity = int(hashlib.md5(f"{r['source']}:{r['ref']}".encode()).hexdigest(), 16) % 2
        assert r["split"] == ("dev" if parity == 0 else "holdout")
