"""``docs/configuration.md``: every setting, rendered from the ``Settings`` model so it cannot drift."""

from __future__ import annotations

from typing import Any

from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from spotify_mcp.settings import Settings

HEADER = """\
# Configuration

Generated from `spotify_mcp.settings.Settings` by `make docs` (a test fails when this file and the code disagree).
Every setting is an environment variable; a `.env` file in the working directory is read too. Settings are
validated at start, and a wrong value stops the server with a message that says what to do.

| variable | meaning | default |
|---|---|---|
"""


def render_configuration_markdown() -> str:
    """The Markdown table of every setting, in declaration order."""
    rows = [
        f"| `{_env_name(name, field)}` | {field.description or ''} | {_default(field)} |"
        for name, field in Settings.model_fields.items()
    ]
    return HEADER + "\n".join(rows) + "\n"


def _env_name(name: str, field: FieldInfo) -> str:
    alias: Any = field.validation_alias
    choices = getattr(alias, "choices", None)
    return str(choices[0]) if choices else name.upper()


def _default(field: FieldInfo) -> str:
    if field.default_factory is not None:
        return "computed"
    if field.default is PydanticUndefined:
        return "required"
    value = field.default
    if value is None or value == () or value == "":
        return "none"
    if isinstance(value, tuple):
        return "`" + " ".join(str(v) for v in value) + "`"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    return f"`{value}`"
