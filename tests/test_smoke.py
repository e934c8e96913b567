def test_put_and_get_user(client, headers):
    r = client.put("/api/v2/users", json={"identifier": "u1", "email": "u1@example.com"}, headers=headers)
    assert r.status_code == 201, r.text
    r = client.get("/api/v2/users/u1", headers=headers)
    assert r.status_code == 200, r.text
    assert r.json()["identifier"] == "u1"
