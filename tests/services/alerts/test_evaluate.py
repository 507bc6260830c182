"""Tests for services/alerts/evaluate.py (slow: the real model).

Which sentences and titles fire, ids, what is parsed.
"""

from __future__ import annotations

import pytest

from services.alerts.compile import parse_rules
from services.alerts.evaluate import TITLE_INDEX, alert_id, evaluate, evaluate_counted
from services.entities.extract import extract_entities_batch
from services.entities.pipeline import load_nlp
from shared.schemas.articles import UniqueArticle
from shared.text import headline_case

from .conftest import CARACAS, DENIAL, FIRED_AT, entity, split_sentences

pytestmark = pytest.mark.slow


@pytest.mark.parametrize(
    "sentence",
    [
        CARACAS,
        "Russia said on Thursday it had sent military personnel to Venezuela.",
        "Britain is deploying 300 troops to the UN peacekeeping mission in Mali.",
        "The first deployment of NATO peacekeeping troops have arrived in Bosnia.",
        "Russia has begun withdrawing some of its troops from Syria.",
        "Poland should decide soon when to pull its troops out of Iraq.",
        "Nigeria announced the deployment of 230 troops, including 19 officers, to Liberia.",
        "The UN chief urged the European Union to commit more troops.",
        "Israel mobilized troops for a possible ground assault.",
        "Trump said all options were open to make Russia pull troops out of Venezuela.",
        "The servicemen were sent as part of Russia's agreements to supply weapons to Venezuela.",
        "France is ready to contribute up to 4,000 troops to an international peace-keeping force.",
    ],
)
def test_troop_movement_fires_on_deployments_arrivals_and_withdrawals(run, sentence):
    assert [a.rule_id for a in run(sentence)] == ["troop_movement"]


@pytest.mark.parametrize(
    "sentence",
    [
        "Israeli troops killed two Palestinians in separate incidents on Friday.",
        "Four US soldiers charged with abusing prisoners face pre-trial hearings in Germany.",
        "Troops of fans arrived at the stadium hours before kick-off.",
        "Microsoft and Amazon joined forces and sent letters to spammers.",
        "Market forces sent the dollar lower on Friday.",
        "The army tested a new missile on Thursday.",
        "Indian troops remained on alert in the valley.",
        "Iran deploys a new missile.",
    ],
)
def test_troop_movement_ignores_other_military_and_non_military_sentences(run, sentence):
    assert run(sentence) == []


@pytest.mark.parametrize(
    "sentence",
    [
        DENIAL,
        "Moscow denied that it had sent troops to Ukraine.",
        "Pakistan has refused to deploy peacekeepers in Iraq.",
        "Russian troops will not be withdrawn from the region, the minister said.",
        "Straw said his country does not plan to deploy forces to Darfur.",
    ],
)
def test_a_denied_or_negated_movement_raises_no_alert(run, sentence):
    assert run(sentence) == []


def test_the_title_is_evaluated_as_sentence_minus_one(run, make_enriched):
    body = "Officials in Moscow said the personnel were there under a cooperation agreement."
    article = make_enriched(
        body, title="Venezuela Says Russian Troops Land to Service Military Equipment"
    )
    alerts = run(article)
    assert [a.sentence_index for a in alerts] == [TITLE_INDEX]
    assert alerts[0].evidence == article.title and alerts[0].frame.action == "arrive"
    assert all(e.sentence == TITLE_INDEX for e in alerts[0].entities)
    assert alerts[0].alert_id == alert_id("troop_movement", "a1", -1)


def test_a_denied_headline_raises_nothing(run, make_enriched):
    assert (
        run(make_enriched("Markets rose.", title="Russia denies sending troops to Venezuela")) == []
    )


def test_seen_sentences_are_skipped_and_ids_are_stable_on_replay(run, make_enriched):
    text = "Russia sent troops to Venezuela. Russia sent more troops to Venezuela."
    assert [a.sentence_index for a in run(text, seen=[0])] == [1]
    first = run(make_enriched(text))
    again = run(make_enriched(text))
    assert [a.alert_id for a in first] == [a.alert_id for a in again]
    assert [a.alert_id for a in first] == [alert_id("troop_movement", "a1", i) for i in (0, 1)]


def test_only_candidate_sentences_are_parsed(ruleset, parse, make_enriched):
    article = make_enriched("Markets rose on Friday. Oil fell. Russia sent troops to Venezuela.")
    result = evaluate_counted(article, ruleset, parse, fired_at=FIRED_AT)
    assert (result.sentences, result.parsed, len(result.alerts)) == (3, 1, 1)


def test_entity_country_and_article_conditions(alerts_nlp, parse, make_enriched):
    rules = parse_rules(
        {
            "rules": [
                {
                    "id": "russian_ships",
                    "patterns": {
                        "ship": [[{"LEMMA": "warship"}]],
                        "ru": [[{"_": {"country": "RU"}}]],
                    },
                    "conditions": [
                        {"tokens": "ship"},
                        {"tokens": "ru"},
                        {"entity": {"labels": ["GPE"], "countries": ["RU"]}},
                        {"article": {"language": ["en"], "source": ["reuters.com"]}},
                    ],
                }
            ]
        },
        vocab=alerts_nlp.vocab,
    )
    text = "Russia sent two warships to the Baltic."
    ents = [entity("Russia", text, "GPE", country="RU")]

    def fired(**meta) -> bool:
        return bool(
            evaluate(make_enriched(text, entities=ents, **meta), rules, parse, fired_at=FIRED_AT)
        )

    assert fired(language="en", source="reuters.com")
    assert not fired(language="de", source="reuters.com")
    assert not fired(language="en", source="example.com")
    assert not evaluate(
        make_enriched(text, language="en", source="reuters.com"), rules, parse, fired_at=FIRED_AT
    )  # no country on the entities: no match


def test_the_seeds_alert_on_the_caracas_arrival_and_not_on_the_denial(run, seed_texts):
    nlp = load_nlp("en_core_web_sm")
    alerts = []
    for stem, text in seed_texts.items():
        unique = UniqueArticle(
            article_id=stem, text=text, ingested_at=FIRED_AT, sentences=split_sentences(text)
        )
        alerts += run(extract_entities_batch([unique], nlp)[0])
    evidence = [a.evidence for a in alerts]
    assert not any("not sending a military contingent" in e for e in evidence)
    (caracas,) = [a for a in alerts if "An-124 military cargo plane carrying troops" in a.evidence]
    assert caracas.frame.action == "arrive" and caracas.frame.place.text == "Caracas"
    assert {"Il-62", "An-124"} <= set(caracas.frame.equipment)
    assert any("Russia had sent “servicemen” to Venezuela" in e for e in evidence)


def test_a_headline_takes_the_entities_stages_title_entities_and_their_countries(
    run, make_enriched
):
    # The body never names Poland or Iraq: only the entities stage's reading of the title gives
    # their countries (AG News World items are a headline and one sentence).
    title = "Poland to Reduce Number of Troops in Iraq"
    article = make_enriched(
        "The defence minister spoke on Friday.",
        title=title,
        title_entities=[
            entity("Poland", title, "GPE", sentence=-1, country="PL"),
            entity("Iraq", title, "GPE", sentence=-1, country="IQ"),
        ],
    )
    (title_alert,) = run(article)
    frame = title_alert.frame
    assert (frame.action, frame.actor.country, frame.place.country) == ("reduce", "PL", "IQ")
    assert [(e.text, e.country) for e in title_alert.entities] == [("Poland", "PL"), ("Iraq", "IQ")]
    # A message from before titles were read: the parse's NER alone, no countries to give.
    (old,) = run(make_enriched("The defence minister spoke on Friday.", title=title))
    assert old.frame.actor.country is None and old.frame.place.country is None


@pytest.mark.parametrize(
    "sentence",
    [
        "Troops deployed in Iraq were killed by a roadside bomb.",  # presence and casualties
        "The US announced its withdrawal from the Kyoto treaty.",  # no force
        "The coach called up three players from the under-21 squad.",
        "The European Union called on member states to send aid to the region.",
    ],
)
def test_the_new_patterns_leave_presence_and_non_military_senses_alone(run, sentence):
    assert run(sentence) == []


@pytest.mark.parametrize(
    "sentence",
    [
        "The troops returned fire and the gunmen escaped.",  # shooting back
        "Israeli jet fighters forced an airliner to land in Cyprus.",  # aircraft, not people
        "The think tank moved its offices to Brussels.",
        "Germany sent tanks to Ukraine.",  # weapons delivered, no personnel
        "Soldiers who were deployed in Iraq were killed by a bomb.",  # a past passive relative: presence
        "The soldiers who fought in Falluja were decorated.",
    ],
)
def test_the_third_round_patterns_leave_fire_aircraft_weapons_and_presence_alone(run, sentence):
    assert run(sentence) == []


# Fourth round: a force the parse does not tie to the movement verb (pronouns, the mover's phrase,
# a lost subject), invasions of a named place, ALL CAPS headlines; givers and quitters are no movers.


def test_a_sentence_with_they_is_parsed_only_after_a_candidate_sentence(
    syntax_rules, parse, make_enriched
):
    article = make_enriched(
        "Markets rose. They moved up. Dutch marines entered the town. They moved on. "
        "They moved again."
    )
    result = evaluate_counted(article, syntax_rules, parse, fired_at=FIRED_AT)
    # parsed: the marines and the "they" right after them; not a "they" after a non-candidate
    assert (result.sentences, result.parsed) == (5, 2)
    assert [a.sentence_index for a in result.alerts] == [2, 3]


@pytest.mark.parametrize(
    "sentence",
    [
        "Britain has offered Nepal the help of a company of soldiers.",  # two "of" phrases down
        "Troop convoys began arriving in the north on Friday.",  # the force modifies the mover
        "The navy sent food, medicine and marines to the island.",  # the last of a list of objects
        "Hundreds of insurgents fled into the mountains.",
        "Rebels smuggled fighters across the border.",
    ],
)
def test_a_force_inside_the_movers_phrase_or_list_is_the_mover(run, sentence):
    assert [a.rule_id for a in run(sentence)] == ["troop_movement"]


def test_a_force_right_before_an_intransitive_movement_verb_matches_without_its_subject(
    ruleset, alerts_nlp
):
    (rule,) = [r for r in ruleset.rules if r.id == "troop_movement"]
    doc = alerts_nlp("He said the bulk of the troops will arrive next week.")
    names = {alerts_nlp.vocab.strings[m] for m, _, _ in rule.matcher(doc)}
    assert "force_then_move" in names
    doc = alerts_nlp(
        "Clashes between rebels and troops left ten people dead."
    )  # leave takes an object
    assert "force_then_move" not in {alerts_nlp.vocab.strings[m] for m, _, _ in rule.matcher(doc)}


@pytest.mark.parametrize(
    "sentence",
    [
        "Soldiers committed abuses at the prison.",  # the force gives, it does not move
        "Soldiers offered to help the villagers.",
        "Militants offered to free the hostages.",
        "The soldiers left the army after ten years.",  # quitting the military
        "The operation will cut off the troops from their supply lines.",  # isolating a force
        "Clashes between rebels and troops left ten people dead.",
    ],
)
def test_givers_quitters_and_isolated_forces_are_no_movement(run, sentence):
    assert run(sentence) == []


def test_an_all_caps_headline_is_parsed_in_sentence_case_with_the_bodys_names(run, make_enriched):
    body = "The Pentagon said the U.S. ships were already in the Gulf."
    assert (
        headline_case("U.S. SENDS MORE MARINES TO GULF", body) == "U.S. sends more marines to Gulf"
    )
    article = make_enriched(
        "The Ministry of Defence said on Monday that the port was calm.",
        title="BRITISH TROOPS ARRIVE IN BASRA",
    )
    (alert,) = run(article)
    assert (
        alert.sentence_index == TITLE_INDEX and alert.evidence == "BRITISH TROOPS ARRIVE IN BASRA"
    )
    # the names keep the headline's own spelling (offsets into the title)
    assert (alert.frame.action, alert.frame.actor.text, alert.frame.place.text) == (
        "arrive",
        "BRITISH",
        "BASRA",
    )


@pytest.mark.parametrize(
    "sentence",
    [
        # an armed group is a political actor too
        "Hamas withdrew its delegation from the talks.",
        "Hamas withdrew from the talks in Cairo.",
        "Hezbollah's withdrawal from the cabinet toppled the government.",
        "The Taliban moved to block the deal.",
        "Hamas advanced a new proposal.",
        "The Taliban returned to power in 2021.",
        # no armed group, no force: a company's or a court's movements
        "Apple's advance in the smartphone market continued.",
        "In its advance into new markets, the company hired 300 staff.",
        "The 9th Circuit will move the hearing to May.",
        "The 5th Avenue store deployed new software.",
        "Soldiers caught him smuggling cigarettes and alcohol across the border.",
    ],
)
def test_political_groups_companies_and_courts_do_not_move(run, sentence):
    assert run(sentence) == []
