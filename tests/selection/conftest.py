"""Fixtures shared by the offers and waitlist tests (their builders: offers_world.py)."""

import pytest

from tests.selection.offers_world import COMPOSITES, closed_intake, publish_single, record_letters


@pytest.fixture
def letters(monkeypatch):
    """The decision letters the offers start, recorded instead of rendered."""
    return record_letters(monkeypatch)


@pytest.fixture
def intake(world, letters):
    """A call of 10 with 4 seats and 4 waiting, published from COMPOSITES (modules that
    need another call define their own `intake`)."""
    intake = closed_intake(world, n=10, seats=4, waitlist=4)
    publish_single(
        intake, actor=world.users["director"], composites=COMPOSITES, seats=4, waitlist=4
    )
    return intake
