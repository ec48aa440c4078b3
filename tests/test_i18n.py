"""The panel speaks Indonesian by default, English on request, and writes dates as Indonesians do."""
from datetime import date

from sqlalchemy import select

from models import User, db
from tests.conftest import AuthActions
from tests.factories import make_case, make_user


def _indonesian_client(app, role="staff"):
    with app.app_context():
        make_user(role, username=f"{role}_id", language="id")
        db.session.commit()
    client = app.test_client()
    assert AuthActions(client).login(f"{role}_id").status_code == 302
    return client


def test_the_login_page_is_indonesian_by_default(client):
    page = client.get("/login").get_data(as_text=True)
    assert 'lang="id"' in page
    assert "Nama pengguna" in page and "Kata sandi" in page and "Masuk" in page


def test_the_panel_is_indonesian_for_a_new_user(app):
    client = _indonesian_client(app)
    page = client.get("/admin/case/").get_data(as_text=True)
    assert "Permohonan Kerja Sama" in page          # our own labels
    assert "Tambah" in page and "Daftar" in page     # Flask-Admin's own strings, from our catalogue
    assert "No. Registrasi" in page and "Create" not in page


def test_form_errors_are_indonesian(app):
    client = _indonesian_client(app)
    page = client.post("/admin/party/new/", data={"kind": "company", "name": ""}).get_data(as_text=True)
    assert "Kolom ini wajib diisi." in page


def test_dates_are_written_as_indonesians_write_them(app):
    with app.app_context():
        make_case(received_date=date(2026, 8, 17))
        db.session.commit()
    client = _indonesian_client(app)
    page = client.get("/admin/case/").get_data(as_text=True)
    assert "17 Agu 2026" in page


def test_each_user_may_switch_to_english_and_it_is_remembered(app):
    client = _indonesian_client(app)
    assert client.post("/language/en", data={"next": "/admin/case/"}).status_code == 302
    page = client.get("/admin/case/").get_data(as_text=True)
    assert "Cases" in page and "Create" in page and "Permohonan Kerja Sama" not in page
    with app.app_context():
        assert db.session.execute(select(User.language).where(User.username == "staff_id")).scalar_one() == "en"
    again = app.test_client()
    AuthActions(again).login("staff_id")
    assert "Create" in again.get("/admin/case/").get_data(as_text=True)


def test_an_unknown_language_is_refused(app):
    client = _indonesian_client(app)
    assert client.post("/language/xx").status_code == 404


def test_times_are_shown_in_probolinggo_time(app):
    from datetime import datetime, timezone

    from models import Meeting
    with app.app_context():
        db.session.add(Meeting(case=make_case(), scheduled_at=datetime(2026, 11, 26, 2, 0, tzinfo=timezone.utc),
                               place="Aula", status="planned"))
        db.session.commit()
    page = _indonesian_client(app, "kasubbag").get("/admin/meeting/").get_data(as_text=True)
    assert "26 Nov 2026 09.00" in page  # 02:00 UTC is 09.00 WIB
