"""Tests for the generic military vocabulary (vocabulary.yaml) and personnel mentions (personnel.py)."""

from __future__ import annotations

import pytest

from services.entities.extract import extract_entities_batch


def labelled(enriched, *labels):
    return [(e.text, e.label, e.category, e.count) for e in enriched.entities if e.label in labels]


DOMAIN = ("AIRCRAFT", "WEAPON", "VESSEL", "VEHICLE", "MILITARY_UNIT")


@pytest.mark.parametrize(
    ("text", "label", "category"),
    [
        ("fighter jets", "AIRCRAFT", "fighter aircraft"),
        ("Fighter Jets", "AIRCRAFT", "fighter aircraft"),
        ("warplanes", "AIRCRAFT", "fighter aircraft"),
        ("cargo plane", "AIRCRAFT", "transport aircraft"),
        ("drones", "AIRCRAFT", "drone"),
        ("UAVs", "AIRCRAFT", "drone"),
        ("tanks", "VEHICLE", "tank"),
        ("T-72s", "VEHICLE", "tank"),  # a named tank: the gazetteer gives label and category
        ("armoured vehicles", "VEHICLE", "armoured vehicle"),
        ("armored personnel carriers", "VEHICLE", "armoured vehicle"),
        ("artillery", "WEAPON", "artillery"),
        ("IEDs", "WEAPON", "improvised explosive device"),
        ("barrel bombs", "WEAPON", "bomb"),
        ("chemical weapons", "WEAPON", "chemical weapon"),
        ("S-300", "WEAPON", "air defence system"),
        ("warships", "VESSEL", "warship"),
        ("frigates", "VESSEL", "frigate"),
        ("2nd Battalion", "MILITARY_UNIT", "battalion"),
        ("3rd Infantry Brigade", "MILITARY_UNIT", "brigade"),
        ("82nd Airborne Division", "MILITARY_UNIT", "division"),
        # an abbreviated kind after the ordinal, as military releases write them
        ("507th ARW", "MILITARY_UNIT", "wing"),
        ("4th ID", "MILITARY_UNIT", "division"),
        ("1st Bn", "MILITARY_UNIT", "battalion"),
        ("suicide bombers", "WEAPON", "bomb"),  # re3d's Weapon, not a bomber aircraft
        ("guns", "WEAPON", "small arms"),
        ("military hardware", "WEAPON", "military hardware"),
    ],
)
def test_generic_and_named_military_nouns_get_label_and_category(
    blank_nlp, make_article, text, label, category
):
    enriched = extract_entities_batch(
        [make_article(f"Officials said the {text} were seen.")], blank_nlp
    )[0]
    assert labelled(enriched, *DOMAIN) == [(text, label, category, None)]


@pytest.mark.parametrize(
    "text",
    [
        "Hundreds of IS fighters fled the town.",  # fighters: militants, not aircraft
        "The firm runs a Counter-IED training course.",  # after a hyphen: a modifier
        "All aircraft returned to base safely.",  # bare "aircraft" left out (re3d tuning half)
        "The Paris-based think tank said so.",  # not_military phrases win over the noun inside
        "A shell company bought the jet fuel supplier.",
        "Shell raised its dividend.",  # "shell" only in lower case
        "The film starred Sam Neill.",  # acronyms only in capitals ("SAM")
        "The passenger jet landed.",
        "Vehicles queued at the border.",  # vehicles without an armed owner
        "The 2nd ad ran on Sunday.",  # an abbreviated unit kind only as written
    ],
)
def test_words_that_are_not_weapons_here_are_left_alone(blank_nlp, make_article, text):
    assert labelled(extract_entities_batch([make_article(text)], blank_nlp)[0], *DOMAIN) == []


def test_attack_bomber_fighter_list_is_one_aircraft_span(blank_nlp, make_article):
    text = "Attack, bomber, fighter and remotely piloted aircraft conducted 12 strikes."
    found = labelled(extract_entities_batch([make_article(text)], blank_nlp)[0], *DOMAIN)
    assert found == [
        ("Attack, bomber, fighter and remotely piloted aircraft", "AIRCRAFT", "aircraft", None)
    ]


@pytest.mark.parametrize(
    ("text", "span", "category", "count"),
    [
        ("Officials said about 100 soldiers arrived.", "about 100 soldiers", "soldiers", 100),
        ("Officials said two battalions arrived.", "two battalions", "battalion", 2),
        ("Officials said 3,000 extra troops arrived.", "3,000 extra troops", "soldiers", 3000),
        (
            "Officials said some twenty-five marines arrived.",
            "some twenty-five marines",
            "soldiers",
            25,
        ),
        ("Officials said 1.5 million troops serve.", "1.5 million troops", "soldiers", 1_500_000),
        (
            "Officials said nearly three thousand servicemen left.",
            "nearly three thousand servicemen",
            "soldiers",
            3000,
        ),
        ("Officials said troops arrived.", "troops", "soldiers", None),
        (
            "Officials said up to 100 military personnel arrived.",
            "up to 100 military personnel",
            "soldiers",
            100,
        ),
    ],
)
def test_personnel_mentions_carry_their_count(blank_nlp, make_article, text, span, category, count):
    enriched = extract_entities_batch([make_article(text)], blank_nlp)[0]
    assert labelled(enriched, "PERSONNEL") == [(span, "PERSONNEL", category, count)]


@pytest.mark.parametrize(
    "text",
    [
        "The company said profits rose.",  # "company" counts only with a number
        "The armoured personnel carrier broke down.",  # inside a VEHICLE
        "The 2nd Battalion moved north.",  # a MILITARY_UNIT, not a head count
        "Market forces drove prices up.",  # "forces" counts only with a number
    ],
)
def test_personnel_nouns_in_other_senses_are_not_personnel(blank_nlp, make_article, text):
    assert labelled(extract_entities_batch([make_article(text)], blank_nlp)[0], "PERSONNEL") == []


def test_lower_case_acronyms_and_cased_names_in_another_case_are_not_matched(
    blank_nlp, make_article
):
    text = "The ied and the patriot missile; an IED and a Patriot missile."
    found = labelled(extract_entities_batch([make_article(text)], blank_nlp)[0], *DOMAIN)
    # "patriot missile" in lower case is a generic missile, not the named system.
    assert [(t, c) for t, _, c, _ in found] == [
        ("missile", "missile"),
        ("IED", "improvised explosive device"),
        ("Patriot missile", None),
    ]


def test_an_armed_groups_vehicles_are_military_vehicles_and_the_owner_stays_apart(
    blank_nlp, make_article
):
    text = "A strike hit two al-Qaida vehicles and four ISIL vehicles."
    found = labelled(extract_entities_batch([make_article(text)], blank_nlp)[0], *DOMAIN)
    assert found == [("vehicles", "VEHICLE", "military vehicle", None)] * 2


def test_a_class_noun_before_a_ships_name_is_one_entity_named_after_the_ship(
    blank_nlp, make_article
):
    text = "The French anti-air frigate FS Forbin joined the aircraft carrier USS Nimitz."
    enriched = extract_entities_batch([make_article(text)], blank_nlp)[0]
    assert [(e.text, e.label, e.canonical, e.category) for e in enriched.entities] == [
        ("anti-air frigate FS Forbin", "VESSEL", "FS Forbin", "frigate"),
        ("aircraft carrier USS Nimitz", "VESSEL", "USS Nimitz", "aircraft carrier"),
    ]
