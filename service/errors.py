"""Every exception Step Down Forms raises, in one tree. Each class has a stable ``code``.

    StepDownError            the base; never raised itself (a test holds the code to that)
    │
    │  our own files and the machine
    ├── SpecError            spec_invalid: a form spec or pack definition is malformed (names the
    │                        file, line and place); the service does not start
    ├── SettingsError        settings_invalid: an environment setting is unusable (a bad
    │                        STEPDOWN_DATA_KEY among them)
    ├── InstallationError    installation_incomplete: something the package needs is not
    │                        installed (the DejaVu fonts)
    │
    │  what a user asked for or gave us
    ├── UnknownFormError     form_unknown: no form has the id asked for
    ├── UnknownPackError     pack_unknown: no meeting pack has the id asked for
    ├── DataError            data_unusable: input data is unusable (unreadable JSON, a spreadsheet
    │   │                    that cannot be read, not an object, too large; too_complex and
    │   │                    timeout when reading it ran out of its worker's memory or time)
    │   └── InputMissing     input_missing: a batch needs its spreadsheet of meetings
    ├── DocumentError        an uploaded document cannot be read; ``code`` says why.
    │                          Word: not_a_zip, corrupt_zip, zip_bomb, too_many_entries,
    │                          too_complex, too_many_rows, timeout, encrypted, xml_doctype,
    │                          xml_malformed, macro_enabled, embedded_object,
    │                          external_reference, not_a_word_document, layout_invalid,
    │                          template_unsafe, template_invalid.
    │                          PDF: corrupt_pdf, encrypted, flattened_pdf, xfa_form,
    │                          active_content, pdf_too_complex, pdf_timeout.
    │                          Both: file_too_large, not_our_form, wrong_form.
    ├── Unreadable           a typed value cannot be read from text (unreadable_date,
    │                        unreadable_number, unknown_choice, unreadable_cell). Raised and
    │                        caught inside the readers, which turn it into an issue at the field
    │
    │  casework in the service
    ├── AccessError          unauthenticated, forbidden, csrf_failed, too_many_attempts
    │   └── SignInRefused    a single sign-on answer not accepted: sign_in_refused,
    │                        sign_in_no_access, sign_in_unavailable
    ├── NotFound             not_found: no such record, or one of another team (the same answer)
    ├── Conflict             the request clashes with stored data; ``code`` and ``details`` say how
    ├── RecordInvalid        invalid: a case or account value is unusable
    ├── Busy                 busy: too many uploads are being read at once
    ├── AuditUnavailable     audit_unavailable: a read's audit entry could not be written, so
    │                        the read was not answered
    ├── Cancelled            cancelled: a batch was cancelled while it was being built
    └── SealError            sealed_data_unreadable: stored data cannot be unsealed with this key

Problems *inside* a data set (a required field left empty, a date out of policy) are not
exceptions: validation returns them as issues in a :class:`service.validation.Report`.

Each edge translates these once: the CLI to a one-line message and exit code 2, the HTTP
layer to a status and a JSON body carrying ``code`` (``service/web/errors.py``, which has a
status for every class here).
"""

from __future__ import annotations


class StepDownError(Exception):
    """Base class. ``code`` is stable and machine-readable; ``str(err)`` is plain English."""

    code = "stepdown_error"

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code


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


class SettingsError(StepDownError):
    code = "settings_invalid"


class InstallationError(StepDownError):
    code = "installation_incomplete"


class UnknownFormError(StepDownError):
    code = "form_unknown"


class UnknownPackError(StepDownError):
    code = "pack_unknown"


class DataError(StepDownError):
    code = "data_unusable"


class InputMissing(DataError):
    code = "input_missing"


class DocumentError(StepDownError):
    """A document we were given cannot be read. Nothing of it was executed or followed."""

    code = "document_unreadable"


class Unreadable(StepDownError):
    """Text that cannot be read as the value it should hold; the message says what was expected
    and never repeats the text."""

    code = "unreadable_cell"


class AccessError(StepDownError):
    code = "forbidden"


class SignInRefused(AccessError):
    """A single sign-on answer we do not accept; the message says why, in words."""

    code = "sign_in_refused"


class NotFound(StepDownError):
    code = "not_found"


class Conflict(StepDownError):
    code = "conflict"

    def __init__(self, message: str, code: str = "conflict", details: object = None) -> None:
        super().__init__(message, code)
        self.details = details


class RecordInvalid(StepDownError):
    code = "invalid"


class Busy(StepDownError):
    code = "busy"


class AuditUnavailable(StepDownError):
    code = "audit_unavailable"


class Cancelled(StepDownError):
    code = "cancelled"


class SealError(StepDownError):
    code = "sealed_data_unreadable"
