"""Every form control on the admin and portal pages has a label, and an error
message is tied to its field for screen readers."""

from __future__ import annotations

from html.parser import HTMLParser


class Controls(HTMLParser):
    """Collects form controls and the labels that name them."""

    def __init__(self):
        super().__init__()
        self.controls, self.label_for, self.open_labels = [], set(), 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "label":
            self.open_labels += 1
            if attrs.get("for"):
                self.label_for.add(attrs["for"])
        elif tag in {"input", "select", "textarea"} and attrs.get("type") not in {
            "hidden",
            "submit",
        }:
            self.controls.append((attrs, self.open_labels > 0))

    def handle_endtag(self, tag):
        if tag == "label":
            self.open_labels -= 1


def _unlabelled(page: str) -> list:
    parser = Controls()
    parser.feed(page)
    return [
        attrs
        for attrs, inside_label in parser.controls
        if not inside_label and attrs.get("id") not in parser.label_for
    ]


def test_every_control_is_labelled(client, make_school, make_contact, make_technician, login):
    school = make_school(urn="111111")
    contact = make_contact(school, "head@a.example")
    assert _unlabelled(client.get("/login").get_data(as_text=True)) == []
    login(make_technician(admin=True))
    for path in [
        "/admin/schools",
        "/admin/schools/new",
        "/admin/schools/111111/edit",
        "/admin/schools/111111/contacts/new",
        f"/admin/schools/111111/contacts/{contact.id}/edit",
        "/admin/contacts",
        "/admin/domains",
        "/admin/technicians",
        "/account/tokens",
    ]:
        response = client.get(path)
        assert response.status_code == 200, path
        assert _unlabelled(response.get_data(as_text=True)) == [], path


def test_an_error_is_described_by_its_field(client, make_technician, login):
    login(make_technician())
    page = client.post("/admin/schools/new", data={"urn": "x", "name": "X"}).get_data(as_text=True)
    assert 'aria-invalid="true"' in page
    assert 'aria-describedby="urn-error"' in page and 'id="urn-error"' in page
