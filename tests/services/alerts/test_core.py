"""Tests for services/alerts/core.py and frame.py with the real parsing pipeline (slow): the troop-movement rule, frames, denials, headlines, ids."""

from __future__ import annotations

import pytest

from services.alerts import core
from services.entities.extract import extract_entities_batch
from services.entities.pipeline import load_nlp
from shared.schemas.articles import UniqueArticle
from shared.text import headline_case

from .conftest import FIRED_AT, entity, split_sentences

pytestmark = pytest.mark.slow

CARACAS = ("Tensions between the U.S. and Russia escalated over the weekend when a Russian Il-62 passenger jet "
           "and an An-124 military cargo plane carrying troops and equipment arrived at the international "
           "airport outside Caracas on Saturday.")
DENIAL = ("But Zakharova, in her statement Saturday, said Russia had made it clear it was not sending a "
          "military contingent to Venezuela.")


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


def test_the_caracas_arrival_carries_actor_place_equipment_and_modality(run):
    entities = [
        entity("U.S.", CARACAS, "GPE", country="US"),
        entity("Russia", CARACAS, "GPE", country="RU"),
        entity("Russian", CARACAS, "NORP", country="RU"),
        entity("Il-62", CARACAS, "AIRCRAFT", canonical="Il-62", category="passenger aircraft"),
        entity("An-124", CARACAS, "AIRCRAFT", canonical="An-124", category="cargo aircraft"),
        entity("Caracas", CARACAS, "GPE", country="VE", place_kind="city"),
    ]
    (alert,) = run(CARACAS, entities=entities)
    frame = alert.frame
    assert frame is not None and alert.frames[0] == frame
    assert (frame.action, frame.modality) == ("arrive", "fact")
    assert frame.actor is not None and frame.actor.country == "RU"
    assert frame.place is not None and (frame.place.text, frame.place.country) == ("Caracas", "VE")
    assert frame.equipment == ["Il-62", "An-124"]
    assert frame.trigger == "arrived" and frame.force == "troops"


def test_the_count_comes_from_the_personnel_entity_or_the_number_on_the_force(run):
    text = "Two Russian air force planes landed outside Caracas on Saturday carrying nearly 100 Russian troops."
    personnel = entity("nearly 100 Russian troops", text, "PERSONNEL", count=100)
    (alert,) = run(text, entities=[personnel, entity("Caracas", text, "GPE", country="VE")])
    assert alert.frame.count == 100 and alert.frame.place.country == "VE"
    (plain,) = run("Britain is deploying 300 troops to Mali.")
    assert plain.frame.count == 300 and plain.frame.action == "deploy"


# Added with the third tuning round: relative clauses on the force, armour, fighters, more movement words.
MORE_MOVEMENTS = [
    # a future relative clause on the force, and an active one with the force as its subject
    ("The council met two days before a vanguard of 250 Danish soldiers who will be deployed on Monday.",
     "deploy", "plan"),
    ("Soldiers who arrived in Kabul on Monday began patrols on Tuesday.", "arrive", "fact"),
    ("Government forces closed in on the rebel stronghold of Kismayo.", "deploy", "fact"),
    # armour moving by itself, as subject or as the agent of a passive
    ("Israeli tanks moved into the town of Jenin before dawn.", "deploy", "fact"),
    ("The village was occupied by Israeli tanks on Monday.", "deploy", "fact"),
    # fighters of an armed group, fleeing
    ("Hundreds of rebel fighters fled to the mountains near the border.", "withdraw", "fact"),
    ("Britain is providing an additional 150 soldiers to train the Iraqi army.", "reinforce", "fact"),
    ("The advance of government troops toward the capital slowed.", "deploy", "fact"),
]


@pytest.mark.parametrize(
    ("sentence", "action", "modality"),
    [
        ("Russia has begun withdrawing some of its troops from Syria.", "withdraw", "fact"),
        ("Trump said all options were open to make Russia pull troops out of Venezuela.", "withdraw", "demand"),
        ("France is ready to contribute up to 4,000 troops to the force.", "deploy", "offer"),
        ("Poland plans to reduce the number of its troops in Iraq.", "reduce", "plan"),
        ("Britain will send 500 more soldiers to Afghanistan next month.", "deploy", "plan"),
        ("Israel mobilized troops for a possible ground assault.", "mobilise", "fact"),
        ("The kidnappers will kill him if Tokyo does not withdraw its troops from Iraq.", "withdraw", "demand"),
    ] + MORE_MOVEMENTS,
)
def test_frame_action_and_modality(run, sentence, action, modality):
    (alert,) = run(sentence)
    assert (alert.frame.action, alert.frame.modality) == (action, modality)


def test_the_title_is_evaluated_as_sentence_minus_one(run, make_enriched):
    body = "Officials in Moscow said the personnel were there under a cooperation agreement."
    article = make_enriched(body, title="Venezuela Says Russian Troops Land to Service Military Equipment")
    alerts = run(article)
    assert [a.sentence_index for a in alerts] == [core.TITLE_INDEX]
    assert alerts[0].evidence == article.title and alerts[0].frame.action == "arrive"
    assert all(e.sentence == core.TITLE_INDEX for e in alerts[0].entities)
    assert alerts[0].alert_id == core.alert_id("troop_movement", "a1", -1)


def test_a_denied_headline_raises_nothing(run, make_enriched):
    assert run(make_enriched("Markets rose.", title="Russia denies sending troops to Venezuela")) == []


def test_seen_sentences_are_skipped_and_ids_are_stable_on_replay(run, make_enriched):
    text = "Russia sent troops to Venezuela. Russia sent more troops to Venezuela."
    assert [a.sentence_index for a in run(text, seen=[0])] == [1]
    first = run(make_enriched(text))
    again = run(make_enriched(text))
    assert [a.alert_id for a in first] == [a.alert_id for a in again]
    assert [a.alert_id for a in first] == [core.alert_id("troop_movement", "a1", i) for i in (0, 1)]


def test_only_candidate_sentences_are_parsed(ruleset, parse, make_enriched):
    article = make_enriched("Markets rose on Friday. Oil fell. Russia sent troops to Venezuela.")
    result = core.evaluate_counted(article, ruleset, parse, fired_at=FIRED_AT)
    assert (result.sentences, result.parsed, len(result.alerts)) == (3, 1, 1)


def test_entity_country_and_article_conditions(alerts_nlp, parse, make_enriched):
    rules = core.parse_rules({"rules": [{
        "id": "russian_ships",
        "patterns": {"ship": [[{"LEMMA": "warship"}]], "ru": [[{"_": {"country": "RU"}}]]},
        "conditions": [{"tokens": "ship"}, {"tokens": "ru"}, {"entity": {"labels": ["GPE"], "countries": ["RU"]}},
                       {"article": {"language": ["en"], "source": ["reuters.com"]}}],
    }]}, vocab=alerts_nlp.vocab)
    text = "Russia sent two warships to the Baltic."
    ents = [entity("Russia", text, "GPE", country="RU")]

    def fired(**meta) -> bool:
        return bool(core.evaluate(make_enriched(text, entities=ents, **meta), rules, parse, fired_at=FIRED_AT))

    assert fired(language="en", source="reuters.com")
    assert not fired(language="de", source="reuters.com")
    assert not fired(language="en", source="example.com")
    assert not core.evaluate(make_enriched(text, language="en", source="reuters.com"), rules, parse,
                             fired_at=FIRED_AT)  # no country on the entities: no match


def test_the_seeds_alert_on_the_caracas_arrival_and_not_on_the_denial(run, seed_texts):
    nlp = load_nlp("en_core_web_sm")
    alerts = []
    for stem, text in seed_texts.items():
        unique = UniqueArticle(article_id=stem, text=text, ingested_at=FIRED_AT, sentences=split_sentences(text))
        alerts += run(extract_entities_batch([unique], nlp)[0])
    evidence = [a.evidence for a in alerts]
    assert not any("not sending a military contingent" in e for e in evidence)
    (caracas,) = [a for a in alerts if "An-124 military cargo plane carrying troops" in a.evidence]
    assert caracas.frame.action == "arrive" and caracas.frame.place.text == "Caracas"
    assert {"Il-62", "An-124"} <= set(caracas.frame.equipment)
    assert any("Russia had sent “servicemen” to Venezuela" in e for e in evidence)


# ---------------------------------------------------------------- frames a careful reader checks

def _ents(text: str, *specs: tuple[str, str, str | None]) -> list:
    return [entity(name, text, label, country=country) for name, label, country in specs]


def test_a_possessive_is_the_actor_not_the_place(run):
    text = ("The servicemen were sent as part of Russia's agreements to supply weapons to Venezuela "
            "and will stay as long as needed, she said.")
    (alert,) = run(text, entities=_ents(text, ("Russia", "GPE", "RU"), ("Venezuela", "GPE", "VE")))
    assert (alert.frame.actor.country, alert.frame.place.country) == ("RU", "VE")


def test_from_a_place_is_the_place_left_in_a_withdrawal_and_the_subject_above_is_the_actor(run):
    text = ("Pompeo said that he saw no evidence that Moscow would heed Washington's requests to pull out "
            "personnel from Venezuela, which he said differed from the conflict in Syria.")
    ents = _ents(text, ("Moscow", "GPE", "RU"), ("Washington", "GPE", "US"), ("Venezuela", "GPE", "VE"),
                 ("Syria", "GPE", "SY"))
    (alert,) = run(text, entities=ents)
    frame = alert.frame
    assert (frame.action, frame.modality) == ("withdraw", "demand")
    assert (frame.actor.text, frame.actor.country, frame.place.country) == ("Moscow", "RU", "VE")


def test_from_a_country_is_where_a_deployment_comes_from(run):
    text = "Hundreds of troops from Britain arrived in Basra on Monday."
    (alert,) = run(text, entities=_ents(text, ("Britain", "GPE", "GB"), ("Basra", "GPE", "IQ")))
    assert (alert.frame.actor.country, alert.frame.place.country) == ("GB", "IQ")


def test_a_country_as_subject_or_object_is_not_the_place(run):
    text = ("Russia warned Washington to stop interfering in the stand-off between Venezuela's government "
            "and the opposition, and defended its decision to send personnel to the country.")
    ents = _ents(text, ("Russia", "GPE", "RU"), ("Washington", "GPE", "US"), ("Venezuela", "GPE", "VE"))
    (alert,) = run(text, entities=ents)
    assert alert.frame.actor.country == "RU" and alert.frame.place is None  # "the country": no name


def test_the_personnel_entity_country_is_the_actor(run):
    text = "And while the Kremlin insists it has a right to send Russian troops to Venezuela, the US is unhappy."
    ents = _ents(text, ("Kremlin", "ORG", None), ("Russian", "NORP", "RU"), ("Venezuela", "GPE", "VE"),
                 ("US", "GPE", "US")) + [entity("Russian troops", text, "PERSONNEL", country="RU")]
    (alert,) = run(text, entities=ents)
    assert (alert.frame.actor.text, alert.frame.actor.country) == ("Russian", "RU")
    assert alert.frame.place.country == "VE"


def test_an_owner_of_something_else_is_the_fallback_actor_and_a_possessive_is_not_the_place(run):
    text = ("Between Russia's worldwide aims and its economic interests in Venezuela, it is no wonder it sent "
            "a few troops to the country.")
    (alert,) = run(text, entities=_ents(text, ("Russia", "GPE", "RU"), ("Venezuela", "GPE", "VE")))
    assert (alert.frame.actor.country, alert.frame.place.country) == ("RU", "VE")


def test_an_infinitive_completing_a_call_is_a_demand(run):
    text = ("Russia said they posed no threat, brushing aside a call from U.S. President Donald Trump to remove "
            "all military personnel from the country.")
    (alert,) = run(text)
    assert (alert.frame.action, alert.frame.modality) == ("withdraw", "demand")


def test_a_headline_place_after_its_preposition_and_the_possessor_as_actor(run, make_enriched):
    body = "Russian soldiers arrived in Caracas on Saturday, Moscow said."
    article = make_enriched(body, title="Arrival of up to 100 soldiers in Caracas signals Moscow's support for Maduro",
                            entities=_ents(body, ("Caracas", "GPE", "VE"), ("Moscow", "GPE", "RU")))
    (title_alert, *_) = run(article)
    frame = title_alert.frame
    assert title_alert.sentence_index == core.TITLE_INDEX
    assert (frame.action, frame.count, frame.place.country, frame.actor.country) == ("arrive", 100, "VE", "RU")


def test_a_headline_takes_the_entities_stages_title_entities_and_their_countries(run, make_enriched):
    # The body never names Poland or Iraq: only the entities stage's reading of the title gives
    # their countries (AG News World items are a headline and one sentence).
    title = "Poland to Reduce Number of Troops in Iraq"
    article = make_enriched("The defence minister spoke on Friday.", title=title,
                            title_entities=[entity("Poland", title, "GPE", sentence=-1, country="PL"),
                                            entity("Iraq", title, "GPE", sentence=-1, country="IQ")])
    (title_alert,) = run(article)
    frame = title_alert.frame
    assert (frame.action, frame.actor.country, frame.place.country) == ("reduce", "PL", "IQ")
    assert [(e.text, e.country) for e in title_alert.entities] == [("Poland", "PL"), ("Iraq", "IQ")]
    # A message from before titles were read: the parse's NER alone, no countries to give.
    (old,) = run(make_enriched("The defence minister spoke on Friday.", title=title))
    assert old.frame.actor.country is None and old.frame.place.country is None


@pytest.mark.parametrize(
    ("sentence", "action", "modality"),
    [
        ("After its parliament called on US troops to leave the country, Trump threatened sanctions.", "withdraw", "demand"),
        ("Russia has issued an ultimatum to Ukrainian forces in the Crimea to clear out by Tuesday.", "withdraw", "demand"),
        ("Peacekeepers fired on troops trying to enter Congo from Rwanda.", "deploy", "fact"),
        ("President Cardoso threatened to call in troops against the strikers.", "deploy", "plan"),
        ("The government called up 5,000 reservists on Friday.", "mobilise", "fact"),
        # the nearest modal word decides: "prepare" (plan) under "wants" (demand); a reader says demand
        ("Kabila wants the peacekeepers to prepare for withdrawal.", "withdraw", "plan"),
    ],
)
def test_object_control_participles_phrasal_verbs_and_movement_nouns(run, sentence, action, modality):
    (alert,) = run(sentence)
    assert (alert.frame.action, alert.frame.modality) == (action, modality)


def test_a_state_withdrawing_with_a_force_named_or_a_people_on_the_movement_noun(run, make_enriched):
    text = ("The Netherlands and Portugal, which have troops operating in Iraq, have announced their "
            "imminent withdrawal.")
    ents = _ents(text, ("The Netherlands", "GPE", "NL"), ("Portugal", "GPE", "PT"), ("Iraq", "GPE", "IQ"))
    (alert,) = run(text, entities=ents)
    assert alert.frame.action == "withdraw"
    article = make_enriched("Palestinians retrieved belongings from the rubble.",
                            title="Gaza clean-up operation after Israeli withdrawal")
    (title_alert,) = run(article)
    assert title_alert.frame.action == "withdraw" and title_alert.frame.actor.text == "Israeli"


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




def test_a_force_expected_at_a_place_is_an_arrival(run):
    text = "About 200 Dutch marines are expected in Kabul on Sunday."
    (alert,) = run(text, entities=_ents(text, ("Dutch", "NORP", "NL"), ("Kabul", "GPE", "AF")))
    assert (alert.frame.action, alert.frame.place.country) == ("arrive", "AF")
    # expected without a place is a forecast, not an arrival
    assert run("About 200 Dutch marines are expected to be wounded.") == []


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


def test_they_stands_for_a_force_named_before_it_in_the_sentence_or_as_the_subject_before(run):
    (alert,) = run("A man was killed in a firefight with Dutch marines as they moved into the village.")
    assert (alert.frame.trigger, alert.frame.force) == ("moved", "they")
    alerts = run("Dutch marines entered the town on Monday. They moved on to the airport in the evening.")
    assert [a.sentence_index for a in alerts] == [0, 1]
    assert (alerts[1].frame.action, alerts[1].frame.force) == ("deploy", "They")


@pytest.mark.parametrize(
    "text",
    [
        # the subject before the pronoun is another plural noun: recency and the subject disagree
        "Soldiers searched the travellers before they crossed the bridge.",
        "The villagers welcomed the peacekeepers as they arrived.",
        # two plural subjects in the sentence before: no single antecedent
        "Villagers said the soldiers were tired. They moved on to the next village at dawn.",
        # the sentence before names no force
        "Protesters gathered in the square. They moved on to the parliament in the evening.",
    ],
)
def test_an_ambiguous_or_unforced_they_moves_nothing(run, text):
    assert run(text) == []


def test_a_sentence_with_they_is_parsed_only_after_a_candidate_sentence(ruleset, parse, make_enriched):
    article = make_enriched("Markets rose. They moved up. Dutch marines entered the town. They moved on. "
                            "They moved again.")
    result = core.evaluate_counted(article, ruleset, parse, fired_at=FIRED_AT)
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


def test_a_state_invading_a_named_place_is_a_movement(run):
    text = "Historians still debate Iraq's invasion of Kuwait."
    (alert,) = run(text, entities=_ents(text, ("Iraq", "GPE", "IQ"), ("Kuwait", "GPE", "KW")))
    assert (alert.frame.action, alert.frame.actor.country) == ("deploy", "IQ")
    text = "Since last year's U.S. invasion, prices have risen."  # no place: history, not a movement
    assert run(text, entities=_ents(text, ("U.S.", "GPE", "US"))) == []


def test_a_unit_named_in_the_movers_phrase_is_the_force(run):
    text = "Transport planes from the Texas Air National Guard arrived in Kuwait on Monday."
    (alert,) = run(text, entities=_ents(text, ("Texas Air National Guard", "MILITARY_UNIT", "US"),
                                        ("Kuwait", "GPE", "KW")))
    assert (alert.frame.action, alert.frame.place.country) == ("arrive", "KW")


def test_a_force_right_before_an_intransitive_movement_verb_matches_without_its_subject(ruleset, alerts_nlp):
    (rule,) = [r for r in ruleset.rules if r.id == "troop_movement"]
    doc = alerts_nlp("He said the bulk of the troops will arrive next week.")
    names = {alerts_nlp.vocab.strings[m] for m, _, _ in rule.matcher(doc)}
    assert "force_then_move" in names
    doc = alerts_nlp("Clashes between rebels and troops left ten people dead.")  # leave takes an object
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
    assert headline_case("U.S. SENDS MORE MARINES TO GULF", body) == "U.S. sends more marines to Gulf"
    article = make_enriched("The Ministry of Defence said on Monday that the port was calm.",
                            title="BRITISH TROOPS ARRIVE IN BASRA")
    (alert,) = run(article)
    assert alert.sentence_index == core.TITLE_INDEX and alert.evidence == "BRITISH TROOPS ARRIVE IN BASRA"
    # the names keep the headline's own spelling (offsets into the title)
    assert (alert.frame.action, alert.frame.actor.text, alert.frame.place.text) == ("arrive", "BRITISH", "BASRA")


@pytest.mark.parametrize(
    ("sentence", "action"),
    [
        # an armed group by name: a verb that means nothing but a movement, or one going somewhere
        ("Hezbollah has massed along the border.", "mobilise"),
        ("The Taliban advanced on Kunduz overnight.", "deploy"),
        ("The SDF moved into the eastern districts of Raqqa.", "deploy"),
        ("The Taliban fled the city after the airstrikes.", "withdraw"),
        # ... or owning a movement noun
        ("The Peshmerga advance stalled near Mosul.", "deploy"),
        ("Gen. Townsend provided the following statement on the SDF advance:", "deploy"),
        # a movement noun owned by "their"/"its" in a phrase of the clause whose subject moves
        ("In their march toward Raqqah, the SDF has already liberated dozens of villages.", "deploy"),
        ("During their retreat, the militants burned several oil wells.", "withdraw"),
        ("In its advance on Mosul, the army retook dozens of villages.", "deploy"),
        # a gerund the parse takes for a modifier of its object, the force last of the list
        ("He assisted in smuggling weapons, money and fighters across the border.", "deploy"),
        # an ordinal before a proper name: a numbered formation
        ("While the deployment may be shorter, the 507th ARW will be deploying again.", "deploy"),
        ("Israeli troops reoccupied the town of Jenin.", "deploy"),
        ("The town has been partly reoccupied by Israeli tanks.", "deploy"),
    ],
)
def test_armed_groups_numbered_units_own_movements_and_gerund_objects_move(run, sentence, action):
    (alert,) = run(sentence)
    assert alert.frame.action == action


def test_an_armed_group_leaving_a_named_place_and_a_unit_owning_a_movement_noun(run):
    text = "ISIL withdrew from Raqqa on Sunday."
    (alert,) = run(text, entities=_ents(text, ("ISIL", "ORG", None), ("Raqqa", "GPE", "SY")))
    assert (alert.frame.action, alert.frame.actor.text, alert.frame.place.country) == ("withdraw", "ISIL", "SY")
    text = "The deployment of the 82nd Airborne Division was announced on Friday."
    (alert,) = run(text, entities=_ents(text, ("82nd Airborne Division", "MILITARY_UNIT", "US")))
    assert alert.frame.action == "deploy"
    text = "Wagner Group's withdrawal from Bakhmut began on Thursday."
    (alert,) = run(text, entities=_ents(text, ("Wagner Group", "MILITARY_UNIT", None), ("Bakhmut", "GPE", "UA")))
    assert (alert.frame.action, alert.frame.place.country) == ("withdraw", "UA")


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
