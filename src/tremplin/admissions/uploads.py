"""Checks on files applicants upload: the type comes from the content, never the name."""

import hashlib
import io
import os
import unicodedata

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler
from django.utils.translation import gettext_lazy as _

MAX_DOCUMENT_BYTES = 5 * 1024 * 1024
# The largest file staff send: an import (``views_import``). See ``UploadSizeLimit``.
MAX_STAFF_UPLOAD_BYTES = 20 * 1024 * 1024

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


class UploadSizeLimit(FileUploadHandler):
    """Keeps no more of a file than its sender may send: ``MAX_DOCUMENT_BYTES`` from the
    public portal, where nobody is signed in (whatever the field's name: the limit holds for
    a hand-made request too), ``MAX_STAFF_UPLOAD_BYTES`` from staff, whose largest file is
    an import. Past it, the rest of the file is read and dropped, not written to a
    temporary file, and the form is given in its place an empty file of the size received,
    which its own check refuses as too large (``validate_document``, the import's form):
    a 50 MB upload neither fills the disk nor gets another answer than a 6 MB photo. First
    of ``FILE_UPLOAD_HANDLERS``."""

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        user = getattr(self.request, "user", None)
        staff = user is not None and user.is_authenticated
        self.limit = MAX_STAFF_UPLOAD_BYTES if staff else MAX_DOCUMENT_BYTES
        return None  # the parsing goes on as usual

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self.received = 0

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > self.limit:
            return None  # the handlers after this one never see it
        return raw_data

    def file_complete(self, file_size):
        if self.received > self.limit:
            return UploadedFile(io.BytesIO(), self.file_name, self.content_type, self.received)
        return None  # the next handler gives the file
