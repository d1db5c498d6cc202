"""The JSON API: me, schools, domains, the error shape and the OpenAPI document."""

from __future__ import annotations

import re

from openapi_spec_validator import validate
from sqlalchemy import func, select

from provisioner.db import db
from provisioner.registry.models import Domain
from provisioner.registry.services import add_domain


def test_me_for_a_technician_and_a_contact(api, make_school, make_contact, make_technician):
    tech = make_technician()
    assert api(tech).get("/api/v1/me").get_json() == {
        "email": "tech@provider.example",
        "name": "Tech",
        "role": "technician",
        "school_urn": None,
        "nominated": False,
    }
    contact = make_contact(make_school(urn="111111"), "head@a.example", nominated=True)
    body = api(contact).get("/api/v1/me").get_json()
    assert body["role"] == "contact" and body["school_urn"] == "111111" and body["nominated"]


def test_domains_list_is_scoped_for_contacts(api, make_school, make_contact, make_technician):
    alder = make_school(urn="111111")
    make_school(urn="222222")
    add_domain("111111", "alder.essex.sch.uk")
    add_domain("222222", "birch.kent.sch.uk")
    contact = make_contact(alder, "head@a.example")
    body = api(contact).get("/api/v1/domains").get_json()
    assert [d["name"] for d in body] == ["alder.essex.sch.uk"]
    assert body[0] == {
        "name": "alder.essex.sch.uk",
        "unicode_name": "alder.essex.sch.uk",
        "school_urn": "111111",
        "provider": None,
        "expires_on": None,
    }
    everything = api(make_technician()).get("/api/v1/domains").get_json()
    assert {d["name"] for d in everything} == {"alder.essex.sch.uk", "birch.kent.sch.uk"}


def test_create_domain_201_and_normalised(api, make_school, make_technician):
    make_school(urn="111111")
    response = api(make_technician()).post(
        "/api/v1/domains", json={"school_urn": "111111", "name": "WWW.Bücher.Example.ORG."}
    )
    assert response.status_code == 201
    body = response.get_json()
    assert body["name"] == "www.xn--bcher-kva.example.org"
    assert body["unicode_name"] == "www.bücher.example.org"
    domain = db.session.scalar(select(Domain))
    assert domain.registrable_name == "example.org"


def test_eleventh_domain_is_409_domain_limit(api, make_school, make_technician):
    make_school(urn="111111", name="Alder Primary")
    caller = api(make_technician())
    for n in range(10):
        response = caller.post(
            "/api/v1/domains", json={"school_urn": "111111", "name": f"d{n}.org.uk"}
        )
        assert response.status_code == 201
    response = caller.post("/api/v1/domains", json={"school_urn": "111111", "name": "d10.org.uk"})
    assert response.status_code == 409
    error = response.get_json()["error"]
    assert error["code"] == "domain_limit"
    assert "Alder Primary already has 10 domains" in error["message"]
    assert db.session.scalar(select(func.count(Domain.id))) == 10


def test_domain_of_another_school_is_409_domain_taken(api, make_school, make_technician):
    make_school(urn="111111", name="Alder Primary")
    make_school(urn="222222", name="Birch Academy")
    add_domain("111111", "alder.essex.sch.uk")
    response = api(make_technician()).post(
        "/api/v1/domains", json={"school_urn": "222222", "name": "Alder.Essex.sch.uk"}
    )
    assert response.status_code == 409
    error = response.get_json()["error"]
    assert error["code"] == "domain_taken"
    assert "already managed for Alder Primary (URN 111111)" in error["message"]


def test_create_domain_with_missing_fields_or_a_non_object_body(api, make_technician):
    caller = api(make_technician())
    response = caller.post("/api/v1/domains", json={"name": "x.org.uk"})
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"] == {"school_urn": "required"}
    response = caller.post("/api/v1/domains", json=["not", "an", "object"])
    assert response.status_code == 422
    response = caller.post("/api/v1/domains", data="{broken", content_type="application/json")
    assert response.status_code == 422
    assert "JSON object" in response.get_json()["error"]["message"]


def test_schools_list_and_detail(api, make_school, make_contact, make_technician):
    alder = make_school(urn="111111", name="Alder Primary")
    make_school(urn="222222", name="Birch Academy")
    make_contact(alder, "head@alder.example", nominated=True)
    tech = api(make_technician())
    assert [s["urn"] for s in tech.get("/api/v1/schools").get_json()] == ["111111", "222222"]
    detail = tech.get("/api/v1/schools/111111").get_json()
    assert detail["contacts"] == [
        {"name": "Head", "email": "head@alder.example", "role": "slt", "nominated": True}
    ]
    assert detail["warnings"] == [
        "Alder Primary has 1 nominated contact(s); the service asks for 2 to 4."
    ]
    assert tech.get("/api/v1/schools/999999").status_code == 404
    response = tech.post("/api/v1/schools", json={"urn": "333333", "name": "Cedar"})
    assert response.status_code == 201 and response.get_json()["urn"] == "333333"


def test_unknown_api_path_answers_json(api, make_technician):
    response = api(make_technician()).get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


def test_openapi_document_is_valid_and_lists_every_route(app, client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.get_json()
    validate(document)
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1"):
            continue
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)[len("/api/v1") :]
        assert path in document["paths"], path
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert method.lower() in document["paths"][path], (method, path)
    for required in ("/me", "/domains", "/schools"):
        assert required in document["paths"]
