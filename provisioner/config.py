"""Every setting with a safe default.

Settings come from PROVISIONER_* environment variables, read only when
create_app() calls load_config(), never at import time.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
PACKAGE_DATA = Path(__file__).resolve().parent / "data"

ENV_KEYS = {
    "DATABASE_URL": "PROVISIONER_DATABASE_URL",
    "SECRET_KEY": "PROVISIONER_SECRET_KEY",
    "BROKER_URL": "PROVISIONER_BROKER_URL",
    "SMTP_URL": "PROVISIONER_SMTP_URL",
    "MAIL_FROM": "PROVISIONER_MAIL_FROM",
    "RDAP_BOOTSTRAP": "PROVISIONER_RDAP_BOOTSTRAP",
    "WHOIS_SERVERS": "PROVISIONER_WHOIS_SERVERS",
    "INBOUND_MAILDIR": "PROVISIONER_INBOUND_MAILDIR",
}


def _secret_key(instance: Path) -> str:
    """A key generated once into instance/, so sessions survive restarts."""
    path = instance / "secret_key"
    if not path.exists():
        instance.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def load_config(instance_path: str, overrides: dict | None = None) -> dict:
    instance = Path(instance_path)
    env = {key: os.environ.get(var) for key, var in ENV_KEYS.items()}
    overrides = overrides or {}
    config = {
        "SQLALCHEMY_DATABASE_URI": env["DATABASE_URL"]
        or f"sqlite:///{instance / 'provisioner.sqlite'}",
        "BROKER_URL": env["BROKER_URL"],
        "SMTP_URL": env["SMTP_URL"],
        "MAIL_FROM": env["MAIL_FROM"] or "it@localhost",
        "RDAP_BOOTSTRAP": env["RDAP_BOOTSTRAP"] or str(PACKAGE_DATA / "rdap-bootstrap.json"),
        "WHOIS_SERVERS": env["WHOIS_SERVERS"],
        "ZONES_DIRECTORY": str(instance / "zones"),
        "INBOUND_MAILDIR": env["INBOUND_MAILDIR"],  # polled for DNS requests by email
        "MAIL_MAX_BYTES": 1024 * 1024,
        "DNS_NOTICE_BUSINESS_DAYS": 1,  # "reasonable notice" for a DNS change
        "DNS_VERIFY_TIMEOUT": 30,  # seconds to wait for every nameserver to serve a change
        "DOMAIN_LIMIT": 10,
        "HOSTING_WAIT_SECONDS": 60,  # a page or API call waits this long, then answers "pending"
        "MAX_NOMINATED": 4,
        "MIN_NOMINATED": 2,
        "LOGIN_MAX_FAILURES": 5,
        "LOGIN_LOCKOUT_MINUTES": 15,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": False,  # set True behind TLS; loopback dev has none
        "REMEMBER_COOKIE_HTTPONLY": True,
        "WTF_CSRF_TIME_LIMIT": None,
        "EMBEDDED_WORKER": True,
        "JOBS_THREADS": 2,  # embedded worker threads inside `provisioner serve`
        "JOBS_QUEUE": "provisioner-operations",  # Celery queue name
        "BROKER_RETRY_SECONDS": 10,  # after a failed publish, leave it to the relay this long
    }
    if "SECRET_KEY" not in overrides:
        config["SECRET_KEY"] = env["SECRET_KEY"] or _secret_key(instance)
    config.update(overrides)
    return config
