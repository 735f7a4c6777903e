"""Answers computed once per parsed object (a document, a subtree), for the many rules that ask the same.

Parsed trees are plain mutable objects (not hashable by value), so entries are keyed by identity. An entry
keeps its object alive, so its id cannot be reused while the entry exists; the memo is bounded and cleared
whole when full, since a worker only ever needs the file it is analysing now.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

Value = TypeVar("Value")


class IdentityMemo(Generic[Value]):
    def __init__(self, size: int) -> None:
        self._size = size
        self._entries: dict[tuple[int, Hashable], tuple[object, Value]] = {}

    def get(self, owner: object, build: Callable[[], Value], extra: Hashable = None) -> Value:
        """The value for (`owner`, `extra`), built on first use."""
        key = (id(owner), extra)
        entry = self._entries.get(key)
        if entry is None or entry[0] is not owner:
            if len(self._entries) >= self._size:
                self._entries.clear()
            entry = self._entries[key] = (owner, build())
        return entry[1]
