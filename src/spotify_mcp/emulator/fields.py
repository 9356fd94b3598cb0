"""The ``fields`` filter of the playlist endpoints: ``a,b.c,items(added_at,item(name,!album))``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

SPECIAL = ",().!"


@dataclass(frozen=True)
class Field:
    """One selected (or, with ``!``, excluded) field and the selection inside it."""

    name: str
    exclude: bool
    inner: tuple[Field, ...] | None


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.at = 0

    def peek(self) -> str:
        return self.text[self.at] if self.at < len(self.text) else ""

    def fields(self) -> tuple[Field, ...]:
        found = [self.field()]
        while self.peek() == ",":
            self.at += 1
            found.append(self.field())
        return tuple(found)

    def field(self) -> Field:
        exclude = self.peek() == "!"
        self.at += exclude
        start = self.at
        while self.peek() and self.peek() not in SPECIAL:
            self.at += 1
        name = self.text[start : self.at].strip()
        if not name:
            raise ValueError(f"field name expected at {start}")
        inner: tuple[Field, ...] | None = None
        if self.peek() == ".":
            self.at += 1
            inner = (self.field(),)
        elif self.peek() == "(":
            self.at += 1
            inner = self.fields()
            if self.peek() != ")":
                raise ValueError(f"')' expected at {self.at}")
            self.at += 1
        return Field(name, exclude, inner)


def parse_fields(text: str) -> tuple[Field, ...]:
    """Parse a ``fields`` value; raises ValueError when it is malformed."""
    parser = _Parser(text)
    selection = parser.fields()
    if parser.peek():
        raise ValueError(f"unexpected {parser.peek()!r} at {parser.at}")
    return selection


def apply_fields(selection: tuple[Field, ...], value: Any) -> Any:
    """Keep only the selected fields of ``value`` (of each element, for lists), minus the excluded ones."""
    if isinstance(value, list):
        return [apply_fields(selection, element) for element in value]
    if not isinstance(value, dict):
        return value
    included = [f for f in selection if not f.exclude]
    if included:
        kept = {
            f.name: apply_fields(f.inner, value[f.name]) if f.inner else value[f.name]
            for f in included
            if f.name in value
        }
    else:
        kept = dict(value)
    for excluded in (f for f in selection if f.exclude):
        kept.pop(excluded.name, None)
    return kept
