"""Tests of the Spotify upstream client: accounts, credentials and the Web API."""
