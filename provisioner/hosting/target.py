"""A hosting server as an Ansible inventory host: how Ansible reaches it and how it
is laid out. Everything that ends up in the inventory (and so on an ssh command
line) is checked again here, not only when the server was added.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from provisioner.errors import ValidationError
from provisioner.hosting import validation

SELF_CONTAINED, SYSTEM = "self_contained", "system"


@dataclass(frozen=True)
class HostingTarget:
    """One hosting server as an Ansible inventory host.

    Two separate questions: how Ansible reaches it (`connection`: local or ssh) and
    how it is laid out (`layout`): self-contained under `root`, services started by
    the private hostctl (every local server, and an ssh server given a root), or the
    system's own services and config directories (an ssh server without a root).
    """

    name: str
    connection: str = "local"  # "local": this machine; "ssh": over ssh
    root: str | None = None
    host: str | None = None  # ssh only
    user: str | None = None  # ssh only
    http_port: int = 8080
    ftp_port: int = 2121
    port: int | None = None  # ssh port (None: 22)
    identity_file: str | None = None  # private key path on this machine
    known_hosts: str | None = None  # known_hosts file on this machine
    listen: str | None = None  # address nginx/pure-ftpd bind to (None: the layout's default)
    settings: Mapping[str, Any] = field(default_factory=dict)  # other hosting_* variables

    @property
    def layout(self) -> str:
        return SELF_CONTAINED if self.connection == "local" or self.root else SYSTEM

    @property
    def listen_address(self) -> str:
        """Where nginx and pure-ftpd listen ("": every address)."""
        if self.listen is not None:
            return validation.listen_address(self.listen)
        # self-contained: loopback unless told otherwise (nothing is exposed by
        # accident); system layout: every address, as a web server normally is
        return "127.0.0.1" if self.layout == SELF_CONTAINED else ""

    @property
    def address(self) -> str:
        """Where the server is, for messages: `local` or user@host:port."""
        if self.connection != "ssh":
            return "local"
        return f"{self.user + '@' if self.user else ''}{self.host}:{self.port or 22}"

    def _ssh_vars(self) -> dict[str, Any]:
        # checked again here (not only when the server was added): these end up as
        # arguments of the ssh command line
        hostvars: dict[str, Any] = {
            "ansible_connection": "ssh",
            "ansible_host": validation.ssh_host(self.host),
            "ansible_port": validation.port(self.port or 22, "port"),
            "ansible_python_interpreter": "/usr/bin/python3",
        }
        # host keys are always checked: against known_hosts when given, else the
        # user's own ~/.ssh/known_hosts; never accepted blindly
        args = ["-o StrictHostKeyChecking=yes"]
        if self.known_hosts:
            known = validation.local_file(self.known_hosts, "known_hosts")
            args.append(f"-o UserKnownHostsFile={known}")
        hostvars["ansible_ssh_common_args"] = " ".join(args)
        if self.identity_file:
            key = validation.local_file(self.identity_file, "identity_file")
            hostvars["ansible_ssh_private_key_file"] = key
        if self.user:
            user = validation.ssh_user(self.user)
            hostvars |= {"ansible_user": user, "ansible_become": user != "root"}
        return hostvars

    def inventory(self) -> dict:
        if self.connection == "local":
            if not self.root or not os.path.isabs(self.root):
                raise ValidationError(
                    "A local hosting server needs an absolute --root directory",
                    fields={"root": "required"},
                )
            hostvars: dict[str, Any] = {
                "ansible_connection": "local",
                # ansible-runner's interpreter, not whatever `python3` discovery finds
                "ansible_python_interpreter": "{{ ansible_playbook_python }}",
            }
        elif self.connection == "ssh":
            if not self.host:
                raise ValidationError(
                    "An ssh hosting server needs --host", fields={"host": "required"}
                )
            if self.root is not None and not os.path.isabs(self.root):
                raise ValidationError(
                    "--root must be an absolute directory", fields={"root": self.root}
                )
            hostvars = self._ssh_vars()
        else:
            raise ValidationError(
                f"Unknown connection {self.connection!r}: use local or ssh",
                fields={"connection": "local or ssh"},
            )
        hostvars |= {
            "hosting_layout": self.layout,
            "hosting_root": self.root or "/srv/hosting",
            "hosting_listen_address": self.listen_address,
            "hosting_http_port": self.http_port,
            "hosting_ftp_port": self.ftp_port,
        }
        for key, value in self.settings.items():
            if not key.startswith("hosting_"):
                raise ValidationError(
                    f"Server setting {key!r} must start with hosting_", fields={key: "unknown"}
                )
            hostvars[key] = value
        return {"all": {"hosts": {self.name: hostvars}}}
