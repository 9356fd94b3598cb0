"""Operating the server: health and readiness, Prometheus metrics, request ids and safe logs.

``observers`` holds the no-op hooks the rest of the code reports to (so it never depends on Prometheus);
``metrics`` implements them on a per-app ``CollectorRegistry``; ``request_id`` and ``logs`` give every log
record of a request the same id and scrub secrets from it; ``health`` answers ``/readyz``.
"""
