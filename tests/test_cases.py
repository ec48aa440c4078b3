"""Registering and editing cases through the panel: the standard's rules and the data's safety."""
from datetime import date

from sqlalchemy import func, select

from models import AuditLog, Case, Party, StepEvent, db
from tests.factories import make_case, make_party
from tests.helpers import case_form, count_queries, row_version


def _new_case_form(app, **overrides):
    with app.app_context():
        subject = make_party("university", "Universitas Panca Marga")
        opd = make_party("opd", "Dinas Pendidikan dan Kebudayaan")
        db.session.commit()
        data = {"agreement_type": "KSB", "title": "KSB Magang mahasiswa", "subject": str(subject.id),
                "object": "Program magang dan penelitian terapan", "opd": str(opd.id),
                "proposal_number": "070/55/425.101/2026", "proposal_date": "2026-11-02",
                "received_date": "2026-11-03", "assigned_to": "", "previous_case": ""}
    data.update(overrides)
    return data


def _case_count(app) -> int:
    with app.app_context():
        return db.session.execute(select(func.count()).select_from(Case)).scalar_one()


def test_staff_registers_a_case_with_number_due_date_and_history(app, login_as, users):
    client = login_as("staff")
    response = client.post("/admin/case/new/", data=_new_case_form(app))
    assert response.status_code == 302
    with app.app_context():
        case = db.session.execute(select(Case)).scalar_one()
        assert case.registration_number == "KS/2026/0001"
        assert case.due_date == date(2026, 11, 24)  # 3 Nov + 21 calendar days
        assert (case.current_step, case.status) == (1, "open")
        event = db.session.execute(select(StepEvent).where(StepEvent.case_id == case.id)).scalar_one()
        assert (event.kind, event.to_step, event.actor_id) == ("register", 1, users["staff"])


def test_registration_numbers_count_up_within_the_received_year(app, login_as, users):
    client = login_as("staff")
    for received in ("2026-01-05", "2026-02-01", "2027-01-02"):
        assert client.post("/admin/case/new/", data=_new_case_form(app, received_date=received,
                                                                  proposal_date=received)).status_code == 302
    with app.app_context():
        numbers = db.session.execute(select(Case.registration_number).order_by(Case.id)).scalars().all()
    assert numbers == ["KS/2026/0001", "KS/2026/0002", "KS/2027/0001"]


def test_pks_gets_thirty_days(app, login_as, users):
    client = login_as("staff")
    client.post("/admin/case/new/", data=_new_case_form(app, agreement_type="PKS"))
    with app.app_context():
        assert db.session.execute(select(Case.due_date)).scalar_one() == date(2026, 12, 3)


def test_the_three_requirements_of_the_standard_are_enforced(app, login_as, users):
    client = login_as("staff")
    for missing in ("subject", "object", "proposal_number", "proposal_date"):
        response = client.post("/admin/case/new/", data=_new_case_form(app, **{missing: ""}))
        assert response.status_code == 200, missing  # the form comes back with the error
        assert _case_count(app) == 0, missing
    response = client.post("/admin/case/new/", data=_new_case_form(app, object="   "))
    assert _case_count(app) == 0


def test_proposing_party_must_be_an_opd(app, login_as, users):
    client = login_as("staff")
    with app.app_context():
        company = make_party("company", "PT Bukan OPD").id
        db.session.commit()
    response = client.post("/admin/case/new/", data=_new_case_form(app, opd=str(company)))
    assert "OPD" in response.get_data(as_text=True)
    assert _case_count(app) == 0


def test_step_status_and_due_date_are_not_on_the_form(app, login_as, users):
    with app.app_context():
        case_id = make_case().id
        db.session.commit()
    client = login_as("kabag")
    page = client.get(f"/admin/case/edit/?id={case_id}").get_data(as_text=True)
    for field in ("current_step", "status", "due_date", "registration_number"):
        assert f'name="{field}"' not in page
    with app.app_context():
        case = db.session.get(Case, case_id)
        data = case_form(case, current_step="17", status="done", due_date="2030-01-01",
                         registration_number="X", row_version=row_version(page))
    assert client.post(f"/admin/case/edit/?id={case_id}", data=data).status_code == 302
    with app.app_context():
        case = db.session.get(Case, case_id)
        assert (case.current_step, case.status, case.due_date, case.registration_number) == (
            1, "open", date(2026, 11, 23), "KS/2026/0001")


def test_a_stale_form_from_a_second_tab_is_refused(app, login_as, users):
    with app.app_context():
        case_id = make_case().id
        db.session.commit()
    client = login_as("staff")
    tab_one = row_version(client.get(f"/admin/case/edit/?id={case_id}").get_data(as_text=True))
    tab_two = row_version(client.get(f"/admin/case/edit/?id={case_id}").get_data(as_text=True))
    with app.app_context():
        case = db.session.get(Case, case_id)
        first = case_form(case, title="Judul dari tab pertama", row_version=tab_one)
        second = case_form(case, title="Judul dari tab kedua", row_version=tab_two)
    assert client.post(f"/admin/case/edit/?id={case_id}", data=first).status_code == 302
    response = client.post(f"/admin/case/edit/?id={case_id}", data=second)
    assert response.status_code == 200
    assert "reload" in response.get_data(as_text=True).lower() or "muat ulang" in response.get_data(as_text=True).lower()
    with app.app_context():
        assert db.session.get(Case, case_id).title == "Judul dari tab pertama"


def test_a_form_without_its_version_is_refused(app, login_as, users):
    with app.app_context():
        case = make_case()
        data = case_form(case, title="Tanpa versi")
        case_id = case.id
        db.session.commit()
    client = login_as("staff")
    client.post(f"/admin/case/edit/?id={case_id}", data=data)
    with app.app_context():
        assert db.session.get(Case, case_id).title != "Tanpa versi"


def test_a_database_error_shows_a_plain_message_and_changes_nothing(app, login_as, users):
    with app.app_context():
        case = make_case()
        party_id = case.subject_id
        db.session.commit()
    client = login_as("admin")
    response = client.post("/admin/party/delete/", data={"id": str(party_id)}, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "DELETE" not in page and "sqlalchemy" not in page.lower() and "FOREIGN KEY" not in page.upper()
    with app.app_context():
        assert db.session.get(Party, party_id) is not None


def test_every_write_through_the_panel_is_in_the_audit_log(app, login_as, users):
    client = login_as("staff")
    client.post("/admin/party/new/", data={"kind": "company", "name": "PT Audit Satu", "email": ""})
    with app.app_context():
        party = db.session.execute(select(Party).where(Party.name == "PT Audit Satu")).scalar_one()
        party_id = party.id
    page = client.get(f"/admin/party/edit/?id={party_id}").get_data(as_text=True)
    client.post(f"/admin/party/edit/?id={party_id}", data={
        "kind": "company", "name": "PT Audit Dua", "email": "", "row_version": row_version(page)})
    admin = login_as("admin")  # only the IT administrator deletes reference data
    admin.post("/admin/party/delete/", data={"id": str(party_id)})
    with app.app_context():
        rows = db.session.execute(select(AuditLog).where(AuditLog.table_name == "party",
                                                         AuditLog.record_id == str(party_id))
                                  .order_by(AuditLog.id)).scalars().all()
        assert [row.action for row in rows] == ["create", "update", "delete"]
        assert rows[0].actor_id == users["staff"] and rows[2].actor_id == users["admin"]
        assert rows[1].changes == {"name": ["PT Audit Satu", "PT Audit Dua"]}
        assert rows[2].changes["name"] == ["PT Audit Dua", None]


def test_case_list_runs_the_same_number_of_queries_for_5_and_40_rows(app, login_as, users):
    client = login_as("kasubbag")

    def queries_for_list() -> int:
        with app.app_context(), count_queries() as seen:
            assert client.get("/admin/case/?page_size=50").status_code == 200
        return seen[0]

    with app.app_context():
        for number in range(5):
            make_case(proposal_number=f"P/{number}", assigned_to_id=users["staff"])
        db.session.commit()
    client.get("/admin/")  # My work counts the badge, which the session then keeps for the lists
    few = queries_for_list()
    with app.app_context():
        for number in range(35):
            make_case(proposal_number=f"Q/{number}", assigned_to_id=users["staff"])
        db.session.commit()
    assert queries_for_list() == few


def test_case_form_does_not_load_whole_tables_into_dropdowns(app, login_as, users):
    with app.app_context():
        for number in range(30):
            make_party("company", f"PT Mitra {number:02d}")
        make_party("opd", "Dinas Perikanan")
        db.session.commit()
    client = login_as("staff")
    page = client.get("/admin/case/new/").get_data(as_text=True)
    assert "PT Mitra 17" not in page
    found = client.get("/admin/case/ajax/lookup/?name=opd&query=Dinas").get_json()
    assert [label for _, label in found] == ["Dinas Perikanan"]  # companies are not OPDs
    found = client.get("/admin/case/ajax/lookup/?name=subject&query=Mitra 1").get_json()
    assert len(found) == 10
