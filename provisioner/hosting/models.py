"""Hosting servers, accounts, FTP accounts and subdomains."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from provisioner.db import UTCDateTime, db, utcnow
from provisioner.hosting.target import HostingTarget
from provisioner.schools.models import School

GIB = 1024**3
# Decision (service-rules.md): 5 GiB = 5,368,709,120 bytes, stored in bytes, per plan.
PLANS = {"standard": 5 * GIB}

PROVISIONING, ACTIVE, SUSPENDED, DELETED, FAILED = (
    "provisioning",
    "active",
    "suspended",
    "deleted",
    "failed",
)
# Accounts that hold space on their server and count towards "one per school per plan".
LIVE_STATUSES = (PROVISIONING, ACTIVE, SUSPENDED)


class HostingServer(db.Model):
    """An Ansible inventory host that accounts are placed on."""

    __tablename__ = "hosting_servers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(63), unique=True)
    connection: Mapped[str] = mapped_column(String(10))  # local | ssh
    root: Mapped[str | None] = mapped_column(String(255))
    host: Mapped[str | None] = mapped_column(String(253))
    ssh_user: Mapped[str | None] = mapped_column(String(32))
    # ssh only; paths on the provisioner's machine (the key itself is never stored)
    ssh_port: Mapped[int | None] = mapped_column()
    identity_file: Mapped[str | None] = mapped_column(String(255))
    known_hosts: Mapped[str | None] = mapped_column(String(255))
    listen_address: Mapped[str | None] = mapped_column(String(45))  # None: layout's default
    http_port: Mapped[int] = mapped_column(default=8080)
    ftp_port: Mapped[int] = mapped_column(default=2121)
    capacity_bytes: Mapped[int] = mapped_column(BigInteger)
    # auto | btrfs | xfs | ext4 | none (none: no filesystem limit, chosen on purpose)
    quota_backend: Mapped[str] = mapped_column(String(10), default="auto", server_default="auto")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    accounts: Mapped[list[HostingAccount]] = relationship(back_populates="server")

    def target(self) -> HostingTarget:
        return HostingTarget(
            name=self.name,
            connection=self.connection,
            root=self.root,
            host=self.host,
            user=self.ssh_user,
            http_port=self.http_port,
            ftp_port=self.ftp_port,
            port=self.ssh_port,
            identity_file=self.identity_file,
            known_hosts=self.known_hosts,
            listen=self.listen_address,
            settings={"hosting_quota_backend": self.quota_backend or "auto"},
        )

    @property
    def allocated_bytes(self) -> int:
        return sum(a.quota_bytes for a in self.accounts if a.status in LIVE_STATUSES)

    @property
    def free_bytes(self) -> int:
        return self.capacity_bytes - self.allocated_bytes

    def to_dict(self) -> dict:
        target = self.target()
        return {
            "name": self.name,
            "connection": self.connection,
            "layout": target.layout,
            "root": self.root,
            "host": self.host,
            "port": self.ssh_port,
            "user": self.ssh_user,
            "identity_file": self.identity_file,
            "known_hosts": self.known_hosts,
            "listen": target.listen_address,
            "http_port": self.http_port,
            "ftp_port": self.ftp_port,
            "capacity_bytes": self.capacity_bytes,
            "free_bytes": self.free_bytes,
            "quota": self.quota_backend,
        }


class HostingAccount(db.Model):
    __tablename__ = "hosting_accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(24), unique=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    server_id: Mapped[int] = mapped_column(ForeignKey("hosting_servers.id"), index=True)
    plan: Mapped[str] = mapped_column(String(20), default="standard")
    quota_bytes: Mapped[int] = mapped_column(BigInteger)
    domain: Mapped[str] = mapped_column(String(253))
    wordpress: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(20), default=PROVISIONING)
    failure_reason: Mapped[str | None] = mapped_column(Text)
    used_bytes: Mapped[int | None] = mapped_column(BigInteger)
    usage_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    school: Mapped[School] = relationship(lazy="joined")
    server: Mapped[HostingServer] = relationship(back_populates="accounts", lazy="joined")
    ftp_accounts: Mapped[list[FtpAccount]] = relationship(
        back_populates="account", cascade="all, delete-orphan", order_by="FtpAccount.user"
    )
    subdomains: Mapped[list[Subdomain]] = relationship(
        back_populates="account", cascade="all, delete-orphan", order_by="Subdomain.label"
    )

    @property
    def wordpress_admin_url(self) -> str | None:
        return f"http://{self.domain}/wp-admin/" if self.wordpress else None

    def to_dict(self) -> dict:
        return {
            "account": self.name,
            "school_urn": self.school.urn,
            "domain": self.domain,
            "plan": self.plan,
            "server": self.server.name,
            "status": self.status,
            "failure_reason": self.failure_reason,
            "quota_bytes": self.quota_bytes,
            "used_bytes": self.used_bytes,
            "wordpress_admin_url": self.wordpress_admin_url,
        }


class FtpAccount(db.Model):
    __tablename__ = "hosting_ftp_accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("hosting_accounts.id"), index=True)
    # FTP logins are unique per server; unique overall keeps it simple and safe.
    user: Mapped[str] = mapped_column(String(32), unique=True)
    path: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    account: Mapped[HostingAccount] = relationship(back_populates="ftp_accounts")


class Subdomain(db.Model):
    __tablename__ = "hosting_subdomains"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("hosting_accounts.id"), index=True)
    label: Mapped[str] = mapped_column(String(63))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    account: Mapped[HostingAccount] = relationship(back_populates="subdomains")

    __table_args__ = (UniqueConstraint("account_id", "label", name="one_label_per_account"),)

    @property
    def fqdn(self) -> str:
        return f"{self.label}.{self.account.domain}"


class HostingUsageAlert(db.Model):
    """A usage threshold (percent of quota) announced to an account's school: each is
    announced once (the unique constraint holds even when two collections race)."""

    __tablename__ = "hosting_usage_alerts"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("hosting_accounts.id"), index=True)
    threshold: Mapped[int] = mapped_column()
    used_bytes: Mapped[int] = mapped_column(BigInteger)
    announced_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("account_id", "threshold", name="one_alert_per_threshold"),)
