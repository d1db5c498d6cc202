"""Reading incoming RFC 822 messages."""

from __future__ import annotations

from email.message import EmailMessage

import pytest

from provisioner.mail.inbound import MailTooLarge, MalformedMail, html_to_text, parse

OWN = ("it@provider.example",)


def message(body="ADD www A 192.0.2.1", subject="DNS change", sender="Sam <Sam@School.example>"):
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = "it@provider.example"
    mail["Subject"] = subject
    mail["Message-ID"] = "<abc@school.example>"
    mail.set_content(body)
    return mail


def test_plain_message_gives_sender_subject_and_text():
    parsed = parse(message().as_bytes(), own_addresses=OWN)
    assert parsed.sender == "sam@school.example"
    assert parsed.sender_name == "Sam"
    assert parsed.subject == "DNS change"
    assert parsed.text == "ADD www A 192.0.2.1"
    assert parsed.case_reference is None
    assert parsed.no_reply_reason is None
    assert parsed.message_id == "<abc@school.example>"
    assert not parsed.only_attachment


def test_case_reference_is_found_in_a_reply_subject():
    raw = message(subject="Re: Your DNS request [case-2026-000042] received").as_bytes()
    assert parse(raw).case_reference == "CASE-2026-000042"


def test_quoted_text_and_signature_are_not_part_of_the_request():
    body = (
        "Yes please go ahead.\n\nOn Mon, 23 Nov 2026 Sam wrote:\n> ADD www A 192.0.2.1\n"
        "\n-- \nSam Smith"
    )
    parsed = parse(message(body=body).as_bytes())
    assert parsed.request_text == "Yes please go ahead."
    assert "ADD www" in parsed.text


def test_html_only_message_is_converted_to_text_without_scripts():
    mail = message()
    mail.set_content(
        "<html><head><style>p{}</style></head><body><p>ADD www A 192.0.2.1</p>"
        "<script>alert(1)</script><div>Thanks&nbsp;&amp; bye</div></body></html>",
        subtype="html",
    )
    parsed = parse(mail.as_bytes())
    assert parsed.text.splitlines()[0] == "ADD www A 192.0.2.1"
    assert "alert" not in parsed.text
    assert "Thanks & bye" in parsed.text


def test_plain_part_is_preferred_over_html():
    mail = message(body="ADD www A 192.0.2.1")
    mail.add_alternative("<p>something else</p>", subtype="html")
    assert parse(mail.as_bytes()).text == "ADD www A 192.0.2.1"


@pytest.mark.parametrize(
    "header, value",
    [
        ("Auto-Submitted", "auto-replied"),
        ("Precedence", "bulk"),
        ("Precedence", "junk"),
        ("Precedence", "list"),
        ("X-Autoreply", "yes"),
    ],
)
def test_auto_replies_are_marked_never_to_answer(header, value):
    mail = message(body="I am out of the office until Monday.")
    mail[header] = value
    parsed = parse(mail.as_bytes(), own_addresses=OWN)
    assert parsed.is_auto_reply
    assert header in parsed.no_reply_reason


def test_auto_submitted_no_is_a_person():
    mail = message()
    mail["Auto-Submitted"] = "no"
    assert not parse(mail.as_bytes()).is_auto_reply


def test_our_own_address_and_bounces_are_never_answered():
    own = parse(message(sender="IT <IT@provider.example>").as_bytes(), own_addresses=OWN)
    assert own.no_reply_reason == "sent from our own address"
    bounce = parse(message(sender="MAILER-DAEMON@school.example").as_bytes())
    assert "bounce" in bounce.no_reply_reason


def test_image_only_request_is_recognised():
    mail = message(
        body="Hi,\nPlease see the attached screenshot.\nThanks\nSam Smith\nSchool Office"
    )
    mail.add_attachment(b"\x89PNG fake", maintype="image", subtype="png", filename="dns.png")
    parsed = parse(mail.as_bytes())
    assert parsed.only_attachment
    assert parsed.attachments[0].filename == "dns.png"
    assert parsed.attachments[0].content_type == "image/png"


def test_attachment_with_a_real_text_request_is_not_image_only():
    mail = message(body="Please point www at 192.0.2.1 from tonight, the host has moved.")
    mail.add_attachment(b"%PDF", maintype="application", subtype="pdf", filename="quote.pdf")
    assert not parse(mail.as_bytes()).only_attachment


def test_oversize_message_is_refused_before_parsing():
    raw = message(body="x" * 2000).as_bytes()
    with pytest.raises(MailTooLarge) as exc:
        parse(raw, max_bytes=1000)
    assert "the most we accept is 1,000 bytes" in exc.value.message


def test_default_limit_is_one_megabyte():
    with pytest.raises(MailTooLarge):
        parse(message(body="y" * 1_100_000).as_bytes())


@pytest.mark.parametrize(
    "raw, reason",
    [
        (b"", "empty"),
        (b"   \n", "empty"),
        (b"Subject: hello\n\nbody", "no From address"),
        (b"From: not an address\nSubject: x\n\nbody", "exactly one valid email address"),
        (b"From: a@x.example, b@y.example\nSubject: x\n\nbody", "exactly one"),
        ("From: a@x.example\n\nbody", "bytes"),
    ],
)
def test_malformed_messages_are_refused_with_a_reason(raw, reason):
    with pytest.raises(MalformedMail) as exc:
        parse(raw)
    assert reason in exc.value.message


def test_unknown_charset_is_read_rather_than_refused():
    raw = (
        b"From: sam@school.example\nSubject: x\nContent-Type: text/plain; charset=x-unknown\n\n"
        b"ADD www A 192.0.2.1\n"
    )
    assert parse(raw).text == "ADD www A 192.0.2.1"


def test_html_to_text_keeps_blocks_on_their_own_lines():
    assert html_to_text("<p>one</p><p>two<br>three</p>") == "one\n\ntwo\nthree"


def test_nul_characters_are_dropped_from_subject_and_text():
    """No database text can hold NUL (PostgreSQL refuses it): a message carrying one,
    raw or inside base64, is read without it rather than failing later."""
    raw = message(body="ADD www A 192.0.2.1").as_bytes()
    raw = raw.replace(b"Subject: DNS change", b"Subject: DNS\x00 change")
    parsed = parse(raw, own_addresses=OWN)
    assert parsed.subject == "DNS change"
    encoded = EmailMessage()
    encoded["From"] = "Sam <sam@school.example>"
    encoded["Subject"] = "DNS change"
    encoded.set_content("ADD www\x00 A 192.0.2.1", cte="base64")
    parsed = parse(encoded.as_bytes(), own_addresses=OWN)
    assert parsed.text == "ADD www A 192.0.2.1" and "\x00" not in parsed.request_text
