"""The exceptions Step Down Forms raises, in one tree.

    StepDownError                 every error the package raises on purpose; has a stable ``code``
    ├── SpecError                 a form spec file is malformed (names the file and the place)
    ├── UnknownFormError          no spec has the form id asked for
    ├── DataError                 input data is unusable (unreadable JSON, not an object, ...)
    └── DocumentError             an uploaded document cannot be read; ``code`` says why.
                                  Word: not_a_zip, corrupt_zip, zip_bomb, too_many_entries,
                                  encrypted, xml_doctype, xml_malformed, macro_enabled,
                                  embedded_object, external_reference, not_a_word_document,
                                  layout_invalid, template_unsafe, template_invalid.
                                  PDF: corrupt_pdf, encrypted, flattened_pdf, xfa_form,
                                  active_content, pdf_too_complex, pdf_timeout.
                                  Both: file_too_large, not_our_form, wrong_form.
    ├── AccessError               not logged in (``unauthenticated``) or not allowed (``forbidden``)
    ├── NotFound                  no such record, or one in another team (``not_found``)
    ├── Conflict                  the request clashes with stored data; ``details`` say how
    ├── RecordInvalid             a case or account value is unusable (``invalid``)
    └── Busy                      too many uploads are being read at once (``busy``)

Problems *inside* a data set (a required field left empty, a date out of policy) are not
exceptions: validation returns them as issues in a :class:`service.validation.Report`.

Each edge translates these once: the CLI to a one-line message and exit code 2, the HTTP
layer to a status and a JSON body carrying ``code`` (service/web/errors.py).
"""

from __future__ import annotations


class StepDownError(Exception):
    """Base class. ``code`` is stable and machine-readable; ``str(err)`` is plain English."""

    code = "stepdown_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class SpecError(StepDownError):
    """A form spec could not be loaded. ``file`` and ``location`` say where."""

    code = "spec_invalid"

    def __init__(self, message: str, *, file: str = "", location: str = "", line: int | None = None) -> None:
        self.file = file
        self.location = location
        self.line = line
        where = file
        if line is not None:
            where = f"{where}:{line}" if where else f"line {line}"
        if location:
            where = f"{where} at {location}" if where else location
        super().__init__(f"{where}: {message}" if where else message)
        self.detail = message


class UnknownFormError(StepDownError):
    code = "form_unknown"


class DataError(StepDownError):
    code = "data_unusable"


class DocumentError(StepDownError):
    """A document we were given cannot be read. Nothing of it was executed or followed."""

    code = "document_unreadable"

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        if code:
            self.code = code


class AccessError(StepDownError):
    code = "forbidden"

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        if code:
            self.code = code


class NotFound(StepDownError):
    code = "not_found"


class Conflict(StepDownError):
    def __init__(self, message: str, code: str = "conflict", details: object = None) -> None:
        super().__init__(message)
        self.code, self.details = code, details


class RecordInvalid(StepDownError):
    code = "invalid"


class Busy(StepDownError):
    code = "busy"
