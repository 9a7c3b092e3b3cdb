"""Application references such as ``SMA-25-0042``: school code, year of the call, number."""


def make_reference(school_code: str, year: int, number: int) -> str:
    return f"{school_code}-{year % 100:02d}-{number:04d}"
