"""Real-browser tests: Debian's Chromium driven by Playwright against the server on loopback sockets."""
