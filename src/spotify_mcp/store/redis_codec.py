"""How the Redis backend writes records: one hash per record, one string field per non-None value.

Every value is a string that reads back exactly: floats as ``repr`` (shortest round-trip form), scopes
as a JSON list, enums by value, booleans as ``"1"``/``"0"``. A None field is simply absent from the hash.
Records travel to the Lua scripts as JSON objects of those strings (None as ``null``), so a script never
re-encodes a number and never loses precision.
"""

from __future__ import annotations

import json
import types
from collections.abc import Callable, Iterable, Mapping
from enum import StrEnum
from typing import Any, TypeVar, Union, get_args, get_origin, get_type_hints

from spotify_mcp.store.records import (
    AuthCodeRecord,
    AuthRequestRecord,
    ClientRecord,
    GrantRecord,
    SpotifyCredentials,
    TokenRecord,
)

R = TypeVar("R")
Fields = dict[str, str | None]
Converter = tuple[Callable[[Any], str], Callable[[str], Any]]


def _scopes_to_text(scopes: tuple[str, ...]) -> str:
    return json.dumps(list(scopes), ensure_ascii=False)


def _scopes_from_text(text: str) -> tuple[str, ...]:
    return tuple(str(scope) for scope in json.loads(text))


def _float_to_text(value: float) -> str:
    return repr(float(value))


def _bool_to_text(value: bool) -> str:
    return "1" if value else "0"


def _bool_from_text(text: str) -> bool:
    return text == "1"


def _converter(hint: Any) -> Converter:
    """How to write one field's (non-None) value as a string and read it back."""
    if get_origin(hint) in (Union, types.UnionType):
        (hint,) = [arg for arg in get_args(hint) if arg is not type(None)]
    if hint == tuple[str, ...]:
        return _scopes_to_text, _scopes_from_text
    if isinstance(hint, type) and issubclass(hint, StrEnum):
        return (lambda value: value.value), hint
    if hint is bool:
        return _bool_to_text, _bool_from_text
    if hint is float:
        return _float_to_text, float
    if hint is int:
        return str, int
    if hint is str:
        return str, str
    raise TypeError(f"no Redis encoding for a field of type {hint!r}")


_CONVERTERS: dict[type[Any], dict[str, Converter]] = {
    cls: {name: _converter(hint) for name, hint in get_type_hints(cls).items()}
    for cls in (ClientRecord, AuthRequestRecord, AuthCodeRecord, GrantRecord, TokenRecord, SpotifyCredentials)
}


def to_fields(record: Any) -> Fields:
    """Return a record's hash fields, None for a field to leave absent."""
    fields: Fields = {}
    for name, (write, _) in _CONVERTERS[type(record)].items():
        value = getattr(record, name)
        fields[name] = None if value is None else write(value)
    return fields


def to_json(record: Any) -> str:
    """Return a record's hash fields as the JSON object a Lua script decodes."""
    return json.dumps(to_fields(record), ensure_ascii=False, separators=(",", ":"))


def many_to_json(records: Iterable[Any]) -> str:
    """Return several records' fields as a JSON list of objects."""
    return "[" + ",".join(to_json(record) for record in records) + "]"


def from_fields(cls: type[R], fields: Mapping[str, str]) -> R:
    """Rebuild a record of type ``cls`` from its hash (fields it does not know are ignored)."""
    values: dict[str, Any] = {}
    for name, (_, read) in _CONVERTERS[cls].items():
        text = fields.get(name)
        values[name] = None if text is None else read(text)
    return cls(**values)


def float_arg(value: float) -> str:
    """Pass a time to a script exactly."""
    return _float_to_text(value)
