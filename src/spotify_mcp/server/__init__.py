"""The MCP resource server: the MCPServer with its tools, bearer authentication, and the HTTP transports."""
