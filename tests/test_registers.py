"""The agreement register and the complaint register, and exports of filtered lists."""
import csv
import io
import re
from datetime import date, datetime, timedelta, timezone

from openpyxl import load_workbook
from sqlalchemy import select

from models import Agreement, Case, Complaint, db
from models.sla import local_today
from tests.factories import make_case


def _done_case(app, **overrides) -> int:
    with app.app_context():
        case = make_case(**overrides)
        case.status, case.current_step = "done", 17
        db.session.commit()
        return case.id


def _agreement_form(case_id, **overrides):
    data = {"case": case_id, "number": "", "signed_on": "2026-11-02", "valid_from": "2026-11-02",
            "valid_until": "2031-11-02", "parties": "Pemerintah Kota Probolinggo; Pemerintah Kabupaten Probolinggo",
            "follows": "", "note": ""}
    data.update(overrides)
    return data


def test_a_completed_case_enters_the_register_with_a_generated_number(app, login_as, users):
    case_id = _done_case(app, agreement_type="PKS")
    response = login_as("staff").post("/admin/agreement/new/", data=_agreement_form(case_id))
    assert response.status_code == 302
    with app.app_context():
        agreement = db.session.execute(select(Agreement)).scalar_one()
        assert agreement.number == "PKS/001/425.014/2026"
        assert agreement.valid_until == date(2031, 11, 2)


def test_a_pks_longer_than_five_years_is_refused(app, login_as, users):
    case_id = _done_case(app, agreement_type="PKS")
    page = login_as("staff").post("/admin/agreement/new/", data=_agreement_form(case_id, valid_until="2031-11-03"))
    assert "at most 5 years" in page.get_data(as_text=True)
    with app.app_context():
        assert db.session.execute(select(Agreement)).first() is None


def test_an_open_case_cannot_enter_the_register(app, login_as, users):
    with app.app_context():
        case_id = make_case().id
        db.session.commit()
    page = login_as("staff").post("/admin/agreement/new/", data=_agreement_form(case_id))
    assert "completed case" in page.get_data(as_text=True)


def _numbers(page: str) -> set[str]:
    return set(re.findall(r"(?:KSB|PKS)/\d{3}/425\.014/\d{4}", page))


def test_the_validity_filters_list_exactly_the_right_agreements(app, login_as, users):
    today = local_today()
    spans = {  # number: (valid_from, valid_until)
        "KSB/001/425.014/2026": (today - timedelta(days=400), today - timedelta(days=1)),   # expired yesterday
        "KSB/002/425.014/2026": (today - timedelta(days=10), today),                         # last day today
        "KSB/003/425.014/2026": (today - timedelta(days=10), today + timedelta(days=90)),    # edge of window
        "KSB/004/425.014/2026": (today - timedelta(days=10), today + timedelta(days=91)),    # beyond it
        "KSB/005/425.014/2026": (today + timedelta(days=5), today + timedelta(days=400)),    # not yet started
    }
    with app.app_context():
        for index, (number, (start, end)) in enumerate(spans.items()):
            case = make_case(proposal_number=f"R/{index}")
            case.status = "done"
            db.session.add(Agreement(case=case, number=number, signed_on=start - timedelta(days=1),
                                     valid_from=start, valid_until=end, parties="Para pihak"))
        db.session.commit()
    client = login_as("kasubbag")
    listed = lambda value: _numbers(client.get(f"/admin/agreement/?flt0_validity_is={value}").get_data(as_text=True))
    assert listed("active") == {"KSB/002/425.014/2026", "KSB/003/425.014/2026", "KSB/004/425.014/2026"}
    assert listed("expired") == {"KSB/001/425.014/2026"}
    assert listed("expiring") == {"KSB/002/425.014/2026", "KSB/003/425.014/2026"}


def test_renewing_an_agreement_starts_a_new_case_linked_to_it(app, login_as, users):
    case_id = _done_case(app)
    with app.app_context():
        case = db.session.get(Case, case_id)
        agreement = Agreement(case=case, number="KSB/009/425.014/2026", signed_on=date(2026, 1, 5),
                              valid_from=date(2026, 1, 5), valid_until=date(2027, 1, 5), parties="Para pihak")
        db.session.add(agreement)
        db.session.commit()
        agreement_id, subject_id, opd_id = agreement.id, case.subject_id, case.opd_id
    client = login_as("staff")
    form = client.get(f"/admin/case/new/?renews={agreement_id}").get_data(as_text=True)
    assert "Extension: KSB Pengelolaan sampah regional" in form
    response = client.post(f"/admin/case/new/?renews={agreement_id}", data={
        "agreement_type": "KSB", "title": "Perpanjangan KSB sampah", "subject": subject_id, "object": "Perpanjangan",
        "opd": opd_id, "proposal_number": "660/9/2026", "proposal_date": "2026-11-20", "received_date": "2026-11-21",
        "assigned_to": "", "previous_case": "", "renews_agreement": agreement_id})
    assert response.status_code == 302
    with app.app_context():
        renewal = db.session.execute(select(Case).where(Case.title == "Perpanjangan KSB sampah")).scalar_one()
        assert renewal.renews_agreement_id == agreement_id and renewal.current_step == 1


# -- complaints ---------------------------------------------------------------------------------------
def _complaint(**overrides) -> Complaint:
    fields = {"received_at": datetime.now(timezone.utc), "channel": "phone", "complainant": "Bapak Sugeng",
              "description": "Menanyakan status KSB", "status": "new", **overrides}
    complaint = Complaint(**fields)
    db.session.add(complaint)
    return complaint


def test_complaints_past_their_response_target_are_flagged_and_filtered(app, login_as, users):
    now = datetime.now(timezone.utc)
    with app.app_context():
        _complaint(complainant="Lama belum dijawab", received_at=now - timedelta(days=20))
        _complaint(complainant="Lama sudah dijawab", received_at=now - timedelta(days=20), status="answered",
                   response="Sudah dijelaskan", responded_at=now - timedelta(days=18))
        _complaint(complainant="Baru masuk", received_at=now - timedelta(days=2))
        db.session.commit()
    client = login_as("kasubbag")
    page = client.get("/admin/complaint/?flt0_response_overdue_is=1").get_data(as_text=True)
    assert "Lama belum dijawab" in page and "Lama sudah dijawab" not in page and "Baru masuk" not in page
    assert page.count("response overdue") == 1


def test_answering_a_complaint_needs_the_response_and_stamps_its_time(app, login_as, users):
    client = login_as("staff")
    base = {"received_at": "2026-11-20 09:30:00", "channel": "email", "complainant": "Ibu Ratna",
            "contact": "ratna@example.id", "case": "", "description": "Jadwal penandatanganan?",
            "response": "", "responded_at": ""}
    page = client.post("/admin/complaint/new/", data={**base, "status": "answered"}).get_data(as_text=True)
    assert "needs the response" in page
    assert client.post("/admin/complaint/new/", data={**base, "status": "answered",
                                                     "response": "Dijadwalkan 1 Desember."}).status_code == 302
    with app.app_context():
        complaint = db.session.execute(select(Complaint)).scalar_one()
        assert complaint.responded_at is not None
        # Typed in Probolinggo time (WIB, UTC+7), stored in UTC.
        assert complaint.received_at.replace(tzinfo=None) == datetime(2026, 11, 20, 2, 30)


# -- exports ------------------------------------------------------------------------------------------
def test_csv_and_xlsx_exports_hold_exactly_the_filtered_rows(app, login_as, users):
    with app.app_context():
        for index in range(6):
            make_case(agreement_type="PKS" if index % 2 else "KSB", proposal_number=f"E/{index}")
        db.session.commit()
        pks = set(db.session.execute(select(Case.registration_number).where(Case.agreement_type == "PKS")).scalars())
    client = login_as("kasubbag")
    flt = "flt0_type_equals=PKS"
    listed = set(re.findall(r"KS/\d{4}/\d{4}", client.get(f"/admin/case/?{flt}").get_data(as_text=True)))
    assert listed == pks
    response = client.get(f"/admin/case/export/csv/?{flt}")
    assert response.status_code == 200 and response.headers["Content-Disposition"].startswith("attachment")
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert {row[0] for row in rows[1:]} == pks and len(rows) == 1 + len(pks)
    workbook = load_workbook(io.BytesIO(client.get(f"/admin/case/export/xlsx/?{flt}").data), read_only=True)
    sheet_rows = list(workbook.active.iter_rows(values_only=True))
    assert {row[0] for row in sheet_rows[1:]} == pks and len(sheet_rows) == 1 + len(pks)


def test_export_is_refused_to_roles_without_export(app, login_as, users):
    assert login_as("staff").get("/admin/party/export/csv/").status_code == 403
    assert login_as("viewer").get("/admin/case/export/xlsx/").status_code == 200


def test_a_completed_case_page_leads_to_its_register_entry(app, login_as, users):
    case_id = _done_case(app)
    client = login_as("kasubbag")
    page = client.get(f"/admin/case/details/?id={case_id}").get_data(as_text=True)
    assert f"/admin/agreement/new/?case={case_id}" in page.replace("&amp;", "&")
    assert 'value="advance"' not in page  # a closed case has no moves left
    form = client.get(f"/admin/agreement/new/?case={case_id}").get_data(as_text=True)
    assert "KS/2026/0001" in form
    client.post("/admin/agreement/new/", data=_agreement_form(case_id))
    page = client.get(f"/admin/case/details/?id={case_id}").get_data(as_text=True)
    assert "KSB/001/425.014/2026" in page


def test_the_agreement_number_may_be_left_empty_in_the_form_itself(app, login_as, users):
    """No `required` attribute or star on the number, so a browser submits it empty; the other
    NOT NULL fields stay required. Blanks count as empty and take the next register number."""
    case_id = _done_case(app)
    client = login_as("staff")
    form = client.get(f"/admin/agreement/new/?case={case_id}").get_data(as_text=True)
    number = re.search(r'<input[^>]*id="number"[^>]*>', form).group(0)
    assert " required" not in number
    assert re.search(r'<label for="number"[^>]*>[^<]*\s*&nbsp;\s*</label>', form)  # no red star
    assert re.search(r'<input[^>]*id="signed_on"[^>]*\srequired', form)
    response = client.post("/admin/agreement/new/", data=_agreement_form(case_id, number="   "))
    assert response.status_code == 302
    with app.app_context():
        assert db.session.execute(select(Agreement.number)).scalar_one() == "KSB/001/425.014/2026"
