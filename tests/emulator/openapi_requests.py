"""Check the Web API requests a client sends against Spotify's OpenAPI description (``openapi.yml``).

``request_violations(method, url, headers, body)`` lists every way one request below ``/v1`` departs from the
description (an empty list: it conforms):

- the method and path must be an operation of the spec (``find_operation``: path parameters matched to templates,
  literal paths first), one not ``deprecated: true`` (how the spec marks what development-mode apps lost in
  November 2024 and February 2026) nor flagged ``x-removed-in-dev-mode``;
- path parameters must be non-empty and match their schema;
- every query parameter must be declared (path-level and operation-level ``parameters``, ``$ref`` resolved), the
  required ones present and non-empty, none repeated unless its schema is an exploded array; values are coerced
  from the query string (integer, number, boolean; arrays split on commas where ``explode: false``) and validated
  against the schema;
- a body needs a declared ``requestBody`` and one of its media types as ``Content-Type``; a JSON body must parse
  and validate against the schema (translated as for responses, not closed to undeclared properties, but a
  ``deprecated`` property is a violation); a missing body is a violation when the ``requestBody`` is required, or
  when its schema requires properties (the spec never marks a JSON ``requestBody`` required, yet
  ``POST /me/playlists`` cannot work without ``name``).

Where the spec states a constraint only in prose, ``PARAM_CORRECTIONS`` and ``LIST_PARAMS`` state it as a schema:
Spotify ids are 22 base62 characters, ``market`` is a country code or ``from_token``, ``time_range``, repeat
``state`` and ``additional_types`` have enumerated values, ``volume_percent`` is 0–100, comma-separated ``ids`` and
``uris`` are lists of ids or URIs of the documented kinds, at most the documented "Maximum: N";
``BODY_CORRECTIONS`` does the same for JSON bodies (URIs, "A maximum of 100 items", one ``device_id``), and
``EXCLUSIVE`` names query parameters that exclude each other (``after``/``before``).

``ConformingTransport`` wraps a transport: it records the violations and the operations of every ``/v1`` request
it forwards, never raising, so that a client's tests can assert it only sends what the spec describes.
"""

from __future__ import annotations

import binascii
import copy
import functools
import json
import re
import reprlib
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx2
from jsonschema import Draft202012Validator, ValidationError, validators
from jsonschema.exceptions import best_match
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from tests.emulator import openapi
from tests.emulator.openapi import API_PREFIX, REMOVED, SPEC_URI, Schema, _format_checker, _Translator

DEPRECATED_FIELD = "x-deprecated-in-request"
JSON_MEDIA = "application/json"
INTEGER = re.compile(r"-?[0-9]+")
NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?")
MAXIMUM = re.compile(r"[Mm]aximum(?: of)?:? ([0-9]+) (?:ids?|IDs?|URIs|items)\b")
ANY = "*"

BASE62_ID = "[0-9A-Za-z]{22}"
ID: Schema = {"type": "string", "pattern": f"^{BASE62_ID}$"}
PLAYABLE_URI: Schema = {"type": "string", "pattern": f"^spotify:(track|episode):{BASE62_ID}$"}
LIBRARY_URI: Schema = {
    "type": "string",
    "pattern": f"^spotify:((track|album|episode|show|audiobook|playlist|artist):{BASE62_ID}|user:[^:,\\s]+)$",
}
"""Artist URIs are not in the spec's list, but Spotify's migration guide saves one through ``/me/library`` and
``/me/library/contains`` documents them; the follow endpoints they replace are gone for new apps."""
USER_OR_ARTIST_ID: Schema = {"type": "string", "pattern": "^[^,\\s]+$"}

PARAM_CORRECTIONS: dict[tuple[str, str], Schema] = {
    (ANY, "id"): {"pattern": f"^{BASE62_ID}$"},
    (ANY, "playlist_id"): {"pattern": f"^{BASE62_ID}$"},
    (ANY, "market"): {"pattern": "^([A-Z]{2}|from_token)$"},
    (ANY, "offset"): {"minimum": 0},
    ("/artists/{id}/albums", "limit"): {"minimum": 1},
    ("/me/playlists", "offset"): {"minimum": 0, "maximum": 100_000},
    ("/users/{user_id}/playlists", "offset"): {"minimum": 0, "maximum": 100_000},
    ("/me/top/artists", "time_range"): {"enum": ["long_term", "medium_term", "short_term"]},
    ("/me/top/tracks", "time_range"): {"enum": ["long_term", "medium_term", "short_term"]},
    ("/me/player/repeat", "state"): {"enum": ["track", "context", "off"]},
    ("/me/player/volume", "volume_percent"): {"minimum": 0, "maximum": 100},
    ("/me/player/seek", "position_ms"): {"minimum": 0},
    ("/me/player/queue", "uri"): {"pattern": PLAYABLE_URI["pattern"]},
}
"""Keywords merged into a parameter's schema, by (path template or ``*``, name): constraints the spec only
states in its descriptions (e.g. "Must be a value from 0 to 100 inclusive"), or states wrongly (the artist albums
``limit`` says "Minimum: 1" but declares ``minimum: 0``)."""

LIST_PARAMS: dict[tuple[str, str], Schema] = {
    (ANY, "ids"): ID,
    ("/me/following", "ids"): USER_OR_ARTIST_ID,
    ("/me/following/contains", "ids"): USER_OR_ARTIST_ID,
    ("/playlists/{playlist_id}/followers/contains", "ids"): USER_OR_ARTIST_ID,
    (ANY, "uris"): PLAYABLE_URI,
    ("/me/library", "uris"): LIBRARY_URI,
    ("/me/library/contains", "uris"): LIBRARY_URI,
    (ANY, "additional_types"): {"type": "string", "enum": ["track", "episode"]},
    (ANY, "include_groups"): {"type": "string", "enum": ["album", "single", "appears_on", "compilation"]},
    (ANY, "seed_artists"): ID,
    (ANY, "seed_tracks"): ID,
    (ANY, "seed_genres"): {"type": "string", "minLength": 1},
}
"""String parameters the spec describes as "a comma-separated list of …": checked as ``explode: false`` arrays of
these items, with ``maxItems`` from the description's "Maximum: N" (``fields`` is comma-separated too, but
nests parentheses, so it stays a plain string)."""

CONTEXT_URI: Schema = {"type": "string", "pattern": f"^spotify:(album|artist|playlist|show|audiobook):{BASE62_ID}$"}
BODY_CORRECTIONS: dict[tuple[str, str], dict[str, Schema]] = {
    ("put", "/me/player/play"): {
        "context_uri": CONTEXT_URI,
        "uris": {"items": PLAYABLE_URI},
        "position_ms": {"minimum": 0},
        "offset": {
            "properties": {"position": {"type": "integer", "minimum": 0}, "uri": PLAYABLE_URI},
            "minProperties": 1,
            "maxProperties": 1,
        },
    },
    ("put", "/me/player"): {"device_ids": {"minItems": 1, "maxItems": 1}},
    ("post", "/playlists/{playlist_id}/items"): {
        "uris": {"items": PLAYABLE_URI, "minItems": 1, "maxItems": 100},
        "position": {"minimum": 0},
    },
    ("put", "/playlists/{playlist_id}/items"): {
        "uris": {"items": PLAYABLE_URI, "maxItems": 100},
        "range_start": {"minimum": 0},
        "insert_before": {"minimum": 0},
        "range_length": {"minimum": 1},
    },
    ("delete", "/playlists/{playlist_id}/items"): {
        "items": {
            "items": {"type": "object", "properties": {"uri": PLAYABLE_URI}, "required": ["uri"]},
            "minItems": 1,
            "maxItems": 100,
        },
    },
}
"""Keywords merged into top-level properties of JSON request bodies, by (method, path template): the prose's
"A maximum of 100 items", "can't be negative", "only a single device_id is currently supported", and the kinds of
URI each field takes (the spec says ``context_uri`` takes albums, artists and playlists; shows and audiobooks are
contexts too)."""

EXCLUSIVE: dict[str, tuple[str, ...]] = {"/me/player/recently-played": ("after", "before")}
"""Query parameters of an operation of which at most one may be given ("If after is specified, before must not")."""


class _RequestTranslator(_Translator):
    """The response translation, non-strict, but a deprecated property becomes a violation where it is used."""

    def __init__(self, spec: dict[str, Any]) -> None:
        super().__init__(spec, strict=False)

    def property(self, node: Schema) -> Schema:
        if node.get("deprecated"):
            return {DEPRECATED_FIELD: True}
        return super().property(node)

    def document(self) -> dict[str, Any]:
        """The translated spec, request bodies included."""
        doc = super().document()
        for name, body in self.spec.get("components", {}).get("requestBodies", {}).items():
            self.translate_body(body, doc["components"]["requestBodies"][name])
        for template, item in self.spec["paths"].items():
            for method, operation in item.items():
                if isinstance(operation, dict) and "requestBody" in operation:
                    self.translate_body(operation["requestBody"], doc["paths"][template][method]["requestBody"])
        return doc

    def translate_body(self, body: Schema, out: Schema) -> None:
        for media_type, media in body.get("content", {}).items():
            if "schema" in media:
                out["content"][media_type]["schema"] = self.schema(media["schema"], use_site=True)


def _deprecated_field(validator: Any, flag: bool, instance: Any, schema: Schema) -> Any:
    if flag:
        yield ValidationError(f"{instance!r} is sent in a deprecated property")


RequestValidator = validators.extend(Draft202012Validator, {DEPRECATED_FIELD: _deprecated_field})


def _corrected_spec() -> dict[str, Any]:
    """The spec with ``BODY_CORRECTIONS`` applied to its request bodies."""
    spec = copy.deepcopy(openapi.load_spec())
    for (method, template), corrections in BODY_CORRECTIONS.items():
        operation = spec["paths"].get(template, {}).get(method)
        if operation is None or "requestBody" not in operation:
            continue
        schema = operation["requestBody"]["content"][JSON_MEDIA]["schema"]
        for name, keywords in corrections.items():
            schema["properties"][name] = {**schema["properties"][name], **keywords}
    return spec


@functools.cache
def _registry() -> Registry[Any]:
    document = _RequestTranslator(_corrected_spec()).document()
    registry: Registry[Any] = Registry().with_resource(SPEC_URI, DRAFT202012.create_resource(document))
    return registry


def _validator(schema: Schema) -> Any:
    return RequestValidator(schema, registry=_registry(), format_checker=_format_checker())


def _escape(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1")


@dataclass(frozen=True)
class _Param:
    """One declared parameter, its schema corrected and translated."""

    name: str
    location: str
    required: bool
    deprecated: bool
    explode: bool
    schema: Schema
    validator: Any

    @property
    def is_array(self) -> bool:
        return self.schema.get("type") == "array"


@dataclass(frozen=True)
class _Body:
    """A declared request body: whether it must be sent and a validator per media type."""

    required: bool
    required_properties: tuple[str, ...]
    media: dict[str, Schema]
    validators: dict[str, Any]


@dataclass(frozen=True)
class _Operation:
    method: str
    template: str
    pattern: re.Pattern[str]
    deprecated: bool
    removed: bool
    params: dict[tuple[str, str], _Param]
    body: _Body | None


def _param(template: str, node: Schema, translator: _RequestTranslator) -> _Param:
    if "$ref" in node:
        node = translator.lookup(node["$ref"])
    name, location = node["name"], node["in"]
    schema: Schema = copy.deepcopy(node.get("schema", {}))
    explode = node.get("explode", node.get("style", "form") == "form")
    items = LIST_PARAMS.get((template, name), LIST_PARAMS.get((ANY, name)))
    if location == "query" and items is not None and schema.get("type") == "string":
        listed: Schema = {"type": "array", "items": items}
        if maximum := MAXIMUM.search(str(schema.get("description", ""))):
            listed["maxItems"] = int(maximum.group(1))
        schema, explode = listed, False
    for key in ((ANY, name), (template, name)):
        if key in PARAM_CORRECTIONS and schema.get("type") != "array":
            schema.update(PARAM_CORRECTIONS[key])
    translated = translator.schema(schema, use_site=True)
    return _Param(
        name=name,
        location=location,
        required=bool(node.get("required")) or location == "path",
        deprecated=bool(node.get("deprecated") or schema.get("deprecated")),
        explode=bool(explode),
        schema=translated,
        validator=_validator(translated),
    )


def _body(method: str, template: str, node: Schema, translator: _RequestTranslator) -> _Body:
    pointer = f"#/paths/{_escape(template)}/{method}/requestBody"
    if "$ref" in node:
        pointer = node["$ref"]
        node = translator.lookup(pointer)
    media = {name: content.get("schema", {}) for name, content in node.get("content", {}).items()}
    required_properties: tuple[str, ...] = ()
    if JSON_MEDIA in media:
        resolved = media[JSON_MEDIA]
        if "$ref" in resolved:
            resolved = translator.lookup(resolved["$ref"])
        required_properties = tuple(resolved.get("required", ()))
    return _Body(
        required=bool(node.get("required")),
        required_properties=required_properties,
        media=media,
        validators={
            name: _validator({"$ref": f"{SPEC_URI}{pointer}/content/{_escape(name)}/schema"})
            for name in media
            if name == JSON_MEDIA or name.endswith("+json")
        },
    )


@functools.cache
def _operation(method: str, template: str) -> _Operation:
    """The checks for one operation of the spec, built once."""
    spec = openapi.load_spec()
    translator = _RequestTranslator(spec)
    item = spec["paths"][template]
    operation = item[method]
    params: dict[tuple[str, str], _Param] = {}
    for node in [*item.get("parameters", []), *operation.get("parameters", [])]:
        param = _param(template, node, translator)
        params[(param.location, param.name)] = param
    regex = re.escape(template)
    for name in re.findall(r"\{([^}]+)\}", template):
        regex = regex.replace(re.escape("{" + name + "}"), f"(?P<{name}>[^/]*)")
    return _Operation(
        method=method,
        template=template,
        pattern=re.compile(regex),
        deprecated=bool(operation.get("deprecated")),
        removed=bool(operation.get(REMOVED)),
        params=params,
        body=_body(method, template, operation["requestBody"], translator) if "requestBody" in operation else None,
    )


def clear_caches() -> None:
    """Forget the built checks (after the spec changed, in tests)."""
    _operation.cache_clear()
    _registry.cache_clear()


def _message(error: ValidationError) -> str:
    """jsonschema's message, unless it would quote a long instance whole."""
    if error.validator == "maxItems":
        return f"{len(error.instance)} items, more than the {error.validator_value} allowed"
    if error.validator == "minItems":
        return f"{len(error.instance)} items, fewer than the {error.validator_value} required"
    message = str(error.message)
    if len(message) <= 200:
        return message
    return f"{reprlib.repr(error.instance)} breaks {error.validator}: {error.validator_value!r}"[:300]


def _errors(validator: Any, instance: Any) -> list[str]:
    errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))
    leaves = [best_match([e]) if e.context else e for e in errors[:15]]
    return [(f"/{'/'.join(map(str, e.absolute_path))}: " if e.absolute_path else "") + _message(e) for e in leaves]


def _coerce(raw: str, schema: Schema) -> Any:
    """A query-string value as the JSON value its schema's type expects; ValueError if it cannot be one."""
    kind = schema.get("type", "string")
    if kind == "integer":
        if not INTEGER.fullmatch(raw):
            raise ValueError(f"{raw!r} is not an integer")
        return int(raw)
    if kind == "number":
        if not NUMBER.fullmatch(raw):
            raise ValueError(f"{raw!r} is not a number")
        return float(raw)
    if kind == "boolean":
        if raw not in ("true", "false"):
            raise ValueError(f"{raw!r} is not true or false")
        return raw == "true"
    return raw


def _value_violations(param: _Param, raws: list[str]) -> list[str]:
    where = f"{param.location} parameter {param.name}"
    if param.deprecated:
        return [f"{where} is deprecated"]
    if len(raws) > 1 and not (param.is_array and param.explode):
        hint = " (send one comma-separated value)" if param.is_array else ""
        return [f"{where} is given {len(raws)} times{hint}"]
    if param.is_array:
        parts = raws if param.explode else raws[0].split(",")
        if any(part == "" for part in parts):
            return [f"{where} has an empty element: {','.join(raws)!r}"]
        items = param.schema.get("items", {})
        try:
            value: Any = [_coerce(part, items) for part in parts]
        except ValueError as exc:
            return [f"{where}: {exc}"]
    else:
        if raws[0] == "":
            return [f"{where} is empty"]
        try:
            value = _coerce(raws[0], param.schema)
        except ValueError as exc:
            return [f"{where}: {exc}"]
    return [f"{where}: {message}" for message in _errors(param.validator, value)]


def _media_type(headers: httpx2.Headers) -> str:
    return headers.get("content-type", "").split(";")[0].strip().lower()


def _body_violations(operation: _Operation, headers: httpx2.Headers, body: bytes) -> list[str]:
    declared = operation.body
    if not body:
        if declared is not None and declared.required:
            return ["the operation requires a request body, none was sent"]
        if declared is not None and declared.required_properties:
            needed = ", ".join(declared.required_properties)
            return [f"no request body, but its schema requires {needed}"]
        return []
    if declared is None:
        return [f"a {len(body)}-byte body was sent, but the operation declares no request body"]
    media_type = _media_type(headers)
    if media_type not in declared.media:
        return [f"body sent as {media_type or 'no Content-Type'!r}, the operation takes {sorted(declared.media)}"]
    if media_type in declared.validators:
        try:
            document = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            return [f"body is not JSON: {exc}"]
        return [f"body {message}" for message in _errors(declared.validators[media_type], document)]
    if declared.media[media_type].get("format") == "base64":
        try:
            binascii.a2b_base64(body, strict_mode=True)
        except binascii.Error as exc:
            return [f"body is not base64: {exc}"]
    return []


def _check(
    method: str, url: httpx2.URL | str, headers: Mapping[str, str] | httpx2.Headers | None, body: bytes
) -> tuple[str | None, list[str]]:
    """The operation's path template (None if there is none) and the request's violations."""
    url = httpx2.URL(url)
    path = url.path
    if not (path == API_PREFIX or path.startswith(API_PREFIX + "/")):
        return None, [f"{path} is not below {API_PREFIX}"]
    try:
        template, _ = openapi.find_operation(method, path)
    except AssertionError:
        return None, [f"{method.upper()} {path} is not an operation of the Spotify Web API"]
    operation = _operation(method.lower(), template)
    violations: list[str] = []
    if operation.deprecated:
        violations.append(f"{method.upper()} {template} is deprecated")
    if operation.removed:
        violations.append(f"{method.upper()} {template} is removed for development-mode apps ({REMOVED})")

    match = operation.pattern.fullmatch(path.removeprefix(API_PREFIX))
    for name, value in (match.groupdict() if match else {}).items():
        param = operation.params.get(("path", name))
        if not value:
            violations.append(f"path parameter {name} is empty")
        elif param is not None:
            violations += _value_violations(param, [value])

    sent: dict[str, list[str]] = {}
    for name, value in url.params.multi_items():
        sent.setdefault(name, []).append(value)
    for name, raws in sent.items():
        param = operation.params.get(("query", name))
        if param is None:
            violations.append(f"query parameter {name} is not declared for {method.upper()} {template}")
        else:
            violations += _value_violations(param, raws)
    for (location, name), param in operation.params.items():
        if location == "query" and param.required and name not in sent:
            violations.append(f"required query parameter {name} is missing")
    exclusive = [name for name in EXCLUSIVE.get(template, ()) if name in sent]
    if len(exclusive) > 1:
        violations.append(f"query parameters {' and '.join(exclusive)} exclude each other")

    violations += _body_violations(operation, httpx2.Headers(headers), body)
    return template, violations


def request_violations(
    method: str,
    url: httpx2.URL | str,
    headers: Mapping[str, str] | httpx2.Headers | None = None,
    body: bytes = b"",
) -> list[str]:
    """Every way one Web API request (``url`` below ``/v1``) departs from the OpenAPI description; [] if none."""
    return _check(method, url, headers, body)[1]


def operation_template(method: str, url: httpx2.URL | str) -> str | None:
    """The spec's path template (relative to ``/v1``) of the operation a request calls, None if it is none."""
    try:
        return openapi.find_operation(method, httpx2.URL(url).path)[0]
    except AssertionError:
        return None


class ConformingTransport(httpx2.AsyncBaseTransport):
    """Forwards requests to ``transport``, recording how each ``/v1`` request departs from the spec.

    ``violations`` collects ``(method, path, violation)``; ``operations`` counts ``(method, path_template)``
    of every operation called (templates as in the spec, relative to ``/v1``). Nothing is raised: the request is
    forwarded as it is, so the server's answer to a bad request still reaches the client. Requests outside
    ``/v1`` (the accounts service's ``/api/token``) pass unchecked.
    """

    def __init__(self, transport: httpx2.AsyncBaseTransport) -> None:
        self.transport = transport
        self.violations: list[tuple[str, str, str]] = []
        self.operations: Counter[tuple[str, str]] = Counter()

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        path = request.url.path
        if path == API_PREFIX or path.startswith(API_PREFIX + "/"):
            body = await request.aread()  # kept: the request's stream is replaced by the read bytes
            try:
                template, violations = _check(request.method, request.url, request.headers, body)
            except Exception as exc:  # a broken check must not become the client's error
                template, violations = None, [f"the request could not be checked: {exc!r}"]
            self.violations += [(request.method, path, violation) for violation in violations]
            if template is not None:
                self.operations[(request.method.upper(), template)] += 1
        return await self.transport.handle_async_request(request)

    async def aclose(self) -> None:
        await self.transport.aclose()

    def assert_conforming(self) -> None:
        """Raise AssertionError listing every recorded violation."""
        assert not self.violations, "requests break the OpenAPI description:\n" + "\n".join(
            f"{method} {path}: {violation}" for method, path, violation in self.violations
        )
