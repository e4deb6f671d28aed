"""How large an input may be: the one home of the size limits, and of the message that says so.

Every file a person gives us (a completed Word or PDF form, a spreadsheet of meetings, JSON
data) is refused above ``MAX_UPLOAD_BYTES`` before anything in it is read. The web service's
own limit (``STEPDOWN_MAX_UPLOAD_MB``) may be set lower, never higher, and is enforced before
the request body is read.
"""

from __future__ import annotations

from .errors import DataError, DocumentError

MIB = 1024 * 1024
MAX_UPLOAD_BYTES = 20 * MIB


def too_large(size: int, limit: int = MAX_UPLOAD_BYTES) -> bool:
    return size > limit


def size_message(what: str = "The file", limit: int = MAX_UPLOAD_BYTES) -> str:
    return f"{what} is larger than {limit // MIB} MiB."


def check_document_size(raw: bytes, limit: int = MAX_UPLOAD_BYTES) -> None:
    """Refuse a document (Word or PDF) over the limit, with code ``file_too_large``."""
    if too_large(len(raw), limit):
        raise DocumentError(size_message(limit=limit), "file_too_large")


def check_data_size(size: int, what: str, limit: int = MAX_UPLOAD_BYTES) -> None:
    """Refuse data input (JSON, a spreadsheet) over the limit."""
    if too_large(size, limit):
        raise DataError(size_message(what, limit), "file_too_large")
