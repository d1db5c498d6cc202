"""moto's Route 53 on 127.0.0.1 for tests (loaded by conftest as zones_moto_server).

moto is not AWS (every change INSYNC at once, DELETE ignores values, CREATE over an
existing set is accepted): conflicts, PENDING and throttling are tested with
botocore's Stubber instead.
"""

from __future__ import annotations

import urllib.request

import pytest


@pytest.fixture(scope="session")
def moto_server():
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def moto_url(moto_server, monkeypatch):
    """A clean moto (state reset) and dummy credentials in the environment."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    url = f"{moto_server}/moto-api/reset"  # always http://127.0.0.1:PORT
    request = urllib.request.Request(url, method="POST")  # noqa: S310
    with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
        assert response.status == 200
    return moto_server
