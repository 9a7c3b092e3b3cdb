"""The data download of a learner whose call has one track (and so enrolments of no track).
Apart from test_personal_data.py, whose tests share the Smara demo: this call is built anew."""

import pytest

from tests.admissions.test_personal_data import download


@pytest.mark.django_db
def test_a_learner_of_a_call_of_one_track_downloads_her_enrolment(world, monkeypatch):
    """Such a call's seats are no track's: her enrolment has none (the download failed)."""
    from tests.selection.offers_world import app, offer_of, published_call
    from tremplin.selection.offers import offer_accept

    intake = published_call(world, monkeypatch)
    learner = app(intake, 1)
    offer_accept(offer=offer_of(learner), channel="applicant")
    data = download(learner)
    assert data["training"]["track"] is None
    assert data["training"]["status"] == learner.enrolment.status
