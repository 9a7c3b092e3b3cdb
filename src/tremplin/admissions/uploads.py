"""Checks on files applicants upload: the type comes from the content, never the name."""

import hashlib
import os
import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

MAX_DOCUMENT_BYTES = 5 * 1024 * 1024

# Magic numbers of the only types accepted. An HTML or SVG file renamed .pdf starts with
# "<" and is refused, whatever its name says.
SIGNATURES = (
    (b"%PDF-", "application/pdf"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
)


def sniff_content_type(head: bytes) -> str | None:
    for signature, content_type in SIGNATURES:
        if head.startswith(signature):
            return content_type
    return None


def validate_document(upload) -> str:
    """Return the content type of an acceptable upload, or raise ValidationError."""
    if upload.size > MAX_DOCUMENT_BYTES:
        raise ValidationError(_("This file is too large (at most 5 MB)."), code="too_large")
    upload.seek(0)
    content_type = sniff_content_type(upload.read(16))
    upload.seek(0)
    if content_type is None:
        raise ValidationError(_("Only PDF, JPEG or PNG files are accepted."), code="bad_type")
    return content_type


def safe_original_name(name: str) -> str:
    """The base name only, printable, at most 120 characters: kept as metadata, never as
    a path."""
    base = os.path.basename((name or "").replace("\\", "/"))
    cleaned = "".join(ch for ch in base if unicodedata.category(ch)[0] not in "CZ" or ch == " ")
    return cleaned.strip()[:120] or "document"


def sha256_of(file) -> str:
    """The SHA-256 of a file's content (an upload, or a stored file opened for reading),
    read in chunks: a 5 MB scan never sits in memory whole."""
    digest = hashlib.sha256()
    for chunk in file.chunks():
        digest.update(chunk)
    return digest.hexdigest()
