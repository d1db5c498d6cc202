"""What `make run` does, step by step, as subprocesses: the login page is served
and the printed demo logins work."""

from __future__ import annotations

import re


def test_make_run_serves_the_login_page_and_demo_logins_work(server, http):
    assert "database is up to date" in server.cli("db", "upgrade").stdout
    # bad input on the way: exit 1, the problem on stderr, nothing saved (demo still loads)
    result = server.cli("school", "add", "--urn", "12345", "--name", "Short", check=False)
    assert result.returncode == 1 and result.stdout == ""
    assert "URN '12345' is not valid: a URN is exactly six digits" in result.stderr
    printed = server.cli("demo", "load", "--if-empty").stdout
    logins = re.findall(r"^\s+(\S+@\S+)\s+(\S+)\s+(.+)$", printed, flags=re.M)
    roles = {what.strip(): (email, password) for email, password, what in logins}
    assert "admin" in roles and "technician" in roles and len(logins) == 11
    # a second run leaves the data alone, as `make run` does every time
    assert "demo not loaded" in server.cli("demo", "load", "--if-empty").stdout
    server.start()  # with the embedded worker and scheduler, as `make run`

    status, page, _ = http(server.url).get("/")
    assert status == 200 and "<h1>Log in</h1>" in page

    staff = http(server.url)
    status, page, url = staff.login(*roles["technician"])
    assert status == 200 and url.endswith("/admin/schools"), (status, url)
    for name in ("St Mary&#39;s C of E Primary School", "Oakfield Academy", "Riverside"):
        assert name in page

    email, password = next(
        (e, p) for e, p, what in logins if what.startswith("Oakfield Academy: nominated, SLT")
    )
    school = http(server.url)
    status, page, url = school.login(email, password)
    assert status == 200 and url.endswith("/portal/")
    assert "Oakfield Academy" in page and "oakfield.kent.sch.uk" in page
    assert "stmarys" not in page and "Riverside" not in page

    status, page, _ = http(server.url).login(email, "not-the-password")
    assert status == 401 and "email or password is not correct" in page

    # The embedded worker and scheduler ran beside the web app without failing
    # (a table missing from the migrations shows up here first).
    server.stop()
    log = server.log.read_text()
    assert "Traceback" not in log, log[-3000:]
