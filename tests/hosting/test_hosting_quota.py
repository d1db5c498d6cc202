"""A hosting root whose filesystem cannot enforce quotas (this machine's ext4, mounted
without user quotas): the server is added with a warning saying so, account creation
is refused with the reason and rolled back, and `--quota none` hosts on it on
purpose. Real playbooks on a local server under /tmp (not the btrfs image)."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest

from provisioner.hosting.models import HostingServer
from provisioner.registry.services import add_domain
from tests.hosting.conftest import _stop_services, free_port
from tests.hosting.test_hosting_lifecycle import get, leftovers


@pytest.fixture
def plain_root(hosting_packages):
    """A directory on the machine's own ext4 (no quota options), reachable by nginx."""
    base = Path(tempfile.mkdtemp(prefix="hosting-plain-"))
    base.chmod(0o755)
    yield base / "root"
    _stop_services(base / "root")


def _add_server(runner, name: str, root: Path, *extra: str):
    return runner.invoke(
        [
            "hosting",
            "server",
            "add",
            name,
            "--connection",
            "local",
            "--root",
            str(root),
            "--http-port",
            str(free_port()),
            "--ftp-port",
            str(free_port()),
            *extra,
            "--json",
        ]
    )


def test_a_root_without_quotas_is_flagged_and_refuses_accounts(
    app, runner, plain_root, make_school
):
    added = _add_server(runner, "plain", plain_root)
    assert added.exit_code == 0, added.output
    warning = json.loads(added.stdout)["warning"]
    assert "ext4" in warning and "without user quotas" in warning
    assert "--quota none" in warning and "warning:" in added.stderr

    school = make_school()
    add_domain(school.urn, "oakfield.essex.sch.uk")
    created = runner.invoke(
        ["hosting", "create", "--school", school.urn, "--domain", "oakfield.essex.sch.uk"]
    )
    assert created.exit_code == 1
    assert "Cannot enforce the 5368709120-byte quota" in created.output
    assert "--quota none" in created.output and "Rolled back: nothing remains." in created.output
    target = HostingServer.query.one().target()
    assert leftovers(target, "oakfield") == []


def test_quota_none_hosts_without_a_filesystem_limit(app, runner, plain_root, make_school):
    added = _add_server(runner, "plain", plain_root, "--quota", "none")
    assert added.exit_code == 0, added.output
    body = json.loads(added.stdout)
    assert body["quota"] == "none" and "warning" not in body

    school = make_school()
    add_domain(school.urn, "elmtree.essex.sch.uk")
    created = runner.invoke(
        ["hosting", "create", "--school", school.urn, "--domain", "elmtree.essex.sch.uk"]
    )
    assert created.exit_code == 0, created.output
    target = HostingServer.query.one().target()
    status, _, page = get(target, "elmtree.essex.sch.uk")
    assert status == 200 and "elmtree.essex.sch.uk" in page

    # usage off btrfs is measured with du
    (Path(target.root) / "home/elmtree/public_html/news.html").write_bytes(b"x" * 300_000)
    usage = runner.invoke(["hosting", "usage", "elmtree", "--json"])
    assert usage.exit_code == 0, usage.output
    [row] = json.loads(usage.stdout)
    assert 300_000 < row["used_bytes"] < 2_000_000 and row["quota_bytes"] == 5 * 1024**3

    deleted = runner.invoke(["hosting", "delete", "elmtree"])
    assert deleted.exit_code == 0, deleted.output
    assert leftovers(target, "elmtree") == []
