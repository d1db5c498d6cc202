def test_login_page_renders(client):
    response = client.get("/login")
    assert response.status_code == 200
    assert b"Log in" in response.data


def test_school_add_via_cli_then_api_lists_it(runner, make_technician, api):
    result = runner.invoke(
        ["school", "add", "--urn", "123456", "--name", "St Mary's", "--la", "Essex"]
    )
    assert result.exit_code == 0, result.output
    tech = make_technician()
    body = api(tech).get("/api/v1/schools").get_json()
    assert [s["urn"] for s in body] == ["123456"]
