"""The PDF layer: fillable AcroForm PDFs drawn from the spec's layout, and reading them back."""

from .reader import extract_pdf
from .writer import generate_pdf

__all__ = ["extract_pdf", "generate_pdf"]
