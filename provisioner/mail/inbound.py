"""Incoming mail: one RFC 822 message -> what the service desk needs from it.

Pure parsing (stdlib `email`, policy=default): no database, no network.
The caller decides what to do; this module only says what the message is:
who sent it, which case it refers to, its text, whether it must never be
answered (auto-replies, bounces, our own mail) and whether its request is
only in an image or attachment.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from email import policy
from email.errors import HeaderParseError, MessageError
from email.headerregistry import Address
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses
from html.parser import HTMLParser

from provisioner.errors import ProvisionerError

DEFAULT_MAX_BYTES = 1_000_000

CASE_REFERENCE = re.compile(r"\[\s*(CASE-\d{4}-\d{6})\s*\]", re.IGNORECASE)


class MailRefused(ProvisionerError):
    """The message cannot be read as a request at all."""

    code = "mail_refused"
    status = 422


class MailTooLarge(MailRefused):
    code = "mail_too_large"
    status = 413


class MalformedMail(MailRefused):
    code = "mail_malformed"


@dataclass(frozen=True)
class Attachment:
    filename: str | None
    content_type: str
    size: int


@dataclass(frozen=True)
class InboundMail:
    sender: str  # lower-cased address
    sender_name: str
    subject: str
    case_reference: str | None  # "CASE-2026-000123" from the subject, upper case
    text: str  # the whole text body (HTML converted when there is no plain part)
    request_text: str  # the text without quoted replies and signature
    message_id: str | None
    attachments: tuple[Attachment, ...] = ()
    # Why this message must never be answered (auto-reply, bounce, our own mail).
    no_reply_reason: str | None = None
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def is_auto_reply(self) -> bool:
        return self.no_reply_reason is not None

    @property
    def has_meaningful_text(self) -> bool:
        return meaningful(self.request_text)

    @property
    def only_attachment(self) -> bool:
        """The request seems to be in an image or attachment: no text worth reading."""
        return bool(self.attachments) and not self.has_meaningful_text


def parse(
    raw: bytes,
    *,
    own_addresses: tuple[str, ...] | list[str] = (),
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> InboundMail:
    """Read one message. Raises MailTooLarge or MalformedMail with the reason."""
    if not isinstance(raw, (bytes, bytearray)):
        raise MalformedMail("the message must be given as bytes")
    if len(raw) > max_bytes:
        raise MailTooLarge(
            f"the message is {len(raw):,} bytes; the most we accept is {max_bytes:,} bytes",
            fields={"size": f"{len(raw)} bytes"},
        )
    if not raw.strip():
        raise MalformedMail("the message is empty")
    try:
        message = BytesParser(policy=policy.default).parsebytes(bytes(raw))
    except (MessageError, ValueError, IndexError) as exc:
        raise MalformedMail(f"the message cannot be parsed: {exc}") from exc
    if not message.keys():
        raise MalformedMail("the message has no headers")
    sender_name, sender = _sender(message)
    subject = _header(message, "Subject")
    text, attachments = _body(message)
    match = CASE_REFERENCE.search(subject)
    return InboundMail(
        sender=sender,
        sender_name=sender_name,
        subject=subject,
        case_reference=match.group(1).upper() if match else None,
        text=text,
        request_text=strip_reply(text),
        message_id=_header(message, "Message-ID") or None,
        attachments=tuple(attachments),
        no_reply_reason=_no_reply_reason(message, sender, own_addresses),
        headers={k: _header(message, k) for k in ("Message-ID", "In-Reply-To", "References")},
    )


def _header(message: EmailMessage, name: str) -> str:
    try:
        value = message.get(name)
    except (HeaderParseError, ValueError, IndexError):
        # A header too broken to decode counts as absent, not as a crash.
        return ""
    # NUL: no database text holds it (PostgreSQL refuses it), and no person typed it
    return " ".join(str(value).replace("\x00", "").split()) if value is not None else ""


def _sender(message: EmailMessage) -> tuple[str, str]:
    raw_from = message.get_all("From") or []
    if not raw_from:
        raise MalformedMail("the message has no From address")
    try:
        found = [a for h in raw_from for a in getattr(h, "addresses", ())]
    except (HeaderParseError, ValueError, IndexError):
        found = []
    if not found:
        # The structured header failed; fall back to the lenient tuple parser.
        pairs = [p for p in getaddresses([str(h) for h in raw_from]) if "@" in p[1]]
        found = [Address(display_name=n, addr_spec=a) for n, a in pairs if _valid_address(a)]
    if len(found) != 1 or not _valid_address(found[0].addr_spec):
        raise MalformedMail(
            "the From header must hold exactly one valid email address",
            fields={"from": " ".join(str(h) for h in raw_from)[:200]},
        )
    return found[0].display_name or "", found[0].addr_spec.strip().lower()


def _valid_address(address: str) -> bool:
    local, at, domain = (address or "").strip().rpartition("@")
    return bool(at and local and "." in domain and " " not in address)


def _no_reply_reason(message: EmailMessage, sender: str, own: tuple | list) -> str | None:
    auto = _header(message, "Auto-Submitted").lower()
    if auto and auto.split(";")[0].strip() != "no":
        return f"Auto-Submitted: {auto}"
    precedence = _header(message, "Precedence").lower()
    if precedence in ("bulk", "junk", "list", "auto_reply"):
        return f"Precedence: {precedence}"
    for name in ("X-Autoreply", "X-Autorespond", "X-Auto-Response"):
        if message.get(name) is not None:
            return f"{name} header"
    if sender in {a.strip().lower() for a in own if a}:
        return "sent from our own address"
    local = sender.split("@", 1)[0]
    if local in ("mailer-daemon", "postmaster") or _header(message, "Return-Path") == "<>":
        return "a delivery report (bounce)"
    return None


def _body(message: EmailMessage) -> tuple[str, list[Attachment]]:
    attachments = []
    for part in message.walk():
        if part.is_multipart():
            continue
        disposition = part.get_content_disposition()
        if disposition == "attachment" or part.get_content_maintype() not in ("text",):
            payload = part.get_payload(decode=True) or b""
            attachments.append(
                Attachment(part.get_filename(), part.get_content_type(), len(payload))
            )
    plain = message.get_body(preferencelist=("plain",))
    if plain is not None and plain.get_content_disposition() != "attachment":
        return _normalise(_text_of(plain)), attachments
    html = message.get_body(preferencelist=("html",))
    if html is not None and html.get_content_disposition() != "attachment":
        return _normalise(html_to_text(_text_of(html))), attachments
    return "", attachments


def _text_of(part: EmailMessage) -> str:
    try:
        return part.get_content()
    except (LookupError, UnicodeError, ValueError):
        # Unknown or lying charset: keep what can be read rather than refuse.
        payload = part.get_payload(decode=True) or b""
        return payload.decode("utf-8", "replace")


def _normalise(text: str) -> str:
    text = text.replace("\x00", "")  # as in _header
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    return "\n".join(lines).strip()


class _TextExtractor(HTMLParser):
    _BLOCKS = frozenset(
        "p div br li tr h1 h2 h3 h4 h5 h6 pre blockquote table ul ol section".split()
    )
    _SKIP = frozenset({"script", "style", "head", "title"})

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag, attrs):
        if tag in self._SKIP:
            self.skipping += 1
        elif tag in self._BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in self._SKIP:
            self.skipping = max(0, self.skipping - 1)
        elif tag in self._BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data):
        if not self.skipping:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    """Visible text of an HTML body, one line per block; scripts and styles dropped."""
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.parts).split("\n"))
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


_QUOTE_HEADER = re.compile(r"^(On .+ wrote:|-+ ?Original Message ?-+|From: .+)$", re.IGNORECASE)


def strip_reply(text: str) -> str:
    """The new part of a message: quoted lines, the quote header and the signature go."""
    kept = []
    for line in text.split("\n"):
        if line in ("-- ", "--") or _QUOTE_HEADER.match(line.strip()):
            break
        if line.lstrip().startswith(">"):
            continue
        kept.append(line)
    return "\n".join(kept).strip()


# Lines and phrases that say nothing about the request itself.
# A greeting line: "Hi", "Dear Sam," - at most a name after it.
_GREETING = re.compile(
    r"^(hi|hello|dear|good morning|good afternoon)\b[\s,]*([\w.'-]+[\s,]*){0,2}[!,.]*$", re.I
)
_SIGN_OFF = re.compile(
    r"^(thanks|thank you|many thanks|regards|kind regards|best wishes|best|cheers|"
    r"sent from my\b.*|get outlook for\b.*)[\s,.!]*$",
    re.IGNORECASE,
)
_ATTACHMENT_TALK = re.compile(
    r"(please )?(see|find) (the )?attach\w*( (file|image|screenshot|document|picture))?"
    r"|(the )?(request|details|screenshot|image|picture|photo|change)s? (is |are )?attached"
    r"|as attached|attached( below)?|(see|as per) (the )?(screenshot|image|picture|photo)",
    re.IGNORECASE,
)
_MIN_WORDS = 3


def meaningful(text: str) -> bool:
    """Whether the text says something a technician could act on, not just a
    greeting, 'please see attached' and a sign-off."""
    words = 0
    for line in text.split("\n"):
        line = line.strip()
        if _SIGN_OFF.match(line):
            break  # what follows is the signature
        if not line or _GREETING.match(line):
            continue
        words += len(re.findall(r"\w+", _ATTACHMENT_TALK.sub(" ", line)))
    return words >= _MIN_WORDS
