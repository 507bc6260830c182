"""Tests for services/alerts/extensions.py.

The token attributes are registered at build time, once, never on import.
"""

from __future__ import annotations

import subprocess
import sys

import spacy
from spacy.tokens import Token

from services.alerts.evaluate import make_parser
from services.alerts.extensions import ANTECEDENT, COUNTRY, register_extensions


def test_importing_the_alerts_modules_registers_nothing():
    code = (
        "import services.alerts.evaluate, services.alerts.compile, services.alerts.frame, "
        "services.alerts.events, services.alerts.stage\n"
        "from spacy.tokens import Token\n"
        "assert not Token.has_extension('country') and not Token.has_extension('antecedent')\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_registering_twice_changes_nothing_and_the_parser_registers():
    make_parser(spacy.blank("en"))
    assert Token.has_extension(COUNTRY) and Token.has_extension(ANTECEDENT)
    before = Token.get_extension(COUNTRY)
    register_extensions()
    assert Token.get_extension(COUNTRY) == before
    doc = spacy.blank("en")("They moved.")
    assert (doc[0]._.country, doc[0]._.antecedent) == ("", "")
