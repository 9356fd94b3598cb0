"""The ``/account`` page: a person's own view of who holds access to their Spotify account through this server.

``session.py`` (the signed session cookie and CSRF tokens), ``signin.py`` (signing in with Spotify through the
consent machinery, finished at ``/callback``), ``listing.py`` (what the page lists), ``pat.py`` (personal
access tokens: issuing, revoking, deleting everything), ``page.py`` (HTML), ``routes.py`` (the endpoints).
"""
