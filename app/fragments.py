"""Rendered HTML fragments remembered by everything they show (the board's cards, the
filter bar's long option lists).

A fragment's key is every value its template reads (plus the reader's language), so a
fragment is reused only where rendering again would give the same text: nothing to
invalidate, a changed ticket or name is simply a new key. Per process, bounded (the
oldest half is dropped when full); a dict's get and set are atomic, so threads may
share it.
"""
from __future__ import annotations

from typing import Callable, Hashable

from markupsafe import Markup


class FragmentCache:
    def __init__(self, size: int):
        self.size = size
        self._items: dict[Hashable, Markup] = {}

    def get(self, key: Hashable, render: Callable[[], str]) -> Markup:
        html = self._items.get(key)
        if html is None:
            html = Markup(render())
            if len(self._items) >= self.size:
                for old in list(self._items)[: self.size // 2]:
                    self._items.pop(old, None)
            self._items[key] = html
        return html

    def clear(self) -> None:
        self._items.clear()
