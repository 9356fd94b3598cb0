"""Check Web API responses against Spotify's OpenAPI description (``shared/spotify-web-api/openapi.yml``).

``assert_conforms(response)`` finds the operation for the request's method and path (below ``/v1``), takes
the schema documented for the response's status and validates the JSON body with ``jsonschema``
(draft 2020-12). OpenAPI 3.0 is translated first:

- ``nullable: true`` becomes ``"null"`` in ``type`` (or an ``anyOf`` with null around ``$ref``/``allOf``);
  so does a property whose own description says it can be `` `null` ``, as the spec often says it only
  there (``CursorPagingObject.next``: "( `null` if none)", ``context``: "Can be `null`").
- ``format: date-time`` is checked.
- In strict mode (the default for 2xx responses): properties marked ``deprecated`` (the fields that
  development-mode apps no longer receive since February 2026) must be absent, and so are not required,
  and no object may carry a property the spec does not declare (``unevaluatedProperties: false`` at every
  place a schema is used; ``unevaluatedProperties: false`` where ``allOf`` composes an object).
- Known errors of the description are corrected (``CORRECTIONS``): Spotify sends ``actions`` as
  ``{"disallows": {…}}`` where the spec puts the DisallowsObject's flags directly in ``actions``, and
  sends ``"cursors": null`` on an empty cursor page.
- ``GET /me/player/currently-playing`` may answer 204 without a body, which the spec omits.
- Error statuses an operation does not list fall back to the shared ``components/responses``
  (``BadRequest``, ``NotFound``…), validated non-strictly since Spotify adds ``reason`` to its errors.

The spec's location: ``$SPOTIFY_OPENAPI``, else ``<repo>/../shared/spotify-web-api/openapi.yml``. A
missing spec is an error, never a skip.
"""

from __future__ import annotations

import copy
import functools
import os
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx2
import yaml
from jsonschema import Draft202012Validator, FormatChecker, ValidationError, validators
from jsonschema.exceptions import best_match
from referencing import Registry
from referencing.jsonschema import DRAFT202012

SPEC_URI = "urn:spotify-web-api"
API_PREFIX = "/v1"
SHARED_RESPONSES = {400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound", 429: "TooManyRequests"}
SCHEMA_LISTS = ("allOf", "oneOf", "anyOf")
SAYS_NULLABLE = re.compile(r"`null`")
REMOVED = "x-removed-in-dev-mode"
CLOSED = "--closed"
UNDOCUMENTED_EMPTY = {("get", "/me/player/currently-playing", 204)}

Schema = dict[str, Any]

NESTED_DISALLOWS: Schema = {
    "type": "object",
    "properties": {"disallows": {"allOf": [{"$ref": "#/components/schemas/DisallowsObject"}]}},
}
CORRECTIONS: dict[tuple[str, str], Schema] = {
    ("CurrentlyPlayingContextObject", "actions"): NESTED_DISALLOWS,
    ("CurrentlyPlayingObject", "actions"): NESTED_DISALLOWS,
    ("CursorPagingObject", "cursors"): {"allOf": [{"$ref": "#/components/schemas/CursorObject"}], "nullable": True},
}


def spec_path() -> Path:
    """Where the OpenAPI description is expected."""
    default = Path(__file__).resolve().parents[2].parent / "shared" / "spotify-web-api" / "openapi.yml"
    return Path(os.environ.get("SPOTIFY_OPENAPI", default))


@functools.cache
def load_spec() -> dict[str, Any]:
    """The OpenAPI document, parsed once; a missing file raises (tests fail, they do not skip)."""
    path = spec_path()
    if not path.is_file():
        raise FileNotFoundError(f"Spotify OpenAPI description not found at {path} (set SPOTIFY_OPENAPI)")
    with path.open(encoding="utf-8") as f:
        spec: dict[str, Any] = yaml.safe_load(f)
    schemas = spec["components"]["schemas"]
    for (name, prop), replacement in CORRECTIONS.items():
        schemas[name]["properties"][prop] = replacement
    return spec


class _Translator:
    """Rewrites one OpenAPI 3.0 document's schemas into JSON Schema 2020-12, strict or not."""

    def __init__(self, spec: dict[str, Any], strict: bool) -> None:
        self.spec = spec
        self.strict = strict

    def declares_properties(self, node: Schema, seen: frozenset[str] = frozenset()) -> bool:
        """Whether instances of ``node`` are objects with a closed, declared set of properties."""
        if "additionalProperties" in node:
            return False
        if "properties" in node:
            return True
        if "$ref" in node:
            ref = node["$ref"]
            return ref not in seen and self.declares_properties(self.lookup(ref), seen | {ref})
        return any(self.declares_properties(m, seen) for key in SCHEMA_LISTS for m in node.get(key, []))

    def lookup(self, ref: str) -> Schema:
        """The node a local ``#/…`` reference points at."""
        node: Any = self.spec
        for part in ref.removeprefix("#/").split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        result: Schema = node
        return result

    def schema(self, node: Schema, *, use_site: bool) -> Schema:
        """Translate one schema node; ``use_site`` is False only for members of a composing ``allOf``.

        Where a schema is used, objects are closed: ``additionalProperties: false`` for a plain object,
        ``unevaluatedProperties: false`` (slower) only where ``allOf`` composes the properties; a ``$ref``
        at a use site points at the closed variant of its component.
        """
        single_ref = len(node.get("allOf", [])) == 1 and "$ref" in node["allOf"][0] and "properties" not in node
        out: Schema = {}
        for key, value in node.items():
            if key == "$ref":
                out[key] = SPEC_URI + value + (CLOSED if use_site and self.strict else "")
            elif key == "properties":
                out[key] = {name: self.property(sub) for name, sub in value.items()}
            elif key in ("items", "not") or (key == "additionalProperties" and isinstance(value, dict)):
                out[key] = self.schema(value, use_site=True)
            elif key in SCHEMA_LISTS:
                out[key] = [self.schema(m, use_site=key != "allOf" or (use_site and single_ref)) for m in value]
            elif key == "required" and self.strict:
                deprecated = {n for n, p in node.get("properties", {}).items() if p.get("deprecated")}
                out[key] = [name for name in value if name not in deprecated]
            elif key not in ("nullable", "discriminator", "example", "deprecated") and not key.startswith("x-"):
                out[key] = value
        if self.strict and use_site and not single_ref:
            out = self.closed(node, out)
        if node.get("nullable"):
            out = self.nullable(out)
        return out

    def closed(self, node: Schema, out: Schema) -> Schema:
        """``out`` refusing undeclared properties, if ``node`` is an object declaring its own."""
        if "additionalProperties" in node or "$ref" in node or not self.declares_properties(node):
            return out
        if "allOf" in node:
            return {**out, "unevaluatedProperties": False}
        if "properties" in node:
            return {**out, "additionalProperties": False}
        return out

    def property(self, node: Schema) -> Schema:
        if self.strict and node.get("deprecated"):
            return {REMOVED: True}
        out = self.schema(node, use_site=True)
        if not node.get("nullable") and SAYS_NULLABLE.search(str(node.get("description", ""))):
            out = self.nullable(out)
        return out

    @staticmethod
    def nullable(out: Schema) -> Schema:
        if "type" in out:
            types = out["type"] if isinstance(out["type"], list) else [out["type"]]
            out = {**out, "type": [*types, "null"]}
            if "enum" in out:
                out["enum"] = [*out["enum"], None]
            return out
        keep = {k: v for k, v in out.items() if k in ("description", "title")}
        inner = {k: v for k, v in out.items() if k not in keep}
        return {**keep, "anyOf": [{"type": "null"}, inner]}

    def document(self) -> dict[str, Any]:
        """The whole spec with every schema translated, for use as one ``referencing`` resource."""
        doc = copy.deepcopy(self.spec)
        components = doc.get("components", {})
        schemas: dict[str, Schema] = {}
        for name, node in self.spec["components"]["schemas"].items():
            schemas[name] = self.schema(node, use_site=False)
            schemas[name + CLOSED] = self.closed(node, schemas[name])
        components["schemas"] = schemas
        for response in components.get("responses", {}).values():
            for media in response.get("content", {}).values():
                media["schema"] = self.schema(media["schema"], use_site=True)
        for item in doc["paths"].values():
            for operation in item.values():
                for response in operation.get("responses", {}).values():
                    for media in response.get("content", {}).values():
                        media["schema"] = self.schema(media["schema"], use_site=True)
        return doc


@functools.cache
def _registry(strict: bool) -> Registry[Any]:
    document = _Translator(load_spec(), strict).document()
    registry: Registry[Any] = Registry().with_resource(SPEC_URI, DRAFT202012.create_resource(document))
    return registry


def _removed(validator: Any, flag: bool, instance: Any, schema: Schema) -> Iterator[ValidationError]:
    if flag:
        yield ValidationError(f"{instance!r} is in a field development-mode apps no longer get (deprecated)")


Validator = validators.extend(Draft202012Validator, {REMOVED: _removed})


def _format_checker() -> FormatChecker:
    checker = FormatChecker()

    @checker.checks("date-time", raises=ValueError)
    def is_datetime(value: object) -> bool:
        if isinstance(value, str):
            if "T" not in value or not value.endswith(("Z", "+00:00")):
                raise ValueError(f"not an RFC 3339 UTC date-time: {value}")
            datetime.fromisoformat(value)
        return True

    return checker


@functools.cache
def _validator(pointer: str, strict: bool) -> Any:
    return Validator({"$ref": SPEC_URI + pointer}, registry=_registry(strict), format_checker=_format_checker())


def find_operation(method: str, path: str) -> tuple[str, dict[str, Any]]:
    """The spec's path template and operation for a request path below ``/v1`` (literal paths first)."""
    spec = load_spec()
    relative = path.removeprefix(API_PREFIX)
    candidates = []
    for template, item in spec["paths"].items():
        pattern = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$"
        if re.match(pattern, relative) and method.lower() in item:
            candidates.append((template.count("{"), template, item[method.lower()]))
    if not candidates:
        raise AssertionError(f"{method} {path} is not an operation of the Spotify Web API")
    _, template, operation = min(candidates, key=lambda c: c[0])
    return template, operation


def schema_pointer(method: str, path: str, status: int) -> str | None:
    """A JSON pointer to the schema documented for ``status``, or None when that status has no body."""
    template, operation = find_operation(method, path)
    responses = operation["responses"]
    if (method.lower(), template, status) in UNDOCUMENTED_EMPTY:
        return None
    if str(status) in responses:
        pointer = "#/paths/" + template.replace("~", "~0").replace("/", "~1") + f"/{method.lower()}/responses/{status}"
        response = responses[str(status)]
    elif status in SHARED_RESPONSES:
        pointer = f"#/components/responses/{SHARED_RESPONSES[status]}"
        response = {"$ref": pointer}
    else:
        raise AssertionError(f"{method} {template} does not document status {status}")
    if "$ref" in response:
        pointer = response["$ref"]
        response = _Translator(load_spec(), strict=False).lookup(pointer)
    if "application/json" not in response.get("content", {}):
        return None
    return pointer + "/content/application~1json/schema"


def validate_body(method: str, path: str, status: int, body: Any, *, strict: bool | None = None) -> None:
    """Raise AssertionError listing every way ``body`` departs from the documented response schema."""
    if strict is None:
        strict = 200 <= status < 300
    pointer = schema_pointer(method, path, status)
    if pointer is None:
        assert body is None, f"{method} {path} → {status} documents no body, got {body!r}"
        return
    validator = _validator(pointer, strict)
    errors = sorted(validator.iter_errors(body), key=lambda e: list(e.absolute_path))
    if errors:
        leaves = [best_match([e]) if e.context else e for e in errors[:15]]
        lines = [f"/{'/'.join(map(str, e.absolute_path))}: {e.message[:300]}" for e in leaves]
        raise AssertionError(f"{method} {path} → {status} breaks the OpenAPI schema:\n" + "\n".join(lines))


def assert_conforms(response: httpx2.Response, *, strict: bool | None = None) -> None:
    """Validate an emulator (or real) Web API response against the operation's documented schema."""
    body = response.json() if response.content else None
    validate_body(response.request.method, response.request.url.path, response.status_code, body, strict=strict)
