"""The PDF layer: fillable AcroForm PDFs drawn from the spec's layout, and reading them back."""

from .reader import extract_pdf, extract_pdf_async
from .writer import generate_pdf

__all__ = ["extract_pdf", "extract_pdf_async", "generate_pdf"]
