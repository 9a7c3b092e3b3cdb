"""Composites, eliminatory thresholds and jurors' marks, all in Decimal."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tremplin.selection.scoring import Component, composite, jury_marks, rounded

D = Decimal
marks_out_of_20 = st.decimals(min_value=0, max_value=20, places=2)
COMPONENTS = [
    Component("test", D(2)),
    Component("interview", D(1), threshold=D(8)),
    Component("file", D(1)),
]


def test_the_composite_is_the_weighted_mean_rounded_half_up():
    result = composite({"test": "12.5", "interview": "14", "file": "10.01"}, COMPONENTS)
    # (2 * 12.5 + 14 + 10.01) / 4 = 12.2525, rounded half up to 12.25; not a float.
    assert result.value == D("12.25")
    assert isinstance(result.value, Decimal)
    assert rounded(D("12.255")) == D("12.26")


def test_a_mark_below_an_eliminatory_threshold_eliminates_whatever_the_composite():
    result = composite({"test": "20", "interview": "7.99", "file": "20"}, COMPONENTS)
    assert result.eliminated_by == ("interview",)
    assert result.eliminated
    assert result.value == D("17.00")


def test_a_missing_mark_leaves_no_composite():
    result = composite({"test": "12", "interview": None}, COMPONENTS)
    assert result.value is None
    assert result.missing == ("interview", "file")


def test_floats_and_marks_outside_0_to_20_are_refused():
    with pytest.raises(TypeError, match="not float"):
        composite({"test": 12.5, "interview": "10", "file": "10"}, COMPONENTS)
    with pytest.raises(ValueError, match="between 0 and 20"):
        composite({"test": "21", "interview": "10", "file": "10"}, COMPONENTS)


@settings(max_examples=200, deadline=None)
@given(marks_out_of_20, marks_out_of_20, marks_out_of_20)
def test_the_composite_stays_within_the_lowest_and_highest_mark(test, interview, file):
    value = composite({"test": test, "interview": interview, "file": file}, COMPONENTS).value
    assert min(test, interview, file) <= value <= max(test, interview, file)


def test_the_jury_mark_is_the_mean_and_a_wide_spread_is_flagged():
    result = jury_marks(
        [("j1", "ali", "12"), ("j2", "ali", "13"), ("j1", "sara", "8"), ("j2", "sara", "15")],
        disagreement_bound="4",
    )
    assert result["ali"].mean == D("12.50")
    assert not result["ali"].disagreement
    assert result["sara"].spread == D("7.00")
    assert result["sara"].disagreement


def test_severity_correction_puts_a_severe_and_a_lenient_juror_on_one_scale():
    # j2 marks exactly 4 points above j1 on the same two applicants: once corrected,
    # their marks agree and nobody is flagged.
    triples = [("j1", "a", "10"), ("j1", "b", "12"), ("j2", "a", "14"), ("j2", "b", "16")]
    plain = jury_marks(triples, disagreement_bound="3")
    corrected = jury_marks(triples, correct_severity=True, disagreement_bound="3")
    assert plain["a"].disagreement
    assert not corrected["a"].disagreement
    assert corrected["a"].marks[0] == corrected["a"].marks[1]
    assert corrected["a"].mean < corrected["b"].mean
    assert all(isinstance(m, Decimal) for m in corrected["a"].marks)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from("ABC"), st.sampled_from("uvwxyz"), marks_out_of_20),
        unique_by=lambda t: (t[0], t[1]),
        min_size=1,
        max_size=18,
    )
)
def test_corrected_marks_stay_within_0_and_20_and_cover_the_same_applicants(triples):
    corrected = jury_marks(triples, correct_severity=True)
    for mark in corrected.values():
        assert all(D(0) <= m <= D(20) for m in mark.marks)
        assert D(0) <= mark.mean <= D(20)
    plain = jury_marks(triples)
    assert set(plain) == set(corrected)


def test_a_juror_cannot_mark_the_same_applicant_twice():
    with pytest.raises(ValueError, match="twice"):
        jury_marks([("j1", "a", "10"), ("j1", "a", "12")])
