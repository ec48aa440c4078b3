def test_login_and_case_list(app, login_as):
    client = login_as("staff")
    response = client.get("/admin/case/")
    assert response.status_code == 200
