"""Documents in and out, whatever the format: the entry points the CLI and HTTP layer use."""

from __future__ import annotations

from datetime import datetime, timezone

from . import isolation
from .docx import DocxExtraction, extract_docx, generate_docx
from .brand import shell_context
from .docx.branding import find_shell, shell_brand
from .docx.designer import LayoutCheck, check_layout as check_docx_layout, fill_layout
from .errors import DataError, DocumentError, UnknownFormError
from .extract import Extraction
from .identity import Identity
from .limits import check_document_size
from .pdf import extract_pdf, extract_pdf_async, generate_pdf, sandbox
from .pdf.assemble import PdfSource
from .pdf.writer import generate_pdf_source
from .spec.model import FormSpec
from .validation import validate

FORMATS = ("docx", "pdf")


def generate_document(spec: FormSpec, data: dict | None = None, *, format: str = "docx",
                      shell: bytes | str | None = None, layout: bytes | None = None,
                      document_id: str | None = None, generated: datetime | None = None,
                      checked: bool = False) -> bytes:
    """A fillable document of ``spec``, prefilled with ``data`` (a draft: it need not be complete,
    but what is there must fit the form). ``shell``: a branded .docx whose header and footer a
    Word form is wrapped in and a PDF draws in its margins (logo, lines, protective marking), or
    "auto" for the organisation's own shell in the templates folder if there is one. ``layout``: a
    designer's own .docx (checked with check_layout) to fill instead of our layout.
    ``document_id`` and ``generated`` (a new id and now by default) make the same bytes again:
    a batch part built twice is the same part. ``checked``: the caller has validated ``data``
    against ``spec`` (partial) already, as a meeting pack does once for all its files."""
    if not checked:
        check_prefill(spec, data)
    if format == "pdf":
        return _pdf(generate_pdf, spec, data, shell, document_id, generated)
    if format == "docx" and layout is not None:
        return fill_layout(spec, layout, data)
    if format == "docx":
        if shell == "auto":
            shell = find_shell(spec.organisation)
        return generate_docx(spec, data, shell=shell, document_id=document_id, generated=generated)
    raise DataError(f"unknown document format {format!r}; available: {', '.join(FORMATS)}")


def generate_pdf_with_source(spec: FormSpec, data: dict | None = None, *, shell: bytes | str | None = None,
                             document_id: str | None = None, generated: datetime | None = None,
                             checked: bool = False) -> tuple[bytes, PdfSource]:
    """``generate_document(format="pdf")``, and the document's objects, from which a meeting
    pack's combined PDF is assembled (``pdf.assemble``)."""
    if not checked:
        check_prefill(spec, data)
    return _pdf(generate_pdf_source, spec, data, shell, document_id, generated)


def check_prefill(spec: FormSpec, data: dict | None) -> None:
    """DataError naming the first problem (and how many more) if ``data`` does not fit ``spec``."""
    if data is not None:
        report = validate(spec, data, partial=True)
        if report.errors:
            first = report.errors[0]
            more = f" (and {len(report.errors) - 1} more)" if len(report.errors) > 1 else ""
            raise DataError(f"the prefill data does not fit the form: {first.path}: {first.message}{more}")


def _pdf(write, spec: FormSpec, data: dict | None, shell, document_id: str | None, generated: datetime | None):
    """``write`` (generate_pdf or generate_pdf_source) with the organisation's shell drawn in the
    margins: "auto" finds it in the templates folder."""
    if shell == "auto":
        shell = find_shell(spec.organisation)
    if not shell:
        return write(spec, data, document_id=document_id, generated=generated)
    identity = Identity.new(spec, document_id, generated or datetime.now(timezone.utc))
    brand = shell_brand(shell, shell_context(spec, identity))
    return write(spec, data, document_id=identity.document_id, generated=_moment(identity), brand=brand)


def extract_document(raw: bytes, registry, *, form: str | None = None) -> Extraction:
    """Read a completed document. The format is decided by the file's content, not its name.
    Parsing happens in a limited worker process (``service.isolation``): a PDF's in the PDF
    worker, a Word document's wholly in a reader worker."""
    check_document_size(raw)
    if is_pdf(raw):
        return extract_pdf(raw, registry, form=form)
    try:  # the package check names anything that is not Word
        found = isolation.call(isolation.readers(), _read_docx, registry, raw, form, accept=_DOCX_REFUSALS)
    except isolation.Lost as lost:
        raise _docx_lost(lost) from None
    return DocxExtraction.from_dict(found)


async def extract_document_async(raw: bytes, registry, *, form: str | None = None) -> Extraction:
    """``extract_document`` for a caller on an event loop: the worker's answer is awaited there,
    with no thread waiting on it (``isolation.Pool.ask_async``)."""
    check_document_size(raw)
    if is_pdf(raw):
        return await extract_pdf_async(raw, registry, form=form)
    try:
        found = await isolation.call_async(isolation.readers(), _read_docx, registry, raw, form,
                                           accept=_DOCX_REFUSALS)
    except isolation.Lost as lost:
        raise _docx_lost(lost) from None
    return DocxExtraction.from_dict(found)


def is_pdf(raw: bytes) -> bool:
    """Whether an upload is a PDF (by its content: anything else is read as Word, whose package
    check names what it is not)."""
    return raw.lstrip()[:5] == b"%PDF-"


_DOCX_REFUSALS = (DocumentError, UnknownFormError)


def _docx_lost(lost: isolation.Lost) -> DocumentError:
    if lost.timed_out:
        return DocumentError("The Word document took too long to read (it may be built to); it was refused.",
                             "timeout")
    return DocumentError("Reading the Word document needed more memory than any form does; it was refused.",
                         "too_complex")


def _read_docx(registry, raw: bytes, form: str | None) -> dict:
    """In a reader worker: the extraction, as plain data."""
    return extract_docx(raw, registry, form=form).to_dict()


def check_layout(spec: FormSpec, raw: bytes) -> LayoutCheck:
    """Does a designer's .docx fit ``spec``? (errors: missing required fields, unknown tags,
    wrong kinds of control, missing options; warnings: optional fields left out)."""
    return check_docx_layout(spec, raw)


def configure_parsing(concurrency: int) -> None:
    """How many uploaded documents of each format are parsed at once, each in its own limited
    worker process (the reader workers one more: a queued batch reads its spreadsheet again when
    it starts, outside the upload slots)."""
    sandbox.configure(concurrency)
    isolation.readers().configure(size=concurrency + 1)


def parsers_ready() -> dict[str, bool]:
    """Whether the worker processes that read uploads can answer (each pool starts one if it
    has none, so the first upload after start-up does not wait for it)."""
    return {"word": isolation.readers().ready(), "pdf": sandbox.POOL.ready()}


def _moment(identity: Identity) -> datetime:
    return datetime.strptime(identity.generated, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
