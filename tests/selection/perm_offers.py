"""Permission cases of this part of selection, merged into tests/test_permissions.py.

`CASES` maps URL names to their expected answers per persona; `url_values` gives the values
of the URL parameters this part owns, building the objects it needs for Smara (`objects`
holds the open intake and its application built by the `smara_objects` fixture).
"""

from tests.permission_case import Case  # noqa: F401

CASES: dict = {}


def url_values(world, objects: dict) -> dict:
    return {}
