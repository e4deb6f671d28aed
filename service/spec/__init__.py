"""Form specs: the typed model, its YAML loader, the registry of forms and JSON Schema export."""

from .loader import load_spec_file, load_spec_text
from .model import FormSpec, Option, Section
from .registry import Registry, default_registry

__all__ = ["FormSpec", "Option", "Registry", "Section", "default_registry", "load_spec_file", "load_spec_text"]
