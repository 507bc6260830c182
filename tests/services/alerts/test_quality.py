"""Precision and recall of ``troop_movement`` on hand-labelled news items, headlines included, through the real entities and alerts stages (slow).

Run: ``.venv/bin/python -m pytest -m slow tests/services/alerts/test_quality.py -s`` (prints the figures).

The sets store ids and labels only; the text is read from /work/shared/data at test time (those
corpora are research-only). An item is positive when the rule fires on any of its sentences or
on its title (AG News, Reuters, UCI and re3d-headline items have one).

``troop_dev.csv`` (758 items; built by the previous author): every AG News test row (headline +
snippet), CAMEO sentence (train and test) and BBC sentence that names troops, soldiers, forces,
army, peacekeepers, contingents etc., or a movement verb (deploy, withdraw, pull out, send,
arrive, invade, mass) together with a military or conflict word. Labelled by hand, one annotator,
before any rule was tuned: 1 = it reports or discusses a movement of troops, military personnel
or units: deployment, dispatch, arrival, withdrawal/pull-out/drawdown, mobilisation,
reinforcement or reduction, advancing into or leaving a place, including planned, offered and
demanded movements. 0 = combat, casualties, trials, presence or alert without movement, weapons
or vessels without personnel, every non-military sense (market forces, joined forces). "?" =
undecidable, left out. Split by md5(source:ref) parity into ``dev`` and ``holdout``.

Issue 10 changed the definition: a movement the item only denies, negates, refuses or rules out
is now 0 (the alert is about movements that happen or are planned, offered or demanded; a
conditional "if Tokyo does not withdraw its troops" stays 1: a demand). To relabel, every item
labelled 1 whose text holds not/n't/never/no/deny/refuse/reject/rule out/won't/without was read
again (15 items, both halves); 6 became 0: ag:513, ag:2989, ag:6952, cameo:test:232,
cameo:test:233, cameo:test:243 (dev and holdout mixed).

The rule was tuned on ``dev`` only. ``holdout`` had been looked at once by the previous author
and was looked at again after this rewrite (no change followed from its errors), so it is no
longer a clean held-out set. Hence ``troop_fresh.csv``: Reuters-21578 stories (headline + first
sentence of the body, 1987) that no one had used here, chosen by the same kind of keyword filter
(a force or movement word together with a military or conflict word; exact repeats dropped: 190
items) and labelled by hand with the definition above BEFORE the new rule was run on them;
1 = 12 items (mostly 1987 business news mentioning the Army or Navy as a customer: few positives,
so its recall moves by 8 points per item). Its errors were read after it was scored, not tuned on.

Second tuning round (frames, and general dependency patterns: object control "called on troops
to leave", participle/infinitive clauses on the force "troops trying to enter", "call in/up",
a state with a movement noun): made from the errors of ``dev`` and hand-made unit sentences
only. After it the held-out halves were scored ONCE, figures only: ``holdout`` has now been
looked at three times, ``fresh`` twice, and no change was made from their errors. Measured then:
dev 1.000/0.973, holdout 0.873/0.795, fresh 0.778/0.583 (precision/recall): the dev gain did not
carry over (holdout recall +1 point, holdout precision -1 point, fresh one more false positive).

Third round, a larger held-out set: ``troop_defence.csv`` (400 items, 415 with "?"), from three
corpora no one had used here for this rule: re3d (defence/security documents on Syria and Iraq:
BBC, CENTCOM, UK Government, US State Department, Wikipedia...; body sentences as
``<folder>/<document id>:<start>-<end>`` and headlines as ``...:title``), the UCI News Aggregator
headlines (by ID; almost all business news: 37 items, 1 positive) and the Lee ABC news articles
(sentences as ``<file>:<line>:<start>-<end>``; 2001-02: Afghanistan, the West Bank, Kashmir).
Selected with the same kind of keyword filter (a force word such as troops/forces/army/fighters/
militia, or a movement word, together with a military or conflict word; then a second pass: a
movement word with a force, armour or armed-group word; exact repeats dropped). Labelled by hand by
one annotator (the helper of this round, an AI model), by reading, with the definition above,
BEFORE the rule was run on any of them. Labelling choices: fighters of an armed group (Hezbollah,
Al Qaeda, militias) moving like troops count as a force ("fighters fled to the mountains", "sent
thousands of fighters"); armour moving by itself ("tanks moved into Nablus") is a movement of its
crews; capturing, retaking, assaulting or clearing a place is combat (0); an offensive or raid with
no movement word is "?" (left out); a movement mentioned only as history is still 1 when the item
discusses it (five sentences on Indonesia's 1975 invasion of East Timor; note that the dev
annotator labelled "since last month's U.S. invasion" 0: the two annotators differ there).
1 = 75 items, 0 = 325, "?" = 15. Split by md5(source:ref) parity into ``tune2`` (210 items, 40
positives) and ``held2`` (190 items, 35 positives).

The third round was tuned on ``dev`` and ``tune2`` only, with general patterns (a future or active
relative clause on the force, "expected in <place>", "close in on", armour as the mover, flee and
depart, armed-group fighters and airmen as forces, "an additional 125 soldiers", more movement
nouns: advance, march, entry, influx; "returned fire", "jet fighters" and "think tank" are no
force) and checked against the unlabelled AG News rows outside every set for new false alerts.
``tune2`` went from 0.867/0.325 to 1.000/0.650, ``dev`` stayed 1.000/0.973. Then every held-out
set was scored ONCE, figures only, and no change was made from their errors: ``held2``
0.941/0.457 (the previous rule on it, scored in the same look: 1.000/0.286), ``holdout``
0.873/0.795 (its fourth look, unchanged), ``fresh`` 0.800/0.667 (its third look).

Fourth round, aimed at recall on unseen data, tuned on ``dev`` and ``tune2`` only (their errors
read; held-out items never printed): general mechanisms for a force the parse does not tie to the
movement verb. A "they"/"them" resolved to a force named before it in the sentence (nearest plural
noun, only when no other plural subject precedes it) or to the one plural subject of the sentence
before (``candidates.follow`` parses such a sentence; ``frame.resolve_pronouns``); the force inside
the mover's phrase ("the help of a company of soldiers", "planes from the Air National Guard",
"troop convoys began arriving"), the last of a list of objects; a plural force word right before
an intransitive movement verb when the parse loses the subject ("the rest of the troops will
arrive"); a state invading a named place ("Indonesia's invasion of East Timor"); ALL CAPS headlines
re-cased for the parser; insurgents, militants, jihadists, mujahideen as forces; smuggle and
infiltrate as movements. Precision guards from the same errors and from unlabelled text (BBC
business, sport, tech and entertainment, AG News rows outside every set): an active subject of
offer/pledge/commit/contribute gives, it does not move ("soldiers committed abuses"), "cut off" and
"left the army" are no movement. ``dev`` went from 1.000/0.973 to 1.000/1.000, ``tune2`` from
1.000/0.650 to 1.000/0.800; on the unlabelled text 1 new alert (an invasion as history: "defended
the U.S. invasion of Iraq") and one fewer. Then every held-out set was scored once, figures only,
and no change was made from their errors. Before that, a run of the whole alerts folder (which
collects this slow test too) had scored them once more, pass/fail only, before the last edit (a
faster spelling of one pattern, for the adversarial timing test). So ``held2`` has had three looks
(figures twice): 0.850/0.486, one more movement found and two more false alerts; ``holdout`` six
(figures the last four): 0.886/0.795; ``fresh`` five (figures the last three): 0.667/0.667, two
more false alerts. The round's gain on the sets it was tuned on did not carry over: recall on
``held2`` rose by one item, precision fell on ``held2`` and ``fresh``.

After the round, in the same session, the entities stage began to read titles (their entities and
countries reach the alerts stage) and re-case them as the alerts stage does; every set was scored
twice more, figures only, to check that this moved nothing: the figures above, unchanged. Looks in
all: ``held2`` five (figures four times), ``holdout`` eight, ``fresh`` seven.

A fifth held-out set, ``troop_fresh2.csv`` (2026-12-02): the sentences after the first of
Reuters-21578 story bodies (``reuters-body``, refs ``<NEWID>:<start>-<end>`` into the body with
whitespace collapsed; the first sentences were ``fresh``) and the sentences of the Zyte
article-extraction benchmark's article bodies (``zyte``, ``<key>:<start>-<end>``), text no one had
used for this rule. Selected by the same kind of keyword filter, written down before any item was
read (a force word together with a movement word or a military/conflict word; exact repeats
dropped): 244 items, labelled by reading by one annotator (a helper, an AI model) with the
definition above, BEFORE any rule ran on them; 1 = 46, 0 = 190, "?" = 8. Choices: warships moving
with no personnel named are 0 (vessels without personnel; five items, the closest call), a
navy or naval force as the mover is 1, a past invasion used only as a date ("18 years after
Washington invaded") is 0. The rule of the fourth round was scored on it once, figures only:
0.946/0.761.

Fifth round, tuned on ``dev`` and ``tune2`` only (a helper; held-out sets never scored or read by
it): a named armed group as the mover (a list in the rules: SDF, ISIL, Hezbollah, Taliban ...,
moving only with a verb that can mean nothing but a movement, or going into, toward or out of a
place: "Hamas withdrew its delegation from the talks" stays silent), a named unit or armed group
owning a movement noun ("the SDF advance", "the deployment of the 82nd Airborne Division"), "in
their march toward Raqqah, the SDF ...", a gerund the parse takes for a modifier ("smuggling
weapons, money and fighters"), an ordinal before a proper name deploying ("the 507th ARW will be
deploying"), reoccupy (and its lemmatizer's spelling "reoccupie"). ``tune2`` went from 1.000/0.800
to 1.000/0.925, ``dev`` stayed 1.000/1.000, and on 9,070 unlabelled articles (BBC business, sport,
tech, entertainment; AG News rows outside every set) the alerts stayed the same 15. Then every
held-out set was scored once, figures only, no change made from their errors: ``held2``
0.857/0.514 (one more movement found), ``holdout`` 0.886/0.795, ``fresh`` 0.667/0.667 and
``fresh2`` 0.946/0.761, all three unchanged. Five rounds now tell the same story: gains on the
tuning sets carry over as a single item or none. A run of the alerts tests with the new thresholds
then scored them once more, pass/fail only. Looks in all: ``held2`` seven (figures five times),
``holdout`` ten, ``fresh`` nine, ``fresh2`` three (figures twice).

How close can the labels themselves be matched? A second annotator labelled 400 of these items
again, blind (``test_a_second_reader_agrees_with_the_labels_but_not_as_closely_as_issue_10s_goal_asks``):
kappa 0.854, and against the first labels P 0.820 / R 0.961 (F1 0.884). Pooled over the four
held-out sets the rule scores P 0.879 / R 0.719 (tp 123, fp 17, fn 48; F1 0.791): about nine
points of F1 below a second careful reader, the gap being recall. The issue's goal (precision >=
0.95 and recall >= 0.92 on held-out data) asks the rule to agree with one annotator more closely
than a second annotator does; it is not reached.

Then the held-out labels were made sounder. Every held-out item (``holdout``, ``held2``,
``fresh``, ``fresh2``: 987 with a 0/1 label) was read by a second annotator, blind as above:
the 200 in the sample above by reader B, the other 787 by reader C (``troop_second.csv``; kappa
0.900 with the first labels; C called warships moving a movement, against the definition, 7 of
its 24 extra positives). Where the two gave 1 and 0 (33 items) a third annotator decided by the
definition, seeing the text and the two labels in random order, never the rule or its output
(``troop_adjudicated.csv``, with a reason per item): 18 became or stayed 1, 14 became or stayed 0,
one "?" (left out). Where the second reader abstained ("?"), the first label stands. The result,
``adjudicated_held_out``: 986 items, 188 positives (17 more than the first labels: movements of
armed groups "who had taken refuge", "the flow of foreign fighters", requested deployments; all
12 warship items are 0).

Against those labels a single careful reader is near, not above, the goal: the first annotator
scores P 1.000 / R 0.910, the second P 0.930 / R 0.995 (both favoured: the final labels come from
them), F1 0.953 and 0.961; neither reaches both thresholds. The rule, scored once on them
(``test_troop_movement_against_the_adjudicated_held_out_labels``): P 0.886 [0.82, 0.93] / R 0.660
[0.59, 0.72], F1 0.756: about twenty points of F1 below a human reader, nearly all of it recall
(64 movements missed, 16 false alerts over 986 items). The goal asks for a human reader's
agreement; the rule reads like a cautious keyword-and-syntax matcher. A classifier learned from
the tuning sets does worse (``tests/bench/experiment_troop_classifier.py``, the held-out items'
one more look, figures only: P 0.702 / R 0.638 alone, P 0.715 / R 0.761 with the rule).

Thresholds sit just under the figures measured (README, "Quality"). Runs of the test suite after
that (pass/fail only, figures not printed, CI's included) are not counted as looks.
"""

from __future__ import annotations

import pytest

from services.alerts import core
from services.entities.extract import extract_entities_batch
from services.entities.pipeline import load_nlp

from .conftest import FIRED_AT
from .labelled import (
    ADJUDICATED_SET,
    AGREEMENT_SET,
    DEFENCE_SET,
    DEV_SET,
    FRESH2_SET,
    FRESH_SET,
    HELD_OUT,
    Corpora,
    adjudicated_held_out,
    read_items,
    read_labels,
    score,
    second_labels,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def entities_nlp():
    return load_nlp("en_core_web_sm")


@pytest.fixture(scope="module")
def fires(ruleset, parse, entities_nlp):
    """Whether troop_movement fires on an article, through the real entities stage and the rules."""

    def fires(article) -> bool:
        enriched = extract_entities_batch([article], entities_nlp)[0]
        return any(a.rule_id == "troop_movement" for a in core.evaluate(enriched, ruleset, parse, fired_at=FIRED_AT))

    return fires


@pytest.fixture(scope="module")
def corpora() -> Corpora:
    corpora = Corpora()
    if not corpora.data.is_dir():
        pytest.fail(f"the shared corpora are missing at {corpora.data}")
    return corpora


@pytest.mark.parametrize(
    ("path", "split", "min_precision", "min_recall"),
    [
        (DEV_SET, "dev", 0.98, 0.98),
        (DEV_SET, "holdout", 0.87, 0.78),
        (FRESH_SET, "fresh", 0.64, 0.64),
        (DEFENCE_SET, "tune2", 0.98, 0.90),
        (DEFENCE_SET, "held2", 0.83, 0.49),
        (FRESH2_SET, "fresh2", 0.92, 0.73),
    ],
)
def test_troop_movement_precision_and_recall(fires, corpora, path, split, min_precision, min_recall):
    result = score(read_items(path, corpora, split=split), fires)
    print(f"\n{split}: {result}")
    assert result.precision >= min_precision, result.errors
    assert result.recall >= min_recall, result.errors


def test_the_sets_store_ids_and_labels_only_and_the_split_is_reproducible():
    import csv
    import hashlib

    halves = {DEV_SET: ("dev", "holdout"), DEFENCE_SET: ("tune2", "held2")}
    fresh = {FRESH_SET: "fresh", FRESH2_SET: "fresh2"}
    for path, sources in ((DEV_SET, {"ag", "cameo", "bbc"}), (FRESH_SET, {"reuters"}),
                          (DEFENCE_SET, {"re3d", "uci", "lee"}), (FRESH2_SET, {"reuters-body", "zyte"})):
        with path.open(encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        assert set(rows[0]) == {"source", "ref", "label", "split"}
        assert {r["label"] for r in rows} <= {"0", "1", "?"}
        assert {r["source"] for r in rows} == sources
        for r in rows:
            if path in halves:
                parity = int(hashlib.md5(f"{r['source']}:{r['ref']}".encode()).hexdigest(), 16) % 2
                assert r["split"] == halves[path][parity]
            else:
                assert r["split"] == fresh[path]



def _agreement_sample() -> list[tuple[str, str]]:
    """The items the second reader labelled: per set file, its non-"?" rows shuffled with a fixed
    seed, the first 200 (so both sets and all four halves are in)."""
    import csv
    import random

    sample = []
    for path in (DEV_SET, DEFENCE_SET):
        with path.open(encoding="utf-8") as f:
            rows = [r for r in csv.DictReader(f) if r["label"] != "?"]
        random.Random(20261202).shuffle(rows)
        sample += [(r["source"], r["ref"]) for r in rows[:200]]
    return sample


def test_a_second_reader_agrees_with_the_labels_but_not_as_closely_as_issue_10s_goal_asks():
    """How far the labels themselves can be trusted: a second annotator's labels against them.

    ``troop_agreement.csv``: 400 items of ``troop_dev.csv`` and ``troop_defence.csv`` (both halves
    of each, drawn as ``_agreement_sample`` says), labelled again by a second annotator (an AI
    model, as the first ones were) with the same definition, BLIND: it read only the items' text
    (title and text, as the rule sees them), never the first labels, the rule or its output.
    Measured when it was made (2026-12-02): Cohen's kappa 0.854; the second reader scored against
    the first labels P 0.820 / R 0.961 (it calls more items movements: "influx of foreign
    fighters", reservists "called to active duty" as background), 8 items "?" for it.
    Neither way round (second reader against first, or first against second) do precision and
    recall reach issue 10's goal (P >= 0.95, R >= 0.92): two careful readers do not agree as
    closely as the goal asks the rule to agree with one of them.
    """
    gold = {**read_labels(DEV_SET), **read_labels(DEFENCE_SET)}
    second = read_labels(AGREEMENT_SET)
    assert sorted(second) == sorted(_agreement_sample())
    pairs = [(gold[k], v) for k, v in second.items() if v != "?"]
    tp = sum(g == "1" and s == "1" for g, s in pairs)
    fp = sum(g == "0" and s == "1" for g, s in pairs)
    fn = sum(g == "1" and s == "0" for g, s in pairs)
    tn = sum(g == "0" and s == "0" for g, s in pairs)
    n = len(pairs)
    observed = (tp + tn) / n
    expected = ((tp + fp) * (tp + fn) + (fn + tn) * (fp + tn)) / n / n
    kappa = (observed - expected) / (1 - expected)
    precision, recall = tp / (tp + fp), tp / (tp + fn)
    print(f"\nsecond reader vs labels: n={n} kappa={kappa:.3f} P={precision:.3f} R={recall:.3f}")
    # Substantial agreement: the labels measure something a second reader finds too ...
    assert kappa >= 0.8
    # ... but not within the goal's margins, in either role.
    assert not (precision >= 0.95 and recall >= 0.92)
    assert not (recall >= 0.95 and precision >= 0.92)


MIN_ADJUDICATED = (0.86, 0.64)  # (precision, recall): just under the figures measured


def test_troop_movement_against_the_adjudicated_held_out_labels(fires, corpora):
    """The rule on every held-out item, each read by two annotators and, where they disagreed, by a third.

    Labels: ``adjudicated_held_out`` (the first label where the second reader agreed or abstained,
    ``troop_adjudicated.csv`` where one said 1 and the other 0). Measured 2026-12-02, scored once
    when made: see the module docstring; the thresholds sit just under.
    """

    result = score(adjudicated_held_out(corpora), fires)
    print(f"\nheld out, adjudicated: {result}")
    assert result.precision >= MIN_ADJUDICATED[0], result.errors
    assert result.recall >= MIN_ADJUDICATED[1], result.errors


def test_every_held_out_item_was_read_twice_and_every_disagreement_decided():
    import csv

    second, decided = second_labels(), read_labels(ADJUDICATED_SET)
    disagreements = set()
    for path, split in HELD_OUT:
        with path.open(encoding="utf-8") as f:
            for r in csv.DictReader(f):
                if r["split"] != split or r["label"] == "?":
                    continue
                key = (r["source"], r["ref"])
                assert second.get(key) in ("0", "1", "?"), key
                if second[key] != "?" and second[key] != r["label"]:
                    disagreements.add(key)
    # decided exactly where the two readers gave 1 and 0, nowhere else
    assert set(decided) == disagreements
    assert set(decided.values()) <= {"0", "1", "?"}
