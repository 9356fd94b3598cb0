"""The Spotify emulator in a process of its own, as the benchmark runs it (Spotify is not in our process either).

``python -m tests.replicas.emulator_process --port N --redirect-uri http://127.0.0.1:P/callback`` (from the
repository root). The app registration is the tests' (``tests.support.SPOTIFY_CLIENT_ID``/``SECRET``).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

import uvicorn

from spotify_mcp.emulator import EmulatorConfig, create_emulator_app
from tests.support import SPOTIFY_CLIENT_ID, SPOTIFY_CLIENT_SECRET


def main(argv: Sequence[str] | None = None) -> int:
    """Serve the emulator on 127.0.0.1 until SIGTERM/SIGINT."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--redirect-uri", action="append", required=True, help="a registered redirect URI")
    args = parser.parse_args(argv)
    app = create_emulator_app(
        EmulatorConfig(
            client_id=SPOTIFY_CLIENT_ID, client_secret=SPOTIFY_CLIENT_SECRET, redirect_uris=args.redirect_uri
        )
    )
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", access_log=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
