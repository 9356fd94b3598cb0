"""``spotify-mcp admin …`` (clients, users, keys, migrations of the configured store) and ``config check``."""

from spotify_mcp.admin.wiring import add_commands, run

__all__ = ["add_commands", "run"]
