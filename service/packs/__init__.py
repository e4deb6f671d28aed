"""Meeting packs: everything one meeting needs, prefilled for one child, and batches of them."""

from .loader import PackRegistry, default_packs, packs_for
from .model import PackSpec

__all__ = ["PackRegistry", "PackSpec", "default_packs", "packs_for"]
