"""SPF and DMARC syntax checks that turn into warnings on a DNS request."""

from __future__ import annotations

import pytest

from provisioner.zones.mailauth import dmarc_problems, is_spf, spf_problems


@pytest.mark.parametrize(
    "value",
    [
        "v=spf1 include:spf.protection.outlook.com -all",
        "v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 mx a:mail.example.net ~all",
        "v=spf1 redirect=_spf.example.net",
        "v=spf1 -all",
    ],
)
def test_good_spf(value):
    assert spf_problems(value) == []


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("v=spf1 incude:x.com -all", "'incude:x.com' is not an SPF mechanism"),
        ("v=spf1 ip4:2001:db8::1 -all", "is not an IPv4 address"),
        ("v=spf1 include: -all", "needs a value after ':'"),
        ("v=spf1 -all mx", "'mx' comes after 'all' and is never used"),
        ("v=spf1 " + " ".join(f"include:s{i}.example" for i in range(11)), "11 DNS lookups"),
    ],
)
def test_bad_spf(value, problem):
    assert any(problem in p for p in spf_problems(value)), spf_problems(value)


def test_spf_detection_needs_the_exact_version_tag():
    assert is_spf("v=spf1 -all") and is_spf("V=SPF1 mx -all")
    assert not is_spf("v=spf10 -all") and not is_spf("MS=ms123")


def test_good_dmarc():
    assert dmarc_problems("v=DMARC1; p=quarantine; rua=mailto:d@x.uk; pct=50; adkim=s") == []


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("p=none; v=DMARC1", "does not start with v=DMARC1"),
        ("v=DMARC1; rua=mailto:d@x.uk", "p= (none, quarantine or reject) is missing"),
        ("v=DMARC1; p=none; rua=https://x.uk", "must be mailto: addresses"),
        ("v=DMARC1; p=none; adkim=x", "must be r (relaxed) or s (strict)"),
        ("v=DMARC1; p=none; colour=blue", "'colour' is not a DMARC tag"),
    ],
)
def test_bad_dmarc(value, problem):
    assert any(problem in p for p in dmarc_problems(value)), dmarc_problems(value)
