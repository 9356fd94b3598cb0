"""The home page (``/``): what this server is, its MCP URL, and a copyable way to connect each kind of client."""

from __future__ import annotations

import json
from html import escape

from spotify_mcp.web.pages import document


def client_snippets(mcp_url: str) -> list[tuple[str, str, str]]:
    """(client, how, snippet) for each client the home page and docs/clients.md describe."""
    remote = {"mcpServers": {"spotify": {"command": "npx", "args": ["-y", "mcp-remote", mcp_url]}}}
    librechat = (
        "mcpServers:\n"
        "  spotify:\n"
        "    type: streamable-http\n"
        f"    url: {mcp_url}\n"
        "    headers:\n"
        '      Authorization: "Bearer ${SPOTIFY_MCP_PAT}"'
    )
    return [
        ("MCP Inspector", "Run it, then switch the server's card on and approve in the browser:",
         f"npx @modelcontextprotocol/inspector --transport http --server-url {mcp_url}"),
        ("Claude (claude.ai, Claude Desktop)", "Settings → Connectors → Add custom connector, with the URL:", mcp_url),
        ("Claude Code", "In a terminal:", f"claude mcp add --transport http spotify {mcp_url}"),
        ("Clients that only speak stdio (through mcp-remote)", "In the client's MCP configuration:",
         json.dumps(remote, indent=2)),
        ("LibreChat", "In librechat.yaml, with a personal access token from your account page in SPOTIFY_MCP_PAT:",
         librechat),
    ]  # fmt: skip


def home_page(*, mcp_url: str, callback_url: str) -> str:
    """What this server is and how to connect to it."""
    sections = "".join(
        f"<h2>{escape(client)}</h2><p>{escape(how)}</p><pre>{escape(snippet)}</pre>"
        for client, how, snippet in client_snippets(mcp_url)
    )
    body = f"""
<h1>Spotify MCP server</h1>
<p>This server lets AI assistants use your Spotify account through the Model Context Protocol.
Connect an MCP client to:</p>
<pre>{escape(mcp_url)}</pre>
<p>The client will ask you to approve it and to sign in to Spotify. Your Spotify tokens never leave this
server.</p>
{sections}
<h2>Your account</h2>
<p>See and revoke what has access to your Spotify account, or create a personal access token for a client
that takes a fixed header: <a href="/account">your account</a>.</p>
<p class=muted>Spotify app redirect URI for this server: <code>{escape(callback_url)}</code></p>"""
    return document("Spotify MCP server", body)
