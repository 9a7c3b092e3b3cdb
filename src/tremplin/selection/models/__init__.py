"""Selection models: the scheme of an intake, marks, tests, interviews, ranking runs, offers.

Split by sub-domain; import them from here.
"""

from tremplin.selection.models.interviews import (
    ConflictOfInterest,
    Criterion,
    CriterionScore,
    InterviewSlot,
    Panel,
    ScoreSheet,
)
from tremplin.selection.models.letters import Letter, LetterBatch
from tremplin.selection.models.marks import Mark, TestSession, TestSitting
from tremplin.selection.models.offers import Offer, SeatPool
from tremplin.selection.models.runs import RankingResult, RankingRun
from tremplin.selection.models.scheme import Component, Quota, SelectionScheme

__all__ = [
    "Component",
    "ConflictOfInterest",
    "Criterion",
    "CriterionScore",
    "InterviewSlot",
    "Letter",
    "LetterBatch",
    "Mark",
    "Offer",
    "Panel",
    "Quota",
    "RankingResult",
    "RankingRun",
    "ScoreSheet",
    "SeatPool",
    "SelectionScheme",
    "TestSession",
    "TestSitting",
]
