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


# -- no internal names, no "None", no UTC on the screens --------------------------------------------

def _visible(page: str) -> str:
    """The text a user reads: tags, their attributes and scripts removed."""
    import re
    return re.sub(r"<[^>]+>", " ", re.sub(r"<script.*?</script>", " ", page, flags=re.S))


def _working_days_setting(app, value: str = "no") -> None:
    from models import Setting
    with app.app_context():
        db.session.add(Setting(key="sla_working_days", value=value))
        db.session.commit()


def test_a_yes_no_setting_reads_ya_tidak_and_takes_them(app):
    import re

    from models import Setting
    _working_days_setting(app, "no")
    client = _indonesian_client(app, "admin")
    listed = client.get("/admin/setting/").get_data(as_text=True)
    row = re.search(r"<tr>(?:(?!</tr>).)*Hitung hari kerja(?:(?!</tr>).)*</tr>", listed, re.S).group(0)
    assert re.search(r'col-value">\s*tidak\s*<', row) and "sla_working_days" not in _visible(row)
    form = client.get("/admin/setting/edit/?id=sla_working_days").get_data(as_text=True)
    assert "Ubah pengaturan “Hitung hari kerja, bukan hari kalender (ya/tidak)”" in form
    assert re.search(r'<input[^>]*name="value"[^>]*value="tidak"', form)
    version = re.search(r'name="row_version"[^>]*value="(\d+)"', form).group(1)
    assert client.post("/admin/setting/edit/?id=sla_working_days",
                       data={"value": "Ya", "row_version": version}).status_code == 302
    with app.app_context():
        assert db.session.get(Setting, "sla_working_days").value == "yes"  # the code, whatever was typed
    assert re.search(r'col-value">\s*ya\s*<', client.get("/admin/setting/").get_data(as_text=True))


def test_a_refused_setting_is_named_by_its_label_not_its_key(app):
    import re

    from models import Setting
    _working_days_setting(app, "no")
    client = _indonesian_client(app, "admin")
    form = client.get("/admin/setting/edit/?id=sla_working_days").get_data(as_text=True)
    version = re.search(r'name="row_version"[^>]*value="(\d+)"', form).group(1)
    page = client.post("/admin/setting/edit/?id=sla_working_days",
                       data={"value": "mungkin", "row_version": version}).get_data(as_text=True)
    assert "“Hitung hari kerja, bukan hari kalender (ya/tidak)”: Isikan ya atau tidak." in page
    assert "sla_working_days" not in _visible(page)
    with app.app_context():
        assert db.session.get(Setting, "sla_working_days").value == "no"


def test_detail_pages_show_no_version_row_and_no_none(app):
    with app.app_context():
        case_id = make_case().id
        db.session.commit()
    client = _indonesian_client(app, "kabag")
    for path in (f"/admin/case/details/?id={case_id}", "/admin/party/details/?id=1"):
        page = client.get(path).get_data(as_text=True)
        assert "Version" not in page and "Versi" not in page, path
        assert "None" not in _visible(page), path


def test_export_file_names_carry_probolinggo_time(app):
    import re
    from datetime import datetime, timedelta, timezone

    client = _indonesian_client(app, "kabag")
    before = datetime.now(timezone(timedelta(hours=7))).replace(tzinfo=None, microsecond=0)
    response = client.get("/admin/party/export/csv/")
    after = datetime.now(timezone(timedelta(hours=7))).replace(tzinfo=None, microsecond=0)
    stamp = re.search(r"_(\d{4}-\d\d-\d\d_\d\d-\d\d-\d\d)\.csv", response.headers["Content-Disposition"]).group(1)
    assert before <= datetime.strptime(stamp, "%Y-%m-%d_%H-%M-%S") <= after  # WIB, not the server's UTC


def test_decimals_are_written_with_a_comma(app):
    from decimal import Decimal

    from admin_app.admin.base import FORMATTERS
    with app.test_request_context():
        from flask_babel import force_locale
        with force_locale("id"):
            assert FORMATTERS[float](None, 1.8, "x") == "1,8"
            assert FORMATTERS[Decimal](None, Decimal("1250.5"), "x") == "1.250,5"
            assert FORMATTERS[type(None)](None, None, "x") == ""
