"""The expected answer of a URL for each persona (see tests/test_permissions.py)."""

from dataclasses import dataclass, field

NOT_FOUND = 404


@dataclass(frozen=True)
class Case:
    method: str = "get"
    # persona -> expected status; anyone not listed gets `default`
    expect: dict = field(default_factory=dict)
    default: int = NOT_FOUND
    anonymous: int = 302
    data: dict = field(default_factory=dict)

    def status_for(self, persona: str) -> int:
        if persona == "anonymous":
            return self.anonymous
        return self.expect.get(persona, self.default)


def staff(status: int) -> dict:
    """Directors and admissions officers of Smara get `status`; everyone else 404."""
    return {"director": status, "admissions": status}


ADMISSIONS_STAFF = staff(200)


def everyone(status: int, anonymous: int | None = None, **kw) -> Case:
    return Case(default=status, anonymous=status if anonymous is None else anonymous, **kw)
