"""Documents already received, kept while the applicant corrects the rest of her form.

A browser cannot fill a file field again: a form sent back because the phone was mistyped
would otherwise lose the 4 MB photo of an ID card sent over a mobile connection, and the
application, sent once the phone is corrected, would lack the document. So each valid file
of a form sent back is held in private storage, and the page carries a signed token naming
it, which the next submission of the same form uses in place of a file chosen again.

The token is signed (nobody can name another person's file) and short-lived (``HOLD_FOR``);
a held file is never named by a row, so the retention sweep deletes it once it is a day old
(``core.private_files``), and a submission deletes those it used once it commits.

Nobody is signed in on the form: so that a script cannot fill the disk 5 MB a request, a
connection holds at most ``HELD_PER_CONNECTION`` files an hour (in a directory named by a
keyed hash of the connection, which alone is listed to count them, on S3 too); past it, a
form sent back asks for its files again, as it did before files were held.
"""

from __future__ import annotations

import datetime
import logging
import uuid
from dataclasses import dataclass
from pathlib import PurePath

from django.core import signing
from django.core.files import File
from django.core.files.storage import default_storage
from django.utils import timezone
from django.utils.crypto import salted_hmac

from tremplin.admissions.uploads import safe_original_name

logger = logging.getLogger(__name__)

HELD_DIR = "private/held"
# Long enough to correct a form, well under the retention sweep's day (a token never names
# a file already swept).
HOLD_FOR = datetime.timedelta(hours=6)
_SALT = "tremplin.admissions.held_upload"
# Files a connection (an IPv4 address, an IPv6 /64) may have held in the last hour: a family
# behind one address correcting a few forms, not a script filling the disk.
HELD_PER_CONNECTION = 30
_WINDOW = datetime.timedelta(hours=1)


class HoldRefused(Exception):
    """This connection held too many files lately."""


def holder_key(connection: str) -> str:
    """The directory of the files a connection holds: a keyed hash, never its address."""
    return salted_hmac(_SALT, connection, algorithm="sha256").hexdigest()[:16]


@dataclass(frozen=True)
class Held:
    """A document held for the form of call ``intake_id``: its file in storage, the name
    the applicant's file had, and the type its content showed (``validate_document``)."""

    intake_id: int
    kind: str
    path: str
    name: str
    content_type: str

    def open(self) -> File | None:
        """The file, as an upload to store again; None once it is gone (swept)."""
        try:
            stored = default_storage.open(self.path, "rb")
        except FileNotFoundError:
            return None
        except Exception:  # OSError; on S3, botocore's errors: as if gone, asked again
            logger.exception("The held document %s could not be read.", self.path)
            return None
        return File(stored, name=self.name)


def hold(upload, *, intake_id: int, kind: str, content_type: str, holder: str) -> str:
    """Keep ``upload`` (already checked) for the connection ``holder`` (``holder_key``) and
    return the token naming it. Raises ``HoldRefused`` past ``HELD_PER_CONNECTION``."""
    _check_allowance(holder)
    suffix = PurePath(upload.name or "").suffix.lower()[:5]
    upload.seek(0)
    path = default_storage.save(f"{HELD_DIR}/{holder}/{uuid.uuid4().hex}{suffix}", upload)
    upload.seek(0)
    return signing.dumps(
        [intake_id, kind, path, safe_original_name(upload.name), content_type],
        salt=_SALT,
        compress=True,
    )


def _check_allowance(holder: str) -> None:
    try:
        names = default_storage.listdir(f"{HELD_DIR}/{holder}")[1]
    except FileNotFoundError:  # nothing held yet
        return
    since = timezone.now() - _WINDOW
    recent = 0
    for name in names:
        try:
            recent += default_storage.get_modified_time(f"{HELD_DIR}/{holder}/{name}") >= since
        except FileNotFoundError:  # used or swept meanwhile
            continue
    if recent >= HELD_PER_CONNECTION:
        raise HoldRefused(holder)


def held(token: str, *, intake_id: int, kind: str) -> Held | None:
    """The document ``token`` names, if it is valid, recent, and for this call and kind."""
    try:
        fields = signing.loads(token, salt=_SALT, max_age=HOLD_FOR)
        found = Held(*fields)
    except (signing.BadSignature, TypeError, ValueError):
        return None
    if found.intake_id != intake_id or found.kind != kind:
        return None
    return found


def forget(documents: list[Held]) -> None:
    """Delete the held files of a form sent, once what it did committed (the application
    stored copies of them, or it existed already). One that cannot be deleted now goes
    with the retention sweep."""
    for document in documents:
        try:
            default_storage.delete(document.path)
        except Exception:  # OSError; on S3, botocore's errors
            logger.warning("The held document %s could not be deleted now.", document.path)
