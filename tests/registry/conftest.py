"""Local registry servers for the lookups: an RDAP HTTP server and a WHOIS TCP server.

Both listen on 127.0.0.1 on a free port and serve the shared fixtures (the formats real
registries send). Tests change `answers` to make a registry slow, broken or silent.
"""

from __future__ import annotations

import asyncio
import contextlib
import email
import email.policy
import json
import socket
import socketserver
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

# The repository sits beside shared/ (here and in CI).
SHARED = Path(__file__).resolve().parents[3] / "shared" / "fixtures"
LOCAL = Path(__file__).resolve().parent / "fixtures"


def fixture_text(name: str) -> str:
    for base in (SHARED, LOCAL):
        path = base / name
        if path.exists():
            return path.read_text(encoding="utf-8")
    raise FileNotFoundError(name)


@dataclass
class Answer:
    status: int = 200
    body: str = ""
    delay: float = 0.0


@dataclass
class RdapServer:
    port: int
    answers: dict[str, Answer] = field(default_factory=dict)  # path -> answer
    requests: list[str] = field(default_factory=list)
    delay: float = 0.0  # for every request

    def serve(self, path: str, body: str, status: int = 200, delay: float = 0.0) -> None:
        self.answers[path.lower()] = Answer(status, body, delay)

    def bootstrap(self, tmp_path: Path) -> Path:
        """The shared IANA-format bootstrap, pointed at this server."""
        text = fixture_text("rdap/bootstrap-dns.json").replace(
            "127.0.0.1:8053", f"127.0.0.1:{self.port}"
        )
        path = tmp_path / "bootstrap.json"
        path.write_text(text)
        return path


def _rdap_handler(state: RdapServer):
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's name)
            state.requests.append(self.path)
            answer = state.answers.get(self.path.lower(), Answer(404, '{"errorCode": 404}'))
            delay = answer.delay or state.delay
            if delay:
                time.sleep(delay)
            body = answer.body.encode()
            try:
                self.send_response(answer.status)
                self.send_header("Content-Type", "application/rdap+json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (timeout tests)

        def log_message(self, *args):
            pass

    return Handler


def standard_rdap_answers() -> dict[str, Answer]:
    return {
        "/uk/domain/stmarys.essex.sch.uk": Answer(
            body=fixture_text("rdap/stmarys.essex.sch.uk.json")
        ),
        "/verisign/domain/example-academy.com": Answer(
            body=fixture_text("rdap-verisign-example-academy.com.json")
        ),
        "/org/domain/stmarys-pta.org": Answer(body=fixture_text("rdap-pir-stmarys-pta.org.json")),
    }


# The registrant contact Route 53 Domains needs (ROUTE53DOMAINS_CONTACT), for tests.
CONTACT = {
    "FirstName": "Terry",
    "LastName": "Technician",
    "ContactType": "COMPANY",
    "OrganizationName": "Schools IT",
    "AddressLine1": "1 High Street",
    "City": "Chelmsford",
    "CountryCode": "GB",
    "ZipCode": "CM1 1AA",
    "PhoneNumber": "+44.1245000000",
    "Email": "it@provider.example",
}


@pytest.fixture
def rdap_server():
    state = RdapServer(port=0, answers=standard_rdap_answers())
    server = ThreadingHTTPServer(("127.0.0.1", 0), _rdap_handler(state))
    server.daemon_threads = True
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


@dataclass
class WhoisServer:
    port: int
    answers: dict[str, str] = field(default_factory=dict)  # query -> text
    queries: list[str] = field(default_factory=list)
    delay: float = 0.0
    default: str = ""

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"


def _whois_handler(state: WhoisServer):
    class Handler(socketserver.StreamRequestHandler):
        def handle(self):
            query = self.rfile.readline().decode("ascii", "replace").strip()
            state.queries.append(query)
            if state.delay:
                time.sleep(state.delay)
            text = state.answers.get(query.lower(), state.default)
            try:
                self.wfile.write(text.encode())
            except (BrokenPipeError, ConnectionResetError):
                pass

    return Handler


def standard_whois_answers() -> dict[str, str]:
    return {
        "stmarys.essex.sch.uk": fixture_text("whois/nominet_registered.txt"),
        "oldschool.co.uk": fixture_text("whois/nominet_old.txt"),
        "nosuchschool.sch.uk": fixture_text("whois/nominet_nomatch.txt"),
        "example-academy.com": fixture_text("whois/verisign_com.txt"),
        "nosuchdomain-xyz.com": fixture_text("whois/verisign_nomatch.txt"),
    }


class _TCPServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


@pytest.fixture
def whois_server():
    state = WhoisServer(port=0, answers=standard_whois_answers())
    server = _TCPServer(("127.0.0.1", 0), _whois_handler(state))
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture(name="fixture_text")
def fixture_text_fixture():
    return fixture_text


@pytest.fixture
def dead_port():
    """A port on 127.0.0.1 with nothing listening (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def whois_map(tmp_path, whois_server):
    """A PROVISIONER_WHOIS_SERVERS file sending uk, com and net to the local server."""
    path = tmp_path / "whois-servers.json"
    path.write_text(
        json.dumps(
            {"uk": whois_server.address, "com": whois_server.address, "net": whois_server.address}
        )
    )
    return path


class SmtpSink:
    """A real SMTP server (aiosmtpd) on 127.0.0.1 that keeps what it receives."""

    def __init__(self):
        self.messages: list = []  # email.message.EmailMessage
        self.envelopes: list[tuple[str, list[str]]] = []
        self.port = 0
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self._lock:
            self.messages.append(message)
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 OK"


@contextlib.contextmanager
def serve_smtp(handler, **smtp_options):
    """A real aiosmtpd server on 127.0.0.1 for `handler`; yields its port."""
    from aiosmtpd.smtp import SMTP

    loop = asyncio.new_event_loop()
    # Our own loop rather than aiosmtpd's Controller, so port 0 (a free port) works.
    server = loop.run_until_complete(
        loop.create_server(
            lambda: SMTP(handler, hostname="localhost", **smtp_options), "127.0.0.1", 0
        )
    )
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        loop.call_soon_threadsafe(server.close)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.close()


@pytest.fixture
def smtp_serving():
    """serve_smtp, for tests that bring their own handler."""
    return serve_smtp


@pytest.fixture
def smtp_server():
    sink = SmtpSink()
    with serve_smtp(sink) as port:
        sink.port = port
        yield sink


# ---------------------------------------------------------------- Route 53 Domains (moto)


@pytest.fixture
def moto_domains(moto_url):
    """moto reset to empty, dummy credentials: the endpoint URL."""
    return moto_url


@pytest.fixture
def registry_app_config(app_config, rdap_server, whois_map, smtp_server, tmp_path):
    """The app wired to the loopback RDAP, WHOIS and SMTP servers, zone files in
    tmp_path: for the domain request tests (quotes, completion, their mail)."""
    return {
        **app_config,
        "RDAP_BOOTSTRAP": str(rdap_server.bootstrap(tmp_path)),
        "WHOIS_SERVERS": str(whois_map),
        "REGISTRY_MIN_INTERVAL": 0,
        "REGISTRY_TIMEOUT": 2,
        "SMTP_URL": smtp_server.url,
        "ZONES_DIRECTORY": str(tmp_path / "zones"),
    }
