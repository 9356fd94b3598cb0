"""docs/tools.md is what the server registers: regenerate it with `make docs` when tools change."""

from __future__ import annotations

from pathlib import Path

import pytest

from spotify_mcp.server.mcp_server import build_mcp_server
from spotify_mcp.services import Runtime
from spotify_mcp.tools.reference import EXAMPLES, render_tools_markdown

pytestmark = pytest.mark.anyio

DOC = Path(__file__).resolve().parents[2] / "docs" / "tools.md"


async def test_the_tool_reference_matches_the_registered_tools() -> None:
    rendered = await render_tools_markdown(build_mcp_server(Runtime()))
    assert DOC.read_text(encoding="utf-8") == rendered, "docs/tools.md is stale: run `make docs`"


async def test_every_tool_has_an_example_whose_arguments_it_declares() -> None:
    server = build_mcp_server(Runtime())
    tools = {t.name: t for t in await server.list_tools()}
    assert set(EXAMPLES) == set(tools)
    for name, arguments in EXAMPLES.items():
        assert set(arguments) <= set(tools[name].input_schema["properties"]), name
