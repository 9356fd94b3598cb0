"""``ToolKit``: registers tools with their Spotify scopes and true annotations, and shapes their results."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol, TypeVar

from mcp.server.mcpserver import MCPServer
from mcp.types import CallToolResult, TextContent, ToolAnnotations

from spotify_mcp.services import Runtime
from spotify_mcp.tools.upstream import RECONNECT_HINT, Reply, call

F = TypeVar("F", bound=Callable[..., Any])

SCOPES_META_KEY = "spotify-mcp/scopes"


class Structured(Protocol):
    """A result model."""

    def model_dump(self, *, mode: str) -> dict[str, Any]:
        """The structured form."""
        ...


class Renderable(Structured, Protocol):
    """A result model with a short text rendering."""

    def text(self) -> str:
        """The text a model reads."""
        ...


def answer(result: Renderable | Structured, *, text: str | None = None) -> CallToolResult:
    """A tool result carrying the short text (the model's own, or ``text``) and the structured content."""
    if text is None:
        if not hasattr(result, "text"):
            raise TypeError(f"{type(result).__name__} has no text rendering; pass text=")
        text = result.text()
    return CallToolResult(
        content=[TextContent(type="text", text=text)],
        structured_content=result.model_dump(mode="json"),
    )


class ToolKit:
    """What every tool module registers through: the server, the runtime and the scope table."""

    def __init__(self, server: MCPServer, runtime: Runtime, *, reconnect_hint: str = RECONNECT_HINT) -> None:
        self.server = server
        self.runtime = runtime
        self.reconnect_hint = reconnect_hint
        self.scopes: dict[str, tuple[str, ...]] = {}

    def tool(
        self,
        name: str,
        *,
        title: str,
        description: str,
        scopes: tuple[str, ...],
        read_only: bool = False,
        destructive: bool = False,
        idempotent: bool = False,
    ) -> Callable[[F], F]:
        """Register the decorated function as tool ``name`` needing the Spotify ``scopes``."""
        annotations = ToolAnnotations(
            title=title,
            read_only_hint=read_only,
            destructive_hint=False if read_only else destructive,
            idempotent_hint=True if read_only else idempotent,
            open_world_hint=True,
        )

        def register(fn: F) -> F:
            if name in self.scopes:
                raise ValueError(f"tool {name} is registered twice")
            self.scopes[name] = scopes
            self.server.add_tool(
                fn,
                name=name,
                title=title,
                description=description,
                annotations=annotations,
                meta={SCOPES_META_KEY: list(scopes)},
            )
            return fn

        return register

    async def spotify(
        self,
        user_id: str,
        method: str,
        path: str,
        *,
        params: Mapping[str, str | int] | None = None,
        json: Any = None,
        tolerate: tuple[str, ...] = (),
        not_found: str | None = None,
    ) -> Reply:
        """Call the Web API for ``user_id`` with failures turned into advice (see ``upstream.call``)."""
        return await call(
            self.runtime,
            user_id,
            method,
            path,
            params=params,
            json=json,
            tolerate=tolerate,
            not_found=not_found,
            reconnect_hint=self.reconnect_hint,
        )
