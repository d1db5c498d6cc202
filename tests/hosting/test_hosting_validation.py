"""Bad input for hosting is refused with a message naming the problem, before any
playbook runs; what does reach Ansible is typed and never templated."""

from __future__ import annotations

import pytest
import yaml

from provisioner.errors import ValidationError
from provisioner.hosting import validation as v
from provisioner.hosting.runner import extravars_yaml
from provisioner.hosting.target import HostingTarget


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("st-marys", "st-marys"),
        ("abc", "abc"),
        ("a" * 24, "a" * 24),
    ],
)
def test_good_account_names(value, expected):
    assert v.account_name(value) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "Account name is required"),
        ("a" * 25, "too long (25 characters, at most 24)"),
        ("ab", "too short"),
        ("st;rm -rf /", "not allowed (' ' ';')"),
        ("$(reboot)", "'$' '(' ')'"),
        ("St-Marys", "lower-case"),
        ("1school", "start with a letter"),
        ("school-", "not end with a hyphen"),
        ("a--b", "single hyphens"),
        ("{{x}}", "'{' '}'"),
    ],
)
def test_bad_account_names(value, message):
    with pytest.raises(ValidationError) as exc:
        v.account_name(value)
    assert message in exc.value.message
    assert "account" in exc.value.fields


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("x" * 33, "too long"),
        ("web user", "' '"),
        ("web:user", "':'"),
        ("_web", "must start with a lower-case letter"),
        ("a..b", "must start with a lower-case letter"),
    ],
)
def test_bad_ftp_users(value, message):
    with pytest.raises(ValidationError) as exc:
        v.ftp_user(value)
    assert message in exc.value.message


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("../etc", "may not contain '..'"),
        ("public_html/../../etc", "may not contain '..'"),
        ("/etc/passwd", "no leading '/'"),
        ("images;rm", "';'"),
        ("a//b", "empty folder name"),
        ("/".join(["d"] * 9), "too deep"),
        ("x" * 256, "too long"),
        ("public_html/.hidden/x", "must start with a letter"),
        ("pics/`id`", "'`'"),
    ],
)
def test_bad_paths(value, message):
    with pytest.raises(ValidationError) as exc:
        v.relative_path(value)
    assert message in exc.value.message
    assert exc.value.fields == {"path": exc.value.message}


def test_good_paths():
    assert v.relative_path("") == ""
    assert v.relative_path("public_html/images/") == "public_html/images"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("www", "reserved"),
        ("intra.net", "single label"),
        ("-intranet", "not starting or ending with a hyphen"),
        ("x" * 64, "too long"),
        ("intra_net", "letters, digits and hyphens"),
    ],
)
def test_bad_subdomains(value, message):
    with pytest.raises(ValidationError) as exc:
        v.subdomain_label(value)
    assert message in exc.value.message


def test_subdomain_outside_the_schools_domains_is_refused():
    domains = ["stmarys.essex.sch.uk"]
    assert v.subdomain_within("Intranet", "stmarys.essex.sch.uk", domains) == (
        "intranet.stmarys.essex.sch.uk"
    )
    with pytest.raises(ValidationError, match="outside the school's domains"):
        v.subdomain_within("intranet", "elsewhere.sch.uk", domains)


def test_playbook_variables_are_checked_and_unknown_ones_refused():
    good = {
        "account": "stmarys",
        "domain": "stmarys.essex.sch.uk",
        "quota_bytes": 5368709120,
        "wordpress": True,
        "db_password": "a1" * 10,
        "wordpress_admin_user": "stmarys-admin",
        "wordpress_admin_password": "b2" * 10,
        "wordpress_title": "St Mary's C of E Primary",
    }
    assert v.playbook_variables("account-create.yml", good)["quota_bytes"] == 5368709120
    no_wp = {k: val for k, val in good.items() if not k.startswith("wordpress_")}
    no_wp["wordpress"] = False
    assert "wordpress_admin_password" not in v.playbook_variables("account-create.yml", no_wp)
    with pytest.raises(ValidationError, match="wordpress_admin_password must be 16-64 letters"):
        v.playbook_variables("account-create.yml", good | {"wordpress_admin_password": None})
    with pytest.raises(ValidationError, match="WordPress admin user 'Admin; x'"):
        v.playbook_variables("account-create.yml", good | {"wordpress_admin_user": "Admin; x"})
    with pytest.raises(ValidationError, match="one line"):
        v.playbook_variables("account-create.yml", good | {"wordpress_title": "a\nb"})
    with pytest.raises(ValidationError, match="does not take ansible_connection"):
        v.playbook_variables("account-create.yml", good | {"ansible_connection": "ssh"})
    with pytest.raises(ValidationError, match="Quota must be a whole number"):
        v.playbook_variables("account-create.yml", good | {"quota_bytes": "5G"})
    with pytest.raises(ValidationError, match="db_password must be 16-64 letters"):
        v.playbook_variables("account-create.yml", good | {"db_password": "x'; DROP USER"})
    with pytest.raises(ValidationError, match="Unknown hosting playbook"):
        v.playbook_variables("../site.yml", {})


def test_extravars_are_typed_and_never_templated():
    text = extravars_yaml(
        {
            "account": "st",
            "quota_bytes": 5,
            "wordpress": False,
            "domain": "{{ lookup('pipe', 'id') }}",
        }
    )
    assert "domain: !unsafe \"{{ lookup('pipe', 'id') }}\"" in text
    loaded = yaml.load(text.replace("!unsafe ", ""), Loader=yaml.SafeLoader)
    assert loaded == {
        "account": "st",
        "quota_bytes": 5,
        "wordpress": False,
        "domain": "{{ lookup('pipe', 'id') }}",
    }


def test_local_inventory_pins_the_interpreter():
    inv = HostingTarget("h1", root="/srv/h", http_port=8081).inventory()
    host = inv["all"]["hosts"]["h1"]
    assert host["ansible_python_interpreter"] == "{{ ansible_playbook_python }}"
    assert host["hosting_listen_address"] == "127.0.0.1" and host["hosting_http_port"] == 8081
    with pytest.raises(ValidationError, match="absolute --root"):
        HostingTarget("h1", root="relative").inventory()
    with pytest.raises(ValidationError, match="must start with hosting_"):
        HostingTarget("h1", root="/srv/h", settings={"ansible_host": "x"}).inventory()
