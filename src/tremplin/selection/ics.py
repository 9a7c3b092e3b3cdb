"""Calendar files (.ics, RFC 5545) for convocations: one event per sitting or interview.

A few lines are enough: times in UTC (``Z``), text escaped, lines folded at 75 octets, CRLF.
The UID is stable for a sitting or a slot, and SEQUENCE grows with each new batch of
letters, so a calendar updates the event it already has instead of adding a second one.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass

from django.utils import timezone

PRODID = "-//Tremplin//Convocations//EN"
MIMETYPE = "text/calendar"


@dataclass(frozen=True)
class Event:
    uid: str
    start: datetime.datetime
    end: datetime.datetime
    summary: str
    location: str = ""
    description: str = ""
    sequence: int = 0


def calendar(events: Sequence[Event], *, stamp: datetime.datetime | None = None) -> bytes:
    """A VCALENDAR with ``events``, as UTF-8 bytes with CRLF line ends."""
    stamp = stamp or timezone.now()
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
    ]
    for event in events:
        lines += [
            "BEGIN:VEVENT",
            f"UID:{escape(event.uid)}",
            f"DTSTAMP:{utc(stamp)}",
            f"DTSTART:{utc(event.start)}",
            f"DTEND:{utc(event.end)}",
            f"SEQUENCE:{event.sequence}",
            f"SUMMARY:{escape(event.summary)}",
        ]
        if event.location:
            lines.append(f"LOCATION:{escape(event.location)}")
        if event.description:
            lines.append(f"DESCRIPTION:{escape(event.description)}")
        lines.append("END:VEVENT")
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + "\r\n" for line in lines).encode("utf-8")


def utc(value: datetime.datetime) -> str:
    if timezone.is_naive(value):
        raise ValueError("calendar times must be aware")
    return value.astimezone(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")


def escape(text: str) -> str:
    """TEXT values (RFC 5545 §3.3.11): backslash, semicolon, comma and line breaks."""
    text = text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return text.replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\n")


def fold(line: str, limit: int = 75) -> str:
    """Split a content line into lines of at most ``limit`` octets, never inside a UTF-8
    character; continuation lines start with a space (RFC 5545 §3.1)."""
    parts: list[str] = []
    current, size = "", 0
    for char in line:
        width = len(char.encode("utf-8"))
        # Continuation lines lose one octet to their leading space.
        if size + width > (limit if not parts else limit - 1):
            parts.append(current)
            current, size = "", 0
        current += char
        size += width
    parts.append(current)
    return "\r\n ".join(parts)
