"""Registrar adapters: `manual` checks what the technician recorded; `route53domains` runs
against moto's server where moto implements the call (register, detail, operations) and
against botocore's Stubber where it does not (availability, renewal) or where AWS's
asynchronous and error answers matter.

moto traps: a 1-year registration is refused ("between 1 and 10 years", it checks
now + 365 days against 365 days), so moto tests register for 2 years.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import boto3
import pytest
from botocore.stub import Stubber

from provisioner.errors import ValidationError
from provisioner.registry.registrars import Completion, RegistrarError, build
from provisioner.registry.registrars.manual import ManualRegistrar
from provisioner.registry.registrars.route53domains import Route53DomainsRegistrar
from tests.registry.conftest import CONTACT


def stubbed():
    client = boto3.client(
        "route53domains",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    return Route53DomainsRegistrar(client, CONTACT), Stubber(client)


def test_manual_needs_reference_cost_and_date():
    with pytest.raises(ValidationError) as caught:
        ManualRegistrar().register("newschool.essex.sch.uk", 1, Completion())
    assert set(caught.value.fields) == {"reference", "cost_pence", "new_expiry"}
    assert "record what was done at the registrar" in caught.value.message


def test_manual_renewal_must_move_the_date_forward():
    with pytest.raises(ValidationError, match="moves the expiry date past 2027-03-01"):
        ManualRegistrar().renew(
            "stmarys.org.uk",
            1,
            date(2027, 3, 1),
            Completion("ORD-1", 900, date(2027, 3, 1)),
        )
    done = ManualRegistrar().renew(
        "stmarys.org.uk", 1, date(2027, 3, 1), Completion(" ORD-2 ", 900, date(2028, 3, 1))
    )
    assert (done.registrar, done.reference, done.expires_on, done.cost_pence) == (
        "manual",
        "ORD-2",
        date(2028, 3, 1),
        900,
    )


def test_route53domains_registers_against_moto_and_a_retry_does_not_register_twice(
    moto_domains,
):
    registrar = build(
        "route53domains",
        {"ROUTE53DOMAINS_ENDPOINT_URL": moto_domains, "ROUTE53DOMAINS_CONTACT": CONTACT},
    )
    first = registrar.register("newschool-academy.com", 2, Completion(cost_pence=2400))
    expected = datetime.now(UTC).date() + timedelta(days=730)
    assert abs((first.expires_on - expected).days) <= 1
    assert (first.registrar, first.cost_pence, first.already_done) == (
        "route53domains",
        2400,
        False,
    )
    assert first.reference  # AWS's operation id
    again = registrar.register("newschool-academy.com", 2, Completion())
    assert again.already_done and again.expires_on == first.expires_on


def test_route53domains_without_a_contact_says_what_to_configure(moto_domains):
    registrar = build("route53domains", {"ROUTE53DOMAINS_ENDPOINT_URL": moto_domains})
    with pytest.raises(ValidationError, match="set ROUTE53DOMAINS_CONTACT"):
        registrar.register("newschool-academy.com", 2, Completion())


def test_route53domains_availability():
    registrar, stub = stubbed()
    stub.add_response(
        "check_domain_availability", {"Availability": "AVAILABLE"}, {"DomainName": "free.com"}
    )
    stub.add_response(
        "check_domain_availability", {"Availability": "UNAVAILABLE"}, {"DomainName": "held.com"}
    )
    with stub:
        assert registrar.is_available("free.com") is True
        assert registrar.is_available("held.com") is False
    stub.assert_no_pending_responses()


def _detail(expiry: datetime) -> dict:
    return {
        "DomainName": "stmarys-academy.com",
        "Nameservers": [],
        "AdminContact": CONTACT,
        "RegistrantContact": CONTACT,
        "TechContact": CONTACT,
        "ExpirationDate": expiry,
    }


OLD = datetime(2027, 3, 1, tzinfo=UTC)
NEW = datetime(2028, 3, 1, tzinfo=UTC)
NAME = {"DomainName": "stmarys-academy.com"}


def test_route53domains_renews_with_the_current_expiry_year():
    registrar, stub = stubbed()
    stub.add_response("get_domain_detail", _detail(OLD), NAME)
    stub.add_response(
        "renew_domain",
        {"OperationId": "op-renew-1"},
        {**NAME, "DurationInYears": 1, "CurrentExpiryYear": 2027},
    )
    stub.add_response(
        "get_operation_detail", {"Status": "SUCCESSFUL"}, {"OperationId": "op-renew-1"}
    )
    stub.add_response("get_domain_detail", _detail(NEW), NAME)
    with stub:
        done = registrar.renew("stmarys-academy.com", 1, OLD.date(), Completion(cost_pence=1100))
    stub.assert_no_pending_responses()
    assert (done.reference, done.expires_on, done.cost_pence) == (
        "op-renew-1",
        NEW.date(),
        1100,
    )


def test_route53domains_renewal_still_in_progress_is_retryable():
    registrar, stub = stubbed()
    stub.add_response("get_domain_detail", _detail(OLD), NAME)
    stub.add_response(
        "renew_domain",
        {"OperationId": "op-2"},
        {**NAME, "DurationInYears": 1, "CurrentExpiryYear": 2027},
    )
    stub.add_response("get_operation_detail", {"Status": "IN_PROGRESS"}, {"OperationId": "op-2"})
    with stub, pytest.raises(RegistrarError) as caught:
        registrar.renew("stmarys-academy.com", 1, OLD.date(), Completion())
    assert caught.value.retryable
    assert "IN_PROGRESS at AWS (operation op-2)" in caught.value.message


def test_route53domains_a_renewal_already_done_is_not_repeated():
    registrar, stub = stubbed()
    stub.add_response("get_domain_detail", _detail(NEW), NAME)  # no renew_domain expected
    with stub:
        done = registrar.renew("stmarys-academy.com", 1, OLD.date(), Completion())
    stub.assert_no_pending_responses()
    assert done.already_done and done.expires_on == NEW.date()


@pytest.mark.parametrize(
    ("code", "retryable"), [("UnsupportedTLD", False), ("ThrottlingException", True)]
)
def test_route53domains_refusals_are_named(code, retryable):
    registrar, stub = stubbed()
    stub.add_client_error(
        "get_domain_detail", "InvalidInput", "Domain is not associated with this account"
    )
    stub.add_client_error("register_domain", code, "Amazon says no", http_status_code=400)
    with stub, pytest.raises(RegistrarError) as caught:
        registrar.register("stmarys.school", 1, Completion())
    assert f"register_domain for stmarys.school refused ({code}): Amazon says no" in (
        caught.value.message
    )
    assert caught.value.retryable is retryable


def test_an_unknown_registrar_is_refused():
    with pytest.raises(ValidationError, match="unknown registrar 'godaddy'"):
        build("godaddy", {})
