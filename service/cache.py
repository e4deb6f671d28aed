"""Values computed once per loaded object (a spec, a field): specs never change after loading.

Keyed by identity and holding the object itself, so an id reused after garbage collection
can never return another object's value."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class PerObject(Generic[K, V]):
    def __init__(self, build: Callable[[K], V], limit: int = 4096) -> None:
        self.build, self.limit = build, limit
        self._cache: dict[int, tuple[K, V]] = {}

    def get(self, obj: K) -> V:
        hit = self._cache.get(id(obj))
        if hit is None or hit[0] is not obj:
            if len(self._cache) >= self.limit:
                self._cache.clear()
            hit = self._cache[id(obj)] = (obj, self.build(obj))
        return hit[1]
