"""The school portal: a contact sees their own school and nothing else."""

from __future__ import annotations

from provisioner.registry.services import add_domain


def test_home_shows_own_domains_contacts_nominations_and_warnings(
    client, make_school, make_contact, login
):
    mine = make_school(urn="111111", name="Alder Primary")
    other = make_school(urn="222222", name="Birch Academy")
    head = make_contact(mine, "head@alder.example", nominated=True, role="slt", name="Hana Head")
    make_contact(mine, "office@alder.example", nominated=False, role="office")
    make_contact(other, "head@birch.example", nominated=True)
    add_domain("111111", "alder.essex.sch.uk")
    add_domain("222222", "birch.kent.sch.uk")
    login(head)
    response = client.get("/")
    assert response.status_code == 302 and response.headers["Location"].endswith("/portal/")
    page = client.get("/portal/").get_data(as_text=True)
    assert "Alder Primary" in page and "alder.essex.sch.uk" in page
    assert "head@alder.example" in page and "office@alder.example" in page
    assert page.count('class="badge badge-nominated"') == 1
    assert "You are a nominated contact" in page
    assert "has 1 nominated contact(s)" in page  # the 2-4 warning
    assert "Birch" not in page and "birch" not in page


def test_a_contact_who_is_not_nominated_is_told_who_is(client, make_school, make_contact, login):
    school = make_school(urn="111111", name="Alder Primary")
    make_contact(school, "head@alder.example", nominated=True, name="Hana Head")
    make_contact(school, "bm@alder.example", nominated=True, name="Bo Manager", role="office")
    office = make_contact(school, "office@alder.example", nominated=False, role="office")
    login(office)
    page = client.get("/portal/").get_data(as_text=True)
    assert "You are not a nominated contact" in page
    assert "Bo Manager, Hana Head" in page
    assert "warning" not in page.split("<main", 1)[1].split("Your domains")[0].lower()


def test_staff_are_sent_to_the_admin_pages(client, make_technician, login):
    login(make_technician())
    response = client.get("/portal/")
    assert response.status_code == 302 and response.headers["Location"].endswith("/admin/schools")


def test_visitors_must_log_in(client):
    response = client.get("/portal/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
