"""Tests for the frame modules (slow: the real model).

frame.py, parties.py, modality.py and pronouns.py: actor, action, place, count, equipment,
modality.
"""

from __future__ import annotations

import pytest

from services.alerts.evaluate import TITLE_INDEX

from .conftest import CARACAS, entity

pytestmark = pytest.mark.slow


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
    (
        "The council met two days before a vanguard of 250 Danish soldiers who will be deployed on Monday.",
        "deploy",
        "plan",
    ),
    ("Soldiers who arrived in Kabul on Monday began patrols on Tuesday.", "arrive", "fact"),
    ("Government forces closed in on the rebel stronghold of Kismayo.", "deploy", "fact"),
    # armour moving by itself, as subject or as the agent of a passive
    ("Israeli tanks moved into the town of Jenin before dawn.", "deploy", "fact"),
    ("The village was occupied by Israeli tanks on Monday.", "deploy", "fact"),
    # fighters of an armed group, fleeing
    ("Hundreds of rebel fighters fled to the mountains near the border.", "withdraw", "fact"),
    (
        "Britain is providing an additional 150 soldiers to train the Iraqi army.",
        "reinforce",
        "fact",
    ),
    ("The advance of government troops toward the capital slowed.", "deploy", "fact"),
]


@pytest.mark.parametrize(
    ("sentence", "action", "modality"),
    [
        ("Russia has begun withdrawing some of its troops from Syria.", "withdraw", "fact"),
        (
            "Trump said all options were open to make Russia pull troops out of Venezuela.",
            "withdraw",
            "demand",
        ),
        ("France is ready to contribute up to 4,000 troops to the force.", "deploy", "offer"),
        ("Poland plans to reduce the number of its troops in Iraq.", "reduce", "plan"),
        ("Britain will send 500 more soldiers to Afghanistan next month.", "deploy", "plan"),
        ("Israel mobilized troops for a possible ground assault.", "mobilise", "fact"),
        (
            "The kidnappers will kill him if Tokyo does not withdraw its troops from Iraq.",
            "withdraw",
            "demand",
        ),
    ]
    + MORE_MOVEMENTS,
)
def test_frame_action_and_modality(run, sentence, action, modality):
    (alert,) = run(sentence)
    assert (alert.frame.action, alert.frame.modality) == (action, modality)


# ---------------------------------------------------------------- frames a careful reader checks


def _ents(text: str, *specs: tuple[str, str, str | None]) -> list:
    return [entity(name, text, label, country=country) for name, label, country in specs]


def test_a_possessive_is_the_actor_not_the_place(run):
    text = (
        "The servicemen were sent as part of Russia's agreements to supply weapons to Venezuela "
        "and will stay as long as needed, she said."
    )
    (alert,) = run(text, entities=_ents(text, ("Russia", "GPE", "RU"), ("Venezuela", "GPE", "VE")))
    assert (alert.frame.actor.country, alert.frame.place.country) == ("RU", "VE")


def test_from_a_place_is_the_place_left_in_a_withdrawal_and_the_subject_above_is_the_actor(run):
    text = (
        "Pompeo said that he saw no evidence that Moscow would heed Washington's requests to pull out "
        "personnel from Venezuela, which he said differed from the conflict in Syria."
    )
    ents = _ents(
        text,
        ("Moscow", "GPE", "RU"),
        ("Washington", "GPE", "US"),
        ("Venezuela", "GPE", "VE"),
        ("Syria", "GPE", "SY"),
    )
    (alert,) = run(text, entities=ents)
    frame = alert.frame
    assert (frame.action, frame.modality) == ("withdraw", "demand")
    assert (frame.actor.text, frame.actor.country, frame.place.country) == ("Moscow", "RU", "VE")


def test_from_a_country_is_where_a_deployment_comes_from(run):
    text = "Hundreds of troops from Britain arrived in Basra on Monday."
    (alert,) = run(text, entities=_ents(text, ("Britain", "GPE", "GB"), ("Basra", "GPE", "IQ")))
    assert (alert.frame.actor.country, alert.frame.place.country) == ("GB", "IQ")


def test_a_country_as_subject_or_object_is_not_the_place(run):
    text = (
        "Russia warned Washington to stop interfering in the stand-off between Venezuela's government "
        "and the opposition, and defended its decision to send personnel to the country."
    )
    ents = _ents(
        text, ("Russia", "GPE", "RU"), ("Washington", "GPE", "US"), ("Venezuela", "GPE", "VE")
    )
    (alert,) = run(text, entities=ents)
    assert alert.frame.actor.country == "RU" and alert.frame.place is None  # "the country": no name


def test_the_personnel_entity_country_is_the_actor(run):
    text = "And while the Kremlin insists it has a right to send Russian troops to Venezuela, the US is unhappy."
    ents = _ents(
        text,
        ("Kremlin", "ORG", None),
        ("Russian", "NORP", "RU"),
        ("Venezuela", "GPE", "VE"),
        ("US", "GPE", "US"),
    ) + [entity("Russian troops", text, "PERSONNEL", country="RU")]
    (alert,) = run(text, entities=ents)
    assert (alert.frame.actor.text, alert.frame.actor.country) == ("Russian", "RU")
    assert alert.frame.place.country == "VE"


def test_an_owner_of_something_else_is_the_fallback_actor_and_a_possessive_is_not_the_place(run):
    text = (
        "Between Russia's worldwide aims and its economic interests in Venezuela, it is no wonder it sent "
        "a few troops to the country."
    )
    (alert,) = run(text, entities=_ents(text, ("Russia", "GPE", "RU"), ("Venezuela", "GPE", "VE")))
    assert (alert.frame.actor.country, alert.frame.place.country) == ("RU", "VE")


def test_an_infinitive_completing_a_call_is_a_demand(run):
    text = (
        "Russia said they posed no threat, brushing aside a call from U.S. President Donald Trump to remove "
        "all military personnel from the country."
    )
    (alert,) = run(text)
    assert (alert.frame.action, alert.frame.modality) == ("withdraw", "demand")


def test_a_headline_place_after_its_preposition_and_the_possessor_as_actor(run, make_enriched):
    body = "Russian soldiers arrived in Caracas on Saturday, Moscow said."
    article = make_enriched(
        body,
        title="Arrival of up to 100 soldiers in Caracas signals Moscow's support for Maduro",
        entities=_ents(body, ("Caracas", "GPE", "VE"), ("Moscow", "GPE", "RU")),
    )
    (title_alert, *_) = run(article)
    frame = title_alert.frame
    assert title_alert.sentence_index == TITLE_INDEX
    assert (frame.action, frame.count, frame.place.country, frame.actor.country) == (
        "arrive",
        100,
        "VE",
        "RU",
    )


@pytest.mark.parametrize(
    ("sentence", "action", "modality"),
    [
        (
            "After its parliament called on US troops to leave the country, Trump threatened sanctions.",
            "withdraw",
            "demand",
        ),
        (
            "Russia has issued an ultimatum to Ukrainian forces in the Crimea to clear out by Tuesday.",
            "withdraw",
            "demand",
        ),
        ("Peacekeepers fired on troops trying to enter Congo from Rwanda.", "deploy", "fact"),
        ("President Cardoso threatened to call in troops against the strikers.", "deploy", "plan"),
        ("The government called up 5,000 reservists on Friday.", "mobilise", "fact"),
        # the nearest modal word decides: "prepare" (plan) under "wants" (demand); a reader says demand
        ("Kabila wants the peacekeepers to prepare for withdrawal.", "withdraw", "plan"),
    ],
)
def test_object_control_participles_phrasal_verbs_and_movement_nouns(
    run, sentence, action, modality
):
    (alert,) = run(sentence)
    assert (alert.frame.action, alert.frame.modality) == (action, modality)


def test_a_state_withdrawing_with_a_force_named_or_a_people_on_the_movement_noun(
    run, make_enriched
):
    text = (
        "The Netherlands and Portugal, which have troops operating in Iraq, have announced their "
        "imminent withdrawal."
    )
    ents = _ents(
        text, ("The Netherlands", "GPE", "NL"), ("Portugal", "GPE", "PT"), ("Iraq", "GPE", "IQ")
    )
    (alert,) = run(text, entities=ents)
    assert alert.frame.action == "withdraw"
    article = make_enriched(
        "Palestinians retrieved belongings from the rubble.",
        title="Gaza clean-up operation after Israeli withdrawal",
    )
    (title_alert,) = run(article)
    assert title_alert.frame.action == "withdraw" and title_alert.frame.actor.text == "Israeli"


def test_a_force_expected_at_a_place_is_an_arrival(run):
    text = "About 200 Dutch marines are expected in Kabul on Sunday."
    (alert,) = run(text, entities=_ents(text, ("Dutch", "NORP", "NL"), ("Kabul", "GPE", "AF")))
    assert (alert.frame.action, alert.frame.place.country) == ("arrive", "AF")
    # expected without a place is a forecast, not an arrival
    assert run("About 200 Dutch marines are expected to be wounded.") == []


def test_they_stands_for_a_force_named_before_it_in_the_sentence_or_as_the_subject_before(run):
    (alert,) = run(
        "A man was killed in a firefight with Dutch marines as they moved into the village."
    )
    assert (alert.frame.trigger, alert.frame.force) == ("moved", "they")
    alerts = run(
        "Dutch marines entered the town on Monday. They moved on to the airport in the evening."
    )
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


def test_a_state_invading_a_named_place_is_a_movement(run):
    text = "Historians still debate Iraq's invasion of Kuwait."
    (alert,) = run(text, entities=_ents(text, ("Iraq", "GPE", "IQ"), ("Kuwait", "GPE", "KW")))
    assert (alert.frame.action, alert.frame.actor.country) == ("deploy", "IQ")
    text = (
        "Since last year's U.S. invasion, prices have risen."  # no place: history, not a movement
    )
    assert run(text, entities=_ents(text, ("U.S.", "GPE", "US"))) == []


def test_a_unit_named_in_the_movers_phrase_is_the_force(run):
    text = "Transport planes from the Texas Air National Guard arrived in Kuwait on Monday."
    (alert,) = run(
        text,
        entities=_ents(
            text, ("Texas Air National Guard", "MILITARY_UNIT", "US"), ("Kuwait", "GPE", "KW")
        ),
    )
    assert (alert.frame.action, alert.frame.place.country) == ("arrive", "KW")


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
        (
            "In their march toward Raqqah, the SDF has already liberated dozens of villages.",
            "deploy",
        ),
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
    assert (alert.frame.action, alert.frame.actor.text, alert.frame.place.country) == (
        "withdraw",
        "ISIL",
        "SY",
    )
    text = "The deployment of the 82nd Airborne Division was announced on Friday."
    (alert,) = run(text, entities=_ents(text, ("82nd Airborne Division", "MILITARY_UNIT", "US")))
    assert alert.frame.action == "deploy"
    text = "Wagner Group's withdrawal from Bakhmut began on Thursday."
    (alert,) = run(
        text,
        entities=_ents(text, ("Wagner Group", "MILITARY_UNIT", None), ("Bakhmut", "GPE", "UA")),
    )
    assert (alert.frame.action, alert.frame.place.country) == ("withdraw", "UA")


# Issue 20: the actor is the force that moves, never who welcomed or announced it; a departure
# towards somewhere moves into it.


def test_a_departure_for_a_place_is_a_movement_into_it_by_the_forces_own_country(run):
    text = "An elite contingent of 50 Nigerian soldiers left Nigeria on Thursday for Darfur."
    ents = [
        entity("50 Nigerian soldiers", text, "PERSONNEL", country="NG", count=50),
        entity("Nigeria", text, "GPE", country="NG"),
        entity("Darfur", text, "GPE", country="SD"),
    ]
    (alert,) = run(text, entities=ents)
    frame = alert.frame
    assert frame.action == "deploy"
    assert (frame.actor.country, frame.place.text, frame.place.country) == ("NG", "Darfur", "SD")


def test_leaving_a_base_heading_towards_a_city_moves_into_that_city(run):
    text = (
        "Nearly 800 British forces left their base in southern Iraq on Wednesday, heading north "
        "toward Baghdad."
    )
    ents = _ents(text, ("British", "NORP", "GB"), ("Iraq", "GPE", "IQ"), ("Baghdad", "GPE", "IQ"))
    (alert,) = run(text, entities=ents)
    assert (alert.frame.action, alert.frame.place.text) == ("deploy", "Baghdad")
    assert alert.frame.actor.country == "GB"


def test_who_welcomes_a_deployment_is_not_its_actor_the_alliance_named_on_the_troops_is(run):
    text = "The United States welcomed the decision and urged the speedy deployment of AU troops to Darfur."
    ents = [
        entity("The United States", text, "GPE", country="US"),
        entity("AU", text, "ORG", canonical="African Union"),
        entity("Darfur", text, "GPE", country="SD"),
    ]
    (alert,) = run(text, entities=ents)
    assert alert.frame.actor.text == "African Union" and alert.frame.actor.country is None


def test_a_ministry_saying_soldiers_move_is_not_the_actor(run):
    text = "The Ministry of Defence said today that soldiers from the regiment were leaving their base."
    ents = [entity("The Ministry of Defence", text, "ORG")]
    (alert,) = run(text, entities=ents)
    assert alert.frame.actor is None
    # leaving one's own base is a move, not a withdrawal from a place
    assert alert.frame.action == "deploy" and alert.frame.place is None


def test_a_speaker_that_says_it_will_send_its_forces_is_the_actor(run):
    text = "The African Union said it would increase its forces in the region."
    ents = [entity("The African Union", text, "ORG", canonical="African Union")]
    (alert,) = run(text, entities=ents)
    assert alert.frame.actor.text == "African Union"


def test_a_named_unit_of_one_country_names_the_actor(run):
    text = "Black Watch troops move near Baghdad."
    ents = [
        entity("Black Watch", text, "MILITARY_UNIT", country="GB", canonical="Black Watch"),
        entity("Baghdad", text, "GPE", country="IQ"),
    ]
    (alert,) = run(text, entities=ents)
    assert (alert.frame.actor.country, alert.frame.place.country) == ("GB", "IQ")


def test_a_unit_of_no_one_country_takes_the_people_naming_it(run):
    text = "More Australian SAS troops have arrived in Afghanistan."
    # the SAS: the British, Australian and New Zealand regiments alike
    ents = _ents(
        text, ("Australian", "NORP", "AU"), ("SAS", "ORG", None), ("Afghanistan", "GPE", "AF")
    )
    (alert,) = run(text, entities=ents)
    assert (alert.frame.actor.text, alert.frame.actor.country) == ("Australian", "AU")


def test_where_the_news_was_heard_is_not_where_the_force_went(run):
    text = "The Iranian news agency IRNA, received in London, said Iranian troops advanced."
    ents = _ents(text, ("Iranian", "NORP", "IR"), ("IRNA", "ORG", None), ("London", "GPE", "GB"))
    (alert,) = run(text, entities=ents)
    assert alert.frame.actor.country == "IR"
    assert alert.frame.place is None


@pytest.mark.parametrize(
    "owner_span",
    [(), (("Iraq troops", "PERSONNEL", "IQ"),)],  # the country alone, or inside a personnel span
)
def test_a_country_named_before_the_force_another_moves_is_where_it_serves(run, owner_span):
    text = "Poland to cut Iraq troops by 2006"
    ents = _ents(text, ("Poland", "GPE", "PL"), ("Iraq", "GPE", "IQ"), *owner_span)
    (alert,) = run(text, entities=ents)
    assert alert.frame.actor.country == "PL"
    # with no other mover, the country before the force is its owner
    text = "Iraq troops pulled out of Basra."
    (alert,) = run(text, entities=_ents(text, ("Iraq", "GPE", "IQ"), *owner_span))
    assert alert.frame.actor.country == "IQ"


def test_a_movement_named_by_a_noun_is_moved_by_the_people_naming_it(run):
    # the sentence is about the Palestinians; the withdrawal is Israel's
    text = "Egypt will help the Palestinians prepare for an Israeli withdrawal from Gaza."
    ents = _ents(
        text,
        ("Egypt", "GPE", "EG"),
        ("Palestinians", "NORP", "PS"),
        ("Israeli", "NORP", "IL"),
        ("Gaza", "GPE", "PS"),
    )
    (alert,) = run(text, entities=ents)
    assert alert.frame.trigger == "withdrawal"
    assert (alert.frame.actor.text, alert.frame.actor.country) == ("Israeli", "IL")
    assert alert.frame.place.text == "Gaza"


def test_whoever_acts_on_a_moving_force_is_not_its_mover(run):
    # the peacekeepers fired on the troops; the troops, from Rwanda, were the ones entering
    text = (
        "United Nations peacekeepers have fired on troops trying to enter the Democratic "
        "Republic of Congo from Rwanda."
    )
    ents = _ents(
        text,
        ("United Nations", "ORG", None),
        ("the Democratic Republic of Congo", "GPE", "CD"),
        ("Rwanda", "GPE", "RW"),
    )
    (alert,) = run(text, entities=ents)
    assert alert.frame.trigger == "enter"
    assert alert.frame.actor is not None and alert.frame.actor.country == "RW"
    assert alert.frame.place.country == "CD"
