"""Step Down Forms: form specs, validation, and fillable Word and PDF documents read back into data.

The public surface of the document core: what the command line and the web layer use of it (they
also call the casework, packs and storage layers; docs/architecture.md has the rules, enforced).
"""

from .data import MAX_DATA_BYTES, load_json_file, parse_json_data
from .documents import check_layout, extract_document, generate_document
from .limits import MAX_UPLOAD_BYTES as MAX_DOCUMENT_BYTES
from .errors import DataError, DocumentError, SpecError, StepDownError, UnknownFormError
from .extract import Extraction
from .spec import FormSpec, Registry, default_registry, load_spec_file, load_spec_text
from .spec.schema import json_schema
from .validation import Issue, Report, validate

__all__ = [
    "DataError",
    "DocumentError",
    "Extraction",
    "FormSpec",
    "MAX_DATA_BYTES",
    "MAX_DOCUMENT_BYTES",
    "Issue",
    "Registry",
    "check_layout",
    "Report",
    "SpecError",
    "StepDownError",
    "UnknownFormError",
    "default_registry",
    "extract_document",
    "generate_document",
    "json_schema",
    "load_json_file",
    "load_spec_file",
    "load_spec_text",
    "parse_json_data",
    "validate",
]
