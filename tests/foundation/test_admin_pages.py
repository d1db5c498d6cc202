"""Admin pages: technicians manage schools, contacts, domains and staff."""

from __future__ import annotations

from sqlalchemy import func, select

from provisioner.db import db
from provisioner.registry.models import Domain
from provisioner.registry.services import add_domain
from provisioner.schools.models import School, User


def _text(response) -> str:
    return response.get_data(as_text=True)


def test_school_list_searches_by_name_urn_and_la(client, make_school, make_technician, login):
    make_school(urn="111111", name="Alder Primary", la="Essex")
    make_school(urn="222222", name="Birch Academy", la="Kent")
    login(make_technician())
    page = _text(client.get("/admin/schools?q=alder"))
    assert "Alder Primary" in page and "Birch Academy" not in page
    page = _text(client.get("/admin/schools?q=222222"))
    assert "Birch Academy" in page and "Alder Primary" not in page
    page = _text(client.get("/admin/schools?q=kent"))
    assert "Birch Academy" in page and "Alder Primary" not in page
    assert "No school matches" in _text(client.get("/admin/schools?q=zzz"))


def test_create_and_edit_school(client, make_technician, login):
    login(make_technician())
    response = client.post(
        "/admin/schools/new",
        data={"urn": "123456", "name": "Cedar School", "local_authority": "Kent"},
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/admin/schools/123456")
    response = client.post(
        "/admin/schools/123456/edit", data={"name": "Cedar Academy", "local_authority": "Essex"}
    )
    assert response.status_code == 302
    school = db.session.scalar(select(School).where(School.urn == "123456"))
    assert (school.name, school.local_authority) == ("Cedar Academy", "Essex")
    assert "Cedar Academy" in _text(client.get("/admin/schools/123456"))


def test_bad_urn_is_shown_on_the_form_and_nothing_saved(client, make_technician, login):
    login(make_technician())
    response = client.post("/admin/schools/new", data={"urn": "12345", "name": "Short URN"})
    assert response.status_code == 422
    page = _text(response)
    assert "exactly six digits" in page
    assert 'aria-invalid="true"' in page and 'id="urn-error"' in page
    assert db.session.scalar(select(func.count(School.id))) == 0


def test_duplicate_urn_is_refused_with_409(client, make_school, make_technician, login):
    make_school(urn="123456", name="First")
    login(make_technician())
    response = client.post("/admin/schools/new", data={"urn": "123456", "name": "Second"})
    assert response.status_code == 409
    assert "already exists" in _text(response)
    assert db.session.scalar(select(func.count(School.id))) == 1


def test_school_detail_shows_nominated_badges_domains_and_warnings(
    client, make_school, make_contact, make_technician, login
):
    school = make_school(urn="111111", name="Alder Primary")
    make_contact(school, "office@alder.example", nominated=True, role="office")
    make_contact(school, "head@alder.example", nominated=False, role="slt")
    add_domain("111111", "alder.essex.sch.uk")
    login(make_technician())
    page = _text(client.get("/admin/schools/111111"))
    assert "office@alder.example" in page and "head@alder.example" in page
    assert page.count('class="badge badge-nominated"') == 1
    assert "alder.essex.sch.uk" in page
    assert "has 1 nominated contact(s)" in page
    assert "None of Alder Primary&#39;s nominated contacts is a member of the SLT" in page


def test_add_and_edit_contact_with_nomination(client, make_school, make_technician, login):
    make_school(urn="111111", name="Alder Primary")
    login(make_technician())
    response = client.post(
        "/admin/schools/111111/contacts/new",
        data={
            "name": "Hana Head",
            "email": "Hana@Alder.example",
            "role": "slt",
            "nominated": "y",
            "password": "a-long-password",
        },
    )
    assert response.status_code == 302
    contact = db.session.scalar(select(User).where(User.email == "hana@alder.example"))
    assert contact.nominated and contact.contact_role == "slt"
    response = client.post(
        f"/admin/schools/111111/contacts/{contact.id}/edit",
        data={"name": "Hana Head", "email": "hana@alder.example", "role": "slt", "phone": "0123"},
    )
    assert response.status_code == 302
    db.session.refresh(contact)
    assert not contact.nominated and contact.phone == "0123"


def test_fifth_nomination_is_refused_with_a_message(
    client, make_school, make_contact, make_technician, login
):
    school = make_school(urn="111111", name="Alder Primary")
    for n in range(4):
        make_contact(school, f"n{n}@alder.example", nominated=True)
    spare = make_contact(school, "spare@alder.example", nominated=False)
    login(make_technician())
    response = client.post(
        "/admin/schools/111111/contacts/new",
        data={"name": "Fifth", "email": "fifth@alder.example", "role": "office", "nominated": "y"},
    )
    assert response.status_code == 409
    assert "already has 4 nominated contacts" in _text(response)
    assert 'id="nominated-error"' in _text(response)
    assert db.session.scalar(select(User).where(User.email == "fifth@alder.example")) is None
    response = client.post(
        f"/admin/schools/111111/contacts/{spare.id}/edit",
        data={"name": "Spare", "email": "spare@alder.example", "role": "office", "nominated": "y"},
    )
    assert response.status_code == 409
    db.session.expire_all()
    assert not db.session.get(User, spare.id).nominated


def test_bad_contact_email_is_shown_inline(client, make_school, make_technician, login):
    make_school(urn="111111")
    login(make_technician())
    response = client.post(
        "/admin/schools/111111/contacts/new",
        data={"name": "No Email", "email": "not-an-email", "role": "office"},
    )
    assert response.status_code == 422
    assert 'id="email-error"' in _text(response)
    assert "not-an-email" in _text(response)
    assert db.session.scalar(select(func.count(User.id))) == 1  # the technician only


def test_contact_of_another_school_is_not_found(
    client, make_school, make_contact, make_technician, login
):
    make_school(urn="111111")
    other = make_contact(make_school(urn="222222"), "b@b.example")
    login(make_technician())
    assert client.get(f"/admin/schools/111111/contacts/{other.id}/edit").status_code == 404


def test_domains_page_adds_and_shows_limit_inline(client, make_school, make_technician, login, app):
    make_school(urn="111111", name="Alder Primary")
    login(make_technician())
    response = client.post("/admin/domains", data={"school": "111111", "name": "WWW.Alder.org.uk."})
    assert response.status_code == 302
    assert "www.alder.org.uk" in _text(client.get("/admin/domains"))
    for n in range(9):
        add_domain("111111", f"alder{n}.org.uk")
    response = client.post("/admin/domains", data={"school": "111111", "name": "eleven.org.uk"})
    assert response.status_code == 409
    page = _text(response)
    assert "already has 10 domains" in page and 'id="name-error"' in page
    assert db.session.scalar(select(func.count(Domain.id))) == 10
    assert "alder3.org.uk" in _text(client.get("/admin/domains?q=alder3"))
    assert "alder4.org.uk" not in _text(client.get("/admin/domains?q=alder3"))


def test_domain_form_names_an_unknown_school(client, make_technician, login):
    login(make_technician())
    response = client.post("/admin/domains", data={"school": "999999", "name": "x.org.uk"})
    assert response.status_code == 404
    assert "no school with URN" in _text(response)


def test_technicians_page_is_for_admins_only(client, make_technician, login):
    tech = make_technician("tech@provider.example")
    boss = make_technician("boss@provider.example", admin=True)
    login(tech)
    assert client.get("/admin/technicians").status_code == 403
    client.post("/logout")
    login(boss)
    response = client.post(
        "/admin/technicians",
        data={"name": "New Tech", "email": "new@provider.example", "password": "another-password"},
    )
    assert response.status_code == 302
    page = _text(client.get("/admin/technicians"))
    assert "new@provider.example" in page and "tech@provider.example" in page


def test_contacts_get_403_and_visitors_go_to_login(client, make_school, make_contact, login):
    contact = make_contact(make_school(urn="111111"), "a@a.example")
    assert client.get("/admin/schools").status_code == 302
    assert "/login" in client.get("/admin/schools").headers["Location"]
    login(contact)
    assert client.get("/admin/schools").status_code == 403
    assert client.get("/admin/schools/111111").status_code == 403


def test_navigation_links_depend_on_role(client, make_school, make_contact, make_technician, login):
    contact = make_contact(make_school(urn="111111"), "a@a.example")
    login(make_technician())
    page = _text(client.get("/admin/schools"))
    assert 'href="/admin/domains"' in page and 'href="/admin/technicians"' not in page
    client.post("/logout")
    login(contact)
    page = _text(client.get("/portal/"))
    assert 'href="/portal/"' in page and 'href="/admin/schools"' not in page


def test_contacts_list_searches_across_schools(
    client, make_school, make_contact, make_technician, login
):
    make_contact(make_school(urn="111111", name="Alder Primary"), "hana@alder.example")
    make_contact(make_school(urn="222222", name="Birch Academy"), "bo@birch.example")
    login(make_technician())
    page = _text(client.get("/admin/contacts"))
    assert "hana@alder.example" in page and "bo@birch.example" in page
    page = _text(client.get("/admin/contacts?q=birch"))
    assert "bo@birch.example" in page and "hana@alder.example" not in page
    page = _text(client.get("/admin/contacts?q=111111"))
    assert "hana@alder.example" in page and "bo@birch.example" not in page
    assert "tech@provider.example" not in _text(client.get("/admin/contacts?q=tech"))
