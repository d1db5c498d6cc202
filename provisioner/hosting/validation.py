"""Strict checks on everything that reaches a hosting playbook.

Pure functions: each returns the clean value or raises ValidationError naming the
field and the problem. The playbooks assert the same patterns again, but nothing
malformed should ever get that far, and user input only ever travels to Ansible
as typed extra variables (see runner.py), never inside a command string.
"""

from __future__ import annotations

import ipaddress
import os
import re

from provisioner.errors import ValidationError

ACCOUNT_MAX = 24
FTP_USER_MAX = 32
LABEL_MAX = 63
DOMAIN_MAX = 253
PATH_MAX = 255
PATH_DEPTH_MAX = 8
SEGMENT_MAX = 64
RESERVED_LABELS = frozenset({"www"})
# names the hosting pages and API use for themselves (/hosting/servers)
RESERVED_ACCOUNTS = frozenset({"servers"})

_ACCOUNT = re.compile(r"[a-z][a-z0-9-]*[a-z0-9]")
_FTP_USER = re.compile(r"[a-z][a-z0-9._-]*")
_LABEL = re.compile(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?")
_SEGMENT = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")
_SECRET = re.compile(r"[A-Za-z0-9]{16,64}")
_WP_USER = re.compile(r"[a-z][a-z0-9-]{2,59}")
WP_TITLE_MAX = 120
_HOST_LABEL = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")
_POSIX_USER = re.compile(r"[a-z_][a-z0-9_-]{0,31}")
# Characters a shell, Jinja or Ansible would give a meaning to: named in the message.
_SPECIAL = set(";&|`$(){}[]<>*?!~#'\"\\ \t\n\r%:,=@^")


def _fail(field: str, message: str) -> ValidationError:
    return ValidationError(message, fields={field: message})


def _text(field: str, what: str, value: object) -> str:
    if value is not None and not isinstance(value, str):
        raise _fail(field, f"{what} must be text, not {type(value).__name__}")
    if not value:
        raise _fail(field, f"{what} is required")
    return value


def _special_chars(value: str) -> str:
    found = sorted({c for c in value if c in _SPECIAL or not c.isprintable() or ord(c) > 127})
    return " ".join(repr(c) for c in found)


def _check_chars(field: str, what: str, value: str, allowed: str) -> None:
    bad = _special_chars(value)
    if bad:
        raise _fail(
            field,
            f"{what} {value!r} contains characters that are not allowed ({bad}); use {allowed}",
        )


def _name(field: str, what: str, value: object, shortest: int, longest: int, allowed: str) -> str:
    """A name's common checks, each refusal naming the problem: text, no characters
    outside `allowed` (words for the message), length within [shortest, longest]."""
    name = _text(field, what, value)
    if len(name) > longest:
        raise _fail(
            field, f"{what} {name!r} is too long ({len(name)} characters, at most {longest})"
        )
    _check_chars(field, what, name, allowed)
    if len(name) < shortest:
        raise _fail(field, f"{what} {name!r} is too short (at least {shortest} characters)")
    return name


def account_name(value: object) -> str:
    name = _name(
        "account", "Account name", value, 3, ACCOUNT_MAX, "lower-case letters, digits and hyphens"
    )
    if not _ACCOUNT.fullmatch(name) or "--" in name:
        raise _fail(
            "account",
            f"Account name {name!r} must be lower-case letters, digits and "
            "single hyphens, start with a letter and not end with a hyphen",
        )
    if name in RESERVED_ACCOUNTS:
        raise _fail("account", f"Account name {name!r} is reserved")
    return name


def ftp_user(value: object) -> str:
    allowed = "lower-case letters, digits, '.', '_' and '-'"
    name = _name("user", "FTP user name", value, 3, FTP_USER_MAX, allowed)
    if not _FTP_USER.fullmatch(name) or ".." in name:
        raise _fail(
            "user",
            f"FTP user name {name!r} must start with a lower-case letter and use "
            "only lower-case letters, digits, '.', '_' and '-'",
        )
    return name


def subdomain_label(value: object) -> str:
    label = _text("label", "Subdomain", value).lower()
    if "." in label:
        raise _fail(
            "label",
            f"Subdomain {label!r} must be a single label (no dots), "
            "e.g. 'intranet' for intranet.<your domain>",
        )
    if len(label) > LABEL_MAX:
        raise _fail(
            "label",
            f"Subdomain {label!r} is too long ({len(label)} characters, at most {LABEL_MAX})",
        )
    _check_chars("label", "Subdomain", label, "letters, digits and hyphens")
    if not _LABEL.fullmatch(label):
        raise _fail(
            "label",
            f"Subdomain {label!r} must be letters, digits and hyphens, "
            "not starting or ending with a hyphen",
        )
    if label in RESERVED_LABELS:
        raise _fail("label", f"Subdomain {label!r} is reserved: it already serves the main site")
    return label


def domain_name(value: object, field: str = "domain") -> str:
    name = _text(field, "Domain name", value).lower().rstrip(".")
    if len(name) > DOMAIN_MAX:
        raise _fail(field, f"Domain name {name!r} is too long (at most {DOMAIN_MAX} characters)")
    _check_chars(field, "Domain name", name, "letters, digits, hyphens and dots")
    labels = name.split(".")
    if len(labels) < 2:
        raise _fail(field, f"Domain name {name!r} needs at least two labels, e.g. school.sch.uk")
    for label in labels:
        if not label or len(label) > LABEL_MAX or not _LABEL.fullmatch(label):
            raise _fail(field, f"Domain name {name!r} has an invalid label {label!r}")
    if not labels[-1].isalpha() and not labels[-1].startswith("xn--"):
        raise _fail(field, f"Domain name {name!r} does not end in a top-level domain")
    return name


def subdomain_within(label: object, domain: object, school_domains: list[str]) -> str:
    """The full name of a new subdomain, refused when outside the school's domains."""
    clean_label = subdomain_label(label)
    clean_domain = domain_name(domain)
    allowed = {d.lower().rstrip(".") for d in school_domains}
    if clean_domain not in allowed:
        raise _fail(
            "label",
            f"{clean_label}.{clean_domain} is outside the school's domains "
            f"({', '.join(sorted(allowed)) or 'none registered'})",
        )
    return f"{clean_label}.{clean_domain}"


def relative_path(value: object, field: str = "path") -> str:
    """A folder inside the account ('' is the account itself): no traversal, no
    absolute paths, no shell metacharacters, bounded length and depth."""
    if value is None or value == "":
        return ""
    path = _text(field, "Path", value)
    if len(path) > PATH_MAX:
        raise _fail(field, f"Path is too long ({len(path)} characters, at most {PATH_MAX})")
    if path.startswith("/"):
        raise _fail(field, f"Path {path!r} must be relative to the account (no leading '/')")
    parts = path.rstrip("/").split("/")
    if ".." in parts or "." in parts:
        raise _fail(
            field, f"Path {path!r} may not contain '..' or '.' (it must stay inside the account)"
        )
    _check_chars(field, "Path", path, "letters, digits, '.', '_', '-' and '/'")
    if len(parts) > PATH_DEPTH_MAX:
        raise _fail(field, f"Path {path!r} is too deep (at most {PATH_DEPTH_MAX} folders)")
    for part in parts:
        if not part:
            raise _fail(field, f"Path {path!r} has an empty folder name ('//')")
        if len(part) > SEGMENT_MAX:
            raise _fail(
                field,
                f"Path {path!r}: folder name {part[:20]!r}... is too long "
                f"(at most {SEGMENT_MAX} characters)",
            )
        if not _SEGMENT.fullmatch(part):
            raise _fail(
                field, f"Path {path!r}: folder name {part!r} must start with a letter, digit or '_'"
            )
    return "/".join(parts)


def quota_bytes(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1024 * 1024:
        raise _fail(
            "quota_bytes", f"Quota must be a whole number of bytes, at least 1 MiB (got {value!r})"
        )
    return value


def secret(value: object, field: str) -> str:
    """Generated passwords only: letters and digits, so they never need quoting."""
    if not isinstance(value, str) or not _SECRET.fullmatch(value):
        raise _fail(field, f"{field} must be 16-64 letters and digits (generated, never typed)")
    return value


def flag(value: object, field: str) -> bool:
    if not isinstance(value, bool):
        raise _fail(field, f"{field} must be true or false")
    return value


def choice(value: object, field: str, options: tuple[str, ...]) -> str:
    if value not in options:
        raise _fail(field, f"{field} must be one of {', '.join(options)} (got {value!r})")
    return value  # type: ignore[return-value]


def wordpress_admin_user(value: object) -> str:
    user = _text("wordpress_admin_user", "WordPress admin user", value)
    if not _WP_USER.fullmatch(user):
        raise _fail(
            "wordpress_admin_user",
            f"WordPress admin user {user!r} must be 3-60 lower-case letters, digits and '-', "
            "starting with a letter",
        )
    return user


def wordpress_title(value: object) -> str:
    """The site title: free text (it only ever travels as a form field), one line."""
    title = _text("wordpress_title", "WordPress site title", value)
    if len(title) > WP_TITLE_MAX or not title.isprintable():
        raise _fail(
            "wordpress_title",
            f"WordPress site title must be one line of at most {WP_TITLE_MAX} characters",
        )
    return title


# -- hosting servers (values that end up in the ssh command line) ------------


def ssh_host(value: object) -> str:
    """An IP address or a DNS host name; never anything ssh could read as an option."""
    host = _text("host", "--host", value).lower().rstrip(".")
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    labels = host.split(".")
    if len(host) > DOMAIN_MAX or not all(_HOST_LABEL.fullmatch(label) for label in labels):
        bad = _special_chars(host)
        raise _fail(
            "host",
            f"--host {host!r} is not an IP address or host name"
            + (f" (characters not allowed: {bad})" if bad else ""),
        )
    return host


def ssh_user(value: object) -> str:
    user = _text("user", "--user", value)
    if not _POSIX_USER.fullmatch(user):
        bad = _special_chars(user)
        raise _fail(
            "user",
            f"--user {user!r} must be a POSIX user name: up to 32 lower-case letters, digits, "
            "'_' and '-', not starting with a digit or '-'"
            + (f" (characters not allowed: {bad})" if bad else ""),
        )
    return user


def port(value: object, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
        option = "--" + field.replace("_", "-")
        raise _fail(field, f"{option} must be a port number 1-65535 (got {value!r})")
    return value


def local_file(value: object, field: str) -> str:
    """An existing file on this (the provisioner's) machine, by absolute path: the
    path is passed to ssh, the file's contents never are."""
    option = "--" + field.replace("_", "-")
    path = _text(field, option, value)
    if not os.path.isabs(path):
        raise _fail(field, f"{option} {path!r} must be an absolute path")
    _check_chars(field, option, path, "letters, digits, '.', '_', '-' and '/'")
    if not os.path.isfile(path):
        raise _fail(field, f"{option} {path!r} is not an existing file")
    return os.path.normpath(path)


def listen_address(value: object) -> str:
    """The IPv4 address nginx and pure-ftpd bind to (0.0.0.0: every address)."""
    address = _text("listen", "--listen", value)
    try:
        return str(ipaddress.IPv4Address(address))
    except ValueError:
        raise _fail(
            "listen", f"--listen {address!r} must be an IPv4 address (0.0.0.0 for all)"
        ) from None


def _account_create(v: dict) -> dict:
    clean = {
        "account": account_name(v.get("account")),
        "domain": domain_name(v.get("domain")),
        "quota_bytes": quota_bytes(v.get("quota_bytes")),
        "wordpress": flag(v.get("wordpress", False), "wordpress"),
        "db_password": secret(v.get("db_password"), "db_password"),
        "db_password_reset": flag(v.get("db_password_reset", False), "db_password_reset"),
    }
    if clean["wordpress"]:
        # used only when WordPress is not installed yet (the playbook checks)
        clean["wordpress_admin_user"] = wordpress_admin_user(v.get("wordpress_admin_user"))
        clean["wordpress_admin_password"] = secret(
            v.get("wordpress_admin_password"), "wordpress_admin_password"
        )
        clean["wordpress_title"] = wordpress_title(v.get("wordpress_title") or clean["domain"])
    return clean


def _ftp(v: dict) -> dict:
    state = choice(v.get("ftp_state", "present"), "ftp_state", ("present", "absent"))
    clean = {
        "account": account_name(v.get("account")),
        "ftp_user": ftp_user(v.get("ftp_user")),
        "ftp_path": relative_path(v.get("ftp_path", "")),
        "ftp_state": state,
        "ftp_password_reset": flag(v.get("ftp_password_reset", False), "ftp_password_reset"),
    }
    if state == "present":
        clean["ftp_password"] = secret(v.get("ftp_password"), "ftp_password")
    return clean


def _subdomain(v: dict) -> dict:
    return {
        "account": account_name(v.get("account")),
        "domain": domain_name(v.get("domain")),
        "subdomain": subdomain_label(v.get("subdomain")),
        "subdomain_state": choice(
            v.get("subdomain_state", "present"), "subdomain_state", ("present", "absent")
        ),
    }


def _account_only(v: dict) -> dict:
    return {"account": account_name(v.get("account"))}


PLAYBOOKS = {
    "account-create.yml": _account_create,
    "ftp.yml": _ftp,
    "subdomain.yml": _subdomain,
    "suspend.yml": _account_only,
    "unsuspend.yml": _account_only,
    "delete.yml": _account_only,
    "usage.yml": _account_only,
    "server-check.yml": lambda v: {},  # read-only; takes nothing from users
}


def playbook_variables(playbook: str, variables: dict) -> dict:
    """The typed extra variables for `playbook`, every one checked; unknown keys refused."""
    if playbook not in PLAYBOOKS:
        raise _fail("playbook", f"Unknown hosting playbook {playbook!r}")
    clean = PLAYBOOKS[playbook](variables)
    dropped = {"ftp_password"} if playbook == "ftp.yml" else set()  # unused when absent
    unknown = sorted(set(variables) - set(clean) - dropped)
    if unknown:
        raise _fail(unknown[0], f"{playbook} does not take {', '.join(unknown)}")
    return clean
