"""The Word layer: every line of OOXML handling lives in this package.

    writer.generate_docx(spec, data) -> bytes      a fillable .docx
    reader.extract_docx(raw, registry) -> result    completed .docx -> data, sources, issues
"""

from .reader import DocxExtraction, extract_docx
from .writer import generate_docx

__all__ = ["DocxExtraction", "extract_docx", "generate_docx"]
