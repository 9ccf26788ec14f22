def test_create_and_list_asset(client, admin_headers):
    r = client.post(
        "/api/zones",
        json={"name": "生产区", "kind": "production", "cidrs": ["10.1.0.0/16"]},
        headers=admin_headers,
    )
    assert r.status_code == 201, r.text
    zone = r.json()["id"]
    r = client.post(
        "/api/assets",
        json={"name": "db-01", "hostname": "DB-01", "ips": ["10.1.2.3"], "zone_id": zone},
        headers=admin_headers,
    )
    assert r.status_code == 201, r.text
    a = r.json()
    assert a["hostname"] == "db-01" and a["primary_ip"] == "10.1.2.3"
    r = client.get("/api/assets", params={"zone_id": zone, "q": "10.1.2"}, headers=admin_headers)
    assert r.status_code == 200 and r.json()["total"] == 1
    r = client.get("/api/audit/verify", headers=admin_headers)
    assert r.json()["ok"] is True and r.json()["checked"] >= 2
