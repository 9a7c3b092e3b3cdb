"""The audit log speaks the reader's language: every action the code records has a label."""

import re
from pathlib import Path

import pytest
from django.utils import translation

from tremplin.core.audit_labels import ACTION_LABELS, action_label

SOURCE = Path(__file__).resolve().parents[2] / "src" / "tremplin"


def recorded_actions() -> set[str]:
    """The codes passed to ``log_action``/``audit_event``, the constants they are given
    through, those passed on as ``action=``, and the offers' ``offer_audit`` actions."""
    codes = set()
    for path in SOURCE.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for call in re.finditer(r"\b(?:log_action|audit_event)\(\s*([^,)]*)", text):
            argument = call.group(1).strip()
            if literals := re.findall(r"\"(tremplin\.[a-z_.]+)\"", argument):
                codes.update(literals)  # one, or two in a conditional expression
            elif re.fullmatch(r"[A-Z_]+", argument):  # a module's constant
                constant = re.search(rf"^{argument} = \"(tremplin\.[a-z_.]+)\"", text, re.M)
                assert constant, f"{path}: {argument}"
                codes.add(constant.group(1))
        # Passed on as ``action=`` (the convocations' letters).
        codes.update(re.findall(r"\baction=\"(tremplin\.[a-z_.]+)\"", text))
        for offer in re.finditer(r"offer_audit\(\s*\w+,\s*\"([a-z_]+)\"", text):
            codes.add(f"tremplin.selection.offer_{offer.group(1)}")
        if '"cancelled" if withdrawn else "expired"' in text:
            codes.add("tremplin.selection.offer_expired")
    return codes


def test_every_action_recorded_has_a_label():
    recorded = recorded_actions()
    assert len(recorded) > 50  # the scan finds them
    assert recorded - set(ACTION_LABELS) == set()
    assert set(ACTION_LABELS) - recorded == set()  # no label for an action no longer recorded


@pytest.mark.parametrize(
    ("language", "label"),
    [("fr", "Candidature retirée"), ("ar", "سحب الترشيح"), ("en", "Application withdrawn")],
)
def test_a_label_follows_the_readers_language_and_an_unknown_code_shows_as_it_is(language, label):
    with translation.override(language):
        assert action_label("tremplin.applications.withdrawn") == label
        assert action_label("tremplin.something.new") == "tremplin.something.new"
