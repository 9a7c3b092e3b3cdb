"""The fingerprint of a call's rules, by which a re-check applies its preview only under the
rules the preview evaluated: every rule the evaluation reads changes it, the order in which
a list was chosen does not."""

import dataclasses
import datetime

import pytest

from tremplin.admissions import eligibility
from tremplin.admissions.eligibility import Rules

RULES = Rules(
    reference_date=datetime.date(2026, 9, 1),
    min_age=18,
    max_age=30,
    province_ids=frozenset({1, 2}),
    commune_ids=frozenset({10}),
    education_levels=frozenset({"bac", "bac2"}),
    employment_situations=frozenset({"neet"}),
    required_documents=("cin", "diploma"),
)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("reference_date", datetime.date(2026, 10, 1)),
        ("min_age", 17),
        ("max_age", 31),
        ("province_ids", frozenset({1})),
        ("commune_ids", frozenset({10, 11})),
        ("education_levels", frozenset({"bac"})),
        ("employment_situations", frozenset()),
        ("required_documents", ("cin",)),
    ],
)
def test_each_rule_changes_the_digest(field, value):
    assert dataclasses.replace(RULES, **{field: value}).digest() != RULES.digest()


def test_the_digest_covers_every_rule_the_evaluation_reads():
    # A rule added to Rules without its place in the digest would fail the test above only
    # if someone thought of it: this one fails as soon as Rules has a field it does not list.
    listed = {"reference_date", "min_age", "max_age", "province_ids", "commune_ids",
              "education_levels", "employment_situations", "required_documents"}  # fmt: skip
    assert {f.name for f in dataclasses.fields(eligibility.Rules)} == listed


def test_the_order_of_a_list_does_not_change_the_digest():
    same = dataclasses.replace(
        RULES,
        province_ids=frozenset([2, 1]),
        education_levels=frozenset(["bac2", "bac"]),
        required_documents=("diploma", "cin"),
    )
    assert same.digest() == RULES.digest()
