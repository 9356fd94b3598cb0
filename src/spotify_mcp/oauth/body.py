"""Bounded request-body reading, so no endpoint buffers more than it needs."""

from __future__ import annotations

from urllib.parse import parse_qsl

from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request

MAX_FORM_BYTES = 16 * 1024


class BodyTooLarge(ValueError):
    """The request body exceeded the endpoint's limit."""


class BadForm(ValueError):
    """The request body is not a well-formed urlencoded form."""


async def read_limited(request: Request, limit: int) -> bytes:
    """Read the body, refusing it as soon as it grows past ``limit`` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge(f"body larger than {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(f"body larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


async def read_form(request: Request, limit: int = MAX_FORM_BYTES) -> FormData:
    """Parse an ``application/x-www-form-urlencoded`` body; repeated parameters are refused."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        raise BadForm("the body must be application/x-www-form-urlencoded")
    raw = await read_limited(request, limit)
    try:
        pairs = parse_qsl(raw.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except UnicodeDecodeError:
        raise BadForm("the body is not valid UTF-8") from None
    names = [name for name, _ in pairs]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise BadForm(f"parameters must not be repeated: {', '.join(duplicates)}")
    items: list[tuple[str, str | UploadFile]] = list(pairs)
    return FormData(items)
