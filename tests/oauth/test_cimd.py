"""Client ID Metadata Documents: URL rules, SSRF and DNS pinning, fetch limits, caching (CIMD R1–R11)."""

from __future__ import annotations

import ipaddress
import json
import socket
import ssl
import threading
from collections import Counter
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import httpx2
import pytest
import uvicorn
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from spotify_mcp.clock import ManualClock
from spotify_mcp.oauth.cimd import CIMDError, CIMDFetcher, IPAddress, is_cimd_client_id, is_public_address

JSON = ("content-type", "application/json")


@dataclass
class Reply:
    """What the local document server answers on one path."""

    status: int = 200
    headers: list[tuple[str, str]] = field(default_factory=lambda: [JSON])
    chunks: list[bytes] = field(default_factory=list)
    chunked: bool = False
    hang: bool = False


class DocServer:
    """A real HTTP(S) server on 127.0.0.1 (uvicorn in a thread) serving scripted replies."""

    def __init__(self, *, certfile: Path | None = None, keyfile: Path | None = None) -> None:
        self.replies: dict[str, Reply] = {}
        self.hits: Counter[str] = Counter()
        self.hosts: list[str] = []
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.bind(("127.0.0.1", 0))
        self._socket.listen()
        self.port: int = self._socket.getsockname()[1]
        tls: dict[str, Any] = {"ssl_certfile": str(certfile), "ssl_keyfile": str(keyfile)} if certfile else {}
        config = uvicorn.Config(
            self._app,
            lifespan="off",
            interface="asgi3",
            log_config=None,
            access_log=False,
            date_header=False,
            server_header=False,
            ws="none",
            http="h11",
            **tls,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True)
        self._thread.start()

    def url(self, path: str) -> str:
        """The http URL of ``path`` on this server."""
        return f"http://127.0.0.1:{self.port}{path}"

    def serve_document(self, path: str, document: object, headers: Sequence[tuple[str, str]] = ()) -> None:
        """Serve ``document`` as JSON at ``path``."""
        self.replies[path] = Reply(headers=[JSON, *headers], chunks=[json.dumps(document).encode()])

    def reset(self) -> None:
        """Forget the replies and counters of the previous test."""
        self.replies.clear()
        self.hits.clear()
        self.hosts.clear()

    def close(self) -> None:
        """Stop the server and wait for its thread."""
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._socket.close()

    async def _app(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        path = scope["path"]
        self.hits[path] += 1
        self.hosts.append(dict(scope["headers"]).get(b"host", b"").decode())
        reply = self.replies.get(path, Reply(status=404, chunks=[b"{}"]))
        if reply.hang:
            while (await receive())["type"] != "http.disconnect":
                pass
            return
        headers = [(name.encode(), value.encode()) for name, value in reply.headers]
        if not reply.chunked:
            headers.append((b"content-length", str(sum(map(len, reply.chunks))).encode()))
        await send({"type": "http.response.start", "status": reply.status, "headers": headers})
        for chunk in reply.chunks:
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})


@pytest.fixture(scope="module")
def module_server() -> Iterator[DocServer]:
    """One plain-HTTP document server for the module."""
    server = DocServer()
    yield server
    server.close()


@pytest.fixture
def server(module_server: DocServer) -> DocServer:
    """The module's document server, with no replies configured."""
    module_server.reset()
    return module_server


@pytest.fixture
def clock() -> ManualClock:
    """A clock the tests move by hand."""
    return ManualClock()


@pytest.fixture
async def http() -> AsyncIterator[httpx2.AsyncClient]:
    """An HTTP client that ignores proxy settings from the environment."""
    async with httpx2.AsyncClient(trust_env=False) as client:
        yield client


def dev_fetcher(http: httpx2.AsyncClient, clock: ManualClock, **options: Any) -> CIMDFetcher:
    """A fetcher allowed to read http://127.0.0.1 documents (development mode)."""
    return CIMDFetcher(http, clock, allow_http_loopback=True, allow_private_addresses=True, **options)


def document_for(client_id: str, **overrides: Any) -> dict[str, Any]:
    """A valid client metadata document for ``client_id``."""
    return {
        "client_id": client_id,
        "client_name": "Example MCP Client",
        "redirect_uris": ["http://127.0.0.1/callback"],
        "token_endpoint_auth_method": "none",
        **overrides,
    }


async def refused(fetcher: CIMDFetcher, client_id: str, match: str) -> CIMDError:
    """Assert that fetching ``client_id`` fails with a description matching ``match``."""
    with pytest.raises(CIMDError, match=match) as caught:
        await fetcher.get(client_id)
    assert caught.value.description == str(caught.value)
    return caught.value


# -- client_id URL rules (R7) ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("client_id", "expected"),
    [
        ("https://app.example/oauth/client.json", True),
        ("https://app.example:8443/client", True),
        ("https://app.example/", False),
        ("https://app.example", False),
        ("http://app.example/client.json", False),
        ("https://app.example/a/../client.json", False),
        ("https://app.example/./client.json", False),
        ("https://app.example/%2E%2E/client.json", False),
        ("https://app.example/client.json#frag", False),
        ("https://user:pw@app.example/client.json", False),
        ("https://app.example/client.json?v=1", False),
        ("https://app.example/client json", False),
        ("https://аpp.example/client.json", False),
        ("client-123", False),
        ("", False),
    ],
)
def test_a_client_id_is_a_metadata_url_only_if_the_draft_allows_it(client_id: str, expected: bool) -> None:
    assert is_cimd_client_id(client_id) is expected


# -- address checks (R10), pure ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "address",
    [
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "127.0.0.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "224.0.0.1",
        "240.0.0.1",
        "255.255.255.255",
        "192.0.2.1",
        "::1",
        "::",
        "fe80::1",
        "fc00::1",
        "ff02::1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "::ffff:169.254.169.254",
        "2002:a00:1::",
        "64:ff9b::7f00:1",
        "2001:db8::1",
    ],
)
def test_a_private_or_reserved_address_is_not_public(address: str) -> None:
    assert not is_public_address(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "2606:4700::1111", "::ffff:8.8.8.8"])
def test_a_global_unicast_address_is_public(address: str) -> None:
    assert is_public_address(ipaddress.ip_address(address))


# -- pinning and SSRF through an injected resolver and a mock transport (no network) ---------------------


class Resolver:
    """A scripted resolver: each call pops the next answer."""

    def __init__(self, *answers: Sequence[str]) -> None:
        self.answers = list(answers)
        self.calls: list[tuple[str, int]] = []

    async def __call__(self, host: str, port: int) -> Sequence[IPAddress]:
        self.calls.append((host, port))
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if not answer:
            raise socket.gaierror("no such host")
        return [ipaddress.ip_address(a) for a in answer]


APP_URL = "https://app.example/oauth/client.json"


class Recorder:
    """A mock transport handler that records requests and serves a valid document."""

    def __init__(self, refuse_hosts: Sequence[str] = ()) -> None:
        self.requests: list[httpx2.Request] = []
        self.refuse_hosts = set(refuse_hosts)

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(request)
        if request.url.host in self.refuse_hosts:
            raise httpx2.ConnectError("refused", request=request)
        return httpx2.Response(200, json=document_for(APP_URL), headers={"cache-control": "max-age=120"})


@pytest.mark.anyio
async def test_the_fetch_is_pinned_to_the_checked_address(clock: ManualClock) -> None:
    resolver, recorder = Resolver(["93.184.216.34"]), Recorder()
    async with httpx2.AsyncClient(transport=httpx2.MockTransport(recorder)) as http:
        metadata = await CIMDFetcher(http, clock, resolver=resolver).get(APP_URL)
    assert metadata.client_name == "Example MCP Client"
    assert resolver.calls == [("app.example", 443)]
    (request,) = recorder.requests
    assert str(request.url) == "https://93.184.216.34/oauth/client.json"
    assert request.headers["host"] == "app.example"
    assert request.extensions["sni_hostname"] == "app.example"
    assert request.headers["connection"] == "close"


@pytest.mark.anyio
async def test_a_dns_rebind_to_a_private_address_is_refused_on_the_next_fetch(clock: ManualClock) -> None:
    resolver, recorder = Resolver(["93.184.216.34"], ["127.0.0.1"]), Recorder()
    async with httpx2.AsyncClient(transport=httpx2.MockTransport(recorder)) as http:
        fetcher = CIMDFetcher(http, clock, resolver=resolver)
        await fetcher.get(APP_URL)
        clock.advance(121)
        await refused(fetcher, APP_URL, "private or reserved address")
    assert len(recorder.requests) == 1
    assert len(resolver.calls) == 2


@pytest.mark.anyio
@pytest.mark.parametrize(
    "answer", [["10.0.0.7"], ["93.184.216.34", "10.0.0.7"], ["169.254.169.254"], ["::ffff:127.0.0.1"]]
)
async def test_a_cimd_fetch_to_a_private_address_is_refused(clock: ManualClock, answer: list[str]) -> None:
    # R10: refused if ANY resolved address is not public; nothing is sent
    recorder = Recorder()
    async with httpx2.AsyncClient(transport=httpx2.MockTransport(recorder)) as http:
        await refused(CIMDFetcher(http, clock, resolver=Resolver(answer)), APP_URL, "private or reserved")
    assert recorder.requests == []


@pytest.mark.anyio
@pytest.mark.parametrize(
    "client_id", ["https://10.0.0.1/client.json", "https://[::1]/client.json", "https://127.0.0.1:8443/c"]
)
async def test_a_private_ip_literal_client_id_is_refused_without_resolving(clock: ManualClock, client_id: str) -> None:
    resolver, recorder = Resolver(["93.184.216.34"]), Recorder()
    async with httpx2.AsyncClient(transport=httpx2.MockTransport(recorder)) as http:
        await refused(CIMDFetcher(http, clock, resolver=resolver), client_id, "private or reserved")
    assert resolver.calls == []
    assert recorder.requests == []


@pytest.mark.anyio
async def test_localhost_is_refused_through_the_system_resolver(http: httpx2.AsyncClient, clock: ManualClock) -> None:
    await refused(CIMDFetcher(http, clock), "https://localhost/client.json", "private or reserved")


@pytest.mark.anyio
async def test_an_unresolvable_host_is_refused(clock: ManualClock) -> None:
    async with httpx2.AsyncClient(transport=httpx2.MockTransport(Recorder())) as http:
        await refused(CIMDFetcher(http, clock, resolver=Resolver([])), APP_URL, "could not be resolved")


@pytest.mark.anyio
async def test_the_next_checked_address_is_tried_when_one_refuses_connections(clock: ManualClock) -> None:
    resolver = Resolver(["93.184.216.34", "93.184.216.35"])
    recorder = Recorder(refuse_hosts=["93.184.216.34"])
    async with httpx2.AsyncClient(transport=httpx2.MockTransport(recorder)) as http:
        await CIMDFetcher(http, clock, resolver=resolver).get(APP_URL)
    assert [r.url.host for r in recorder.requests] == ["93.184.216.34", "93.184.216.35"]


@pytest.mark.anyio
@pytest.mark.parametrize(
    "client_id",
    ["client-123", "https://app.example/", "https://app.example/c?x=1", "https://app.example/c#f"],
)
async def test_a_client_id_that_is_not_a_metadata_url_is_refused(http: httpx2.AsyncClient, client_id: str) -> None:
    await refused(CIMDFetcher(http, ManualClock()), client_id, "not a valid metadata document URL")


# -- real fetches from a local server (development mode: http://127.0.0.1) --------------------------------


@pytest.mark.anyio
async def test_a_valid_cimd_document_is_fetched(
    server: DocServer, http: httpx2.AsyncClient, clock: ManualClock
) -> None:
    client_id = server.url("/client.json")
    server.serve_document("/client.json", document_for(client_id))
    metadata = await dev_fetcher(http, clock).get(client_id)
    assert metadata.client_name == "Example MCP Client"
    assert metadata.token_endpoint_auth_method == "none"
    assert server.hosts == [f"127.0.0.1:{server.port}"]


@pytest.mark.anyio
async def test_an_http_client_id_is_refused_outside_development_mode(
    server: DocServer, http: httpx2.AsyncClient, clock: ManualClock
) -> None:
    client_id = server.url("/client.json")
    server.serve_document("/client.json", document_for(client_id))
    await refused(CIMDFetcher(http, clock, allow_private_addresses=True), client_id, "must be an https URL")
    assert server.hits["/client.json"] == 0


@pytest.mark.anyio
async def test_development_mode_accepts_only_loopback_http_literals(
    http: httpx2.AsyncClient, clock: ManualClock
) -> None:
    await refused(dev_fetcher(http, clock), "http://localhost:1/client.json", "must be an https URL")
    await refused(dev_fetcher(http, clock), "http://10.0.0.1/client.json", "must be an https URL")


@pytest.mark.anyio
async def test_a_cimd_document_whose_client_id_differs_is_refused(
    server: DocServer, http: httpx2.AsyncClient, clock: ManualClock
) -> None:
    # R2
    client_id = server.url("/client.json")
    server.serve_document("/client.json", document_for(client_id + "/"))
    await refused(dev_fetcher(http, clock), client_id, "client_id must be exactly the URL")


@pytest.mark.anyio
async def test_a_cimd_document_with_a_client_secret_method_is_refused(
    server: DocServer, http: httpx2.AsyncClient, clock: ManualClock
) -> None:
    # R8
    client_id = server.url("/client.json")
    server.serve_document("/client.json", document_for(client_id, token_endpoint_auth_method="client_secret_basic"))
    await refused(dev_fetcher(http, clock), client_id, "token_endpoint_auth_method")


@pytest.mark.anyio
async def test_a_redirecting_cimd_url_is_refused(
    server: DocServer, http: httpx2.AsyncClient, clock: ManualClock
) -> None:
    # R11: redirects are never followed
    client_id = server.url("/old.json")
    server.serve_document("/new.json", document_for(client_id))
    server.replies["/old.json"] = Reply(status=302, headers=[("location", server.url("/new.json"))])
    await refused(dev_fetcher(http, clock), client_id, "redirect")
    assert server.hits["/new.json"] == 0


@pytest.mark.anyio
@pytest.mark.parametrize("status", [201, 204, 404, 500])
async def test_a_cimd_url_answering_other_than_200_is_refused(
    server: DocServer, http: httpx2.AsyncClient, clock: ManualClock, status: int
) -> None:
    # R9, R11
    client_id = server.url("/client.json")
    server.replies["/client.json"] = Reply(status=status, chunks=[json.dumps(document_for(client_id)).encode()])
    await refused(dev_fetcher(http, clock), client_id, f"HTTP {status}")


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("content_type", "accepted"),
    [
        ("application/json; charset=utf-8", True),
        ("application/vnd.example+json", True),
        ("text/html", False),
        ("text/plain", False),
        ("application/jsonp", False),
    ],
)
async def test_a_cimd_document_must_be_served_as_json(
    server: DocServer, http: httpx2.AsyncClient, clock: ManualClock, content_type: str, accepted: bool
) -> None:
    # R11
    client_id = server.url("/client.json")
    body = json.dumps(document_for(client_id)).encode()
    server.replies["/client.json"] = Reply(headers=[("content-type", content_type)], chunks=[body])
    if accepted:
        assert (await dev_fetcher(http, clock).get(client_id)).redirect_uris
    else:
        await refused(dev_fetcher(http, clock), client_id, "application/json")


@pytest.mark.anyio
@pytest.mark.parametrize("chunked", [False, True])
async def test_an_oversized_cimd_document_is_refused(
    server: DocServer, http: httpx2.AsyncClient, clock: ManualClock, chunked: bool
) -> None:
    # R11: 5 KB cap, whether or not Content-Length announces it
    client_id = server.url("/client.json")
    body = json.dumps(document_for(client_id, client_uri="https://app.example/" + "a" * 1500)).encode()
    padding = b" " * 4000
    server.replies["/client.json"] = Reply(chunks=[body, padding, padding], chunked=chunked)
    await refused(dev_fetcher(http, clock), client_id, "larger than 5120 bytes")


@pytest.mark.anyio
async def test_a_compressed_cimd_document_is_refused(
    server: DocServer, http: httpx2.AsyncClient, clock: ManualClock
) -> None:
    client_id = server.url("/client.json")
    server.replies["/client.json"] = Reply(headers=[JSON, ("content-encoding", "gzip")], chunks=[b"\x1f\x8b"])
    await refused(dev_fetcher(http, clock), client_id, "compressed")


@pytest.mark.anyio
@pytest.mark.parametrize(
    "body",
    [b"not json", b'{"client_id": "a", "client_id": "b"}', b"[" * 5000, b'{"x": NaN}', b"\xff\xfe{}", b"[]"],
)
async def test_a_malformed_cimd_document_is_refused(
    server: DocServer, http: httpx2.AsyncClient, clock: ManualClock, body: bytes
) -> None:
    # R5
    client_id = server.url("/client.json")
    server.replies["/client.json"] = Reply(chunks=[body])
    await refused(dev_fetcher(http, clock), client_id, "not valid JSON|must be a JSON object")


@pytest.mark.anyio
async def test_a_hanging_cimd_url_times_out(server: DocServer, http: httpx2.AsyncClient, clock: ManualClock) -> None:
    client_id = server.url("/client.json")
    server.replies["/client.json"] = Reply(hang=True)
    await refused(dev_fetcher(http, clock, timeout=0.3), client_id, "timed out")


# -- caching (R3) -------------------------------------------------------------------------------------------


async def fetch_twice_around(
    server: DocServer,
    http: httpx2.AsyncClient,
    headers: Sequence[tuple[str, str]],
    before: float,
    after: float,
) -> tuple[int, int]:
    """Fetch, refetch ``before`` and ``after`` seconds later; return the server's hit counts then."""
    clock = ManualClock()
    client_id = server.url("/client.json")
    server.serve_document("/client.json", document_for(client_id), headers)
    fetcher = dev_fetcher(http, clock)
    await fetcher.get(client_id)
    clock.advance(before)
    await fetcher.get(client_id)
    hits_before = server.hits["/client.json"]
    clock.advance(after - before)
    await fetcher.get(client_id)
    return hits_before, server.hits["/client.json"]


@pytest.mark.anyio
async def test_a_cimd_document_is_cached_for_its_max_age(server: DocServer, http: httpx2.AsyncClient) -> None:
    hits = await fetch_twice_around(server, http, [("cache-control", "public, max-age=300")], 299, 300)
    assert hits == (1, 2)


@pytest.mark.anyio
async def test_the_age_header_shortens_the_cache_lifetime(server: DocServer, http: httpx2.AsyncClient) -> None:
    headers = [("cache-control", "max-age=300"), ("age", "100")]
    assert await fetch_twice_around(server, http, headers, 199, 200) == (1, 2)


@pytest.mark.anyio
async def test_a_short_max_age_is_raised_to_the_minimum(server: DocServer, http: httpx2.AsyncClient) -> None:
    assert await fetch_twice_around(server, http, [("cache-control", "max-age=0")], 59, 60) == (1, 2)


@pytest.mark.anyio
async def test_a_long_max_age_is_capped_at_the_maximum(server: DocServer, http: httpx2.AsyncClient) -> None:
    headers = [("cache-control", "max-age=99999999999999999999999")]
    assert await fetch_twice_around(server, http, headers, 86399, 86400) == (1, 2)


@pytest.mark.anyio
async def test_a_document_without_cache_headers_is_cached_for_the_minimum(
    server: DocServer, http: httpx2.AsyncClient
) -> None:
    assert await fetch_twice_around(server, http, [], 59, 60) == (1, 2)


@pytest.mark.anyio
async def test_expires_is_honoured_relative_to_the_date_header(server: DocServer, http: httpx2.AsyncClient) -> None:
    date = datetime(2026, 1, 1, tzinfo=UTC)
    headers = [
        ("date", format_datetime(date, usegmt=True)),
        ("expires", format_datetime(date + timedelta(seconds=600), usegmt=True)),
    ]
    assert await fetch_twice_around(server, http, headers, 599, 600) == (1, 2)


@pytest.mark.anyio
@pytest.mark.parametrize("directive", ["no-store", "no-cache", "max-age=600, no-store"])
async def test_a_no_store_document_is_fetched_every_time(
    server: DocServer, http: httpx2.AsyncClient, directive: str
) -> None:
    assert await fetch_twice_around(server, http, [("cache-control", directive)], 1, 2) == (2, 3)


@pytest.mark.anyio
async def test_errors_and_invalid_documents_are_not_cached(
    server: DocServer, http: httpx2.AsyncClient, clock: ManualClock
) -> None:
    client_id = server.url("/client.json")
    fetcher = dev_fetcher(http, clock)
    server.replies["/client.json"] = Reply(status=500, headers=[JSON, ("cache-control", "max-age=600")])
    await refused(fetcher, client_id, "HTTP 500")
    server.serve_document("/client.json", {"client_id": client_id}, [("cache-control", "max-age=600")])
    await refused(fetcher, client_id, "redirect_uris is required")
    server.serve_document("/client.json", document_for(client_id))
    assert (await fetcher.get(client_id)).client_name == "Example MCP Client"
    assert server.hits["/client.json"] == 3


@pytest.mark.anyio
async def test_the_cache_evicts_the_least_recently_used_document(
    server: DocServer, http: httpx2.AsyncClient, clock: ManualClock
) -> None:
    ids = {name: server.url(f"/{name}.json") for name in ("a", "b", "c")}
    for name, client_id in ids.items():
        server.serve_document(f"/{name}.json", document_for(client_id))
    fetcher = dev_fetcher(http, clock, max_entries=2)
    for name in ("a", "b", "a", "c", "a", "b"):
        await fetcher.get(ids[name])
    assert server.hits == Counter({"/a.json": 1, "/b.json": 2, "/c.json": 1})


# -- TLS: the pinned connection still verifies the certificate for the client_id's host name ---------------


def self_signed(directory: Path, hostname: str) -> tuple[Path, Path, str]:
    """A throwaway certificate for ``hostname``: (certfile, keyfile, PEM to trust)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostname)])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(hostname)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    pem = cert.public_bytes(serialization.Encoding.PEM)
    certfile, keyfile = directory / "cert.pem", directory / "key.pem"
    certfile.write_bytes(pem)
    keyfile.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return certfile, keyfile, pem.decode()


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[DocServer, str]]:
    """An HTTPS document server on 127.0.0.1 whose certificate names ``cimd.test``; yields it and its PEM."""
    certfile, keyfile, pem = self_signed(tmp_path_factory.mktemp("tls"), "cimd.test")
    server = DocServer(certfile=certfile, keyfile=keyfile)
    yield server, pem
    server.close()


@pytest.mark.anyio
async def test_a_pinned_https_fetch_sends_the_host_name_for_sni_and_host(
    tls_server: tuple[DocServer, str], clock: ManualClock
) -> None:
    server, pem = tls_server
    server.reset()
    client_id = f"https://cimd.test:{server.port}/client.json"
    server.serve_document("/client.json", document_for(client_id))
    resolver = Resolver(["127.0.0.1"])
    async with httpx2.AsyncClient(verify=ssl.create_default_context(cadata=pem), trust_env=False) as http:
        fetcher = CIMDFetcher(http, clock, allow_private_addresses=True, resolver=resolver)
        assert (await fetcher.get(client_id)).client_name == "Example MCP Client"
    assert server.hosts == [f"cimd.test:{server.port}"]


@pytest.mark.anyio
async def test_a_pinned_https_fetch_fails_when_the_certificate_does_not_name_the_host(
    tls_server: tuple[DocServer, str], clock: ManualClock
) -> None:
    # A good fetch first: its connection to 127.0.0.1 must not be reused for another name.
    server, pem = tls_server
    server.reset()
    good_id = f"https://cimd.test:{server.port}/good.json"
    other_id = f"https://other.test:{server.port}/client.json"
    server.serve_document("/good.json", document_for(good_id))
    server.serve_document("/client.json", document_for(other_id))
    async with httpx2.AsyncClient(verify=ssl.create_default_context(cadata=pem), trust_env=False) as http:
        fetcher = CIMDFetcher(http, clock, allow_private_addresses=True, resolver=Resolver(["127.0.0.1"]))
        await fetcher.get(good_id)
        await refused(fetcher, other_id, "could not connect")
    assert server.hits["/client.json"] == 0
