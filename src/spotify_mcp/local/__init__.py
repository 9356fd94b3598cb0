"""Local mode: one person's own Spotify account on their own machine, over stdio.

``spotify-mcp login`` signs in to Spotify once through a loopback redirect (PKCE, with or without a client
secret) and stores the tokens sealed in the data directory; ``spotify-mcp stdio`` then serves the same
toolset over stdio, every tool call acting as that signed-in user.
"""
