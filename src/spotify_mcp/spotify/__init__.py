"""Spotify as an upstream: the accounts service, per-user credentials, and the Web API client."""
