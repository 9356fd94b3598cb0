"""spotify-mcp: a remote MCP server for Spotify that is its own OAuth 2.1 authorization server."""
