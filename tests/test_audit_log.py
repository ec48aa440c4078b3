"""The audit log reads as sentences a supervisor understands, and records only what changed."""
import re
from datetime import datetime, timezone

from sqlalchemy import select

from models import AuditLog, Meeting, User, db
from tests.factories import make_case
from tests.helpers import row_version


def _indonesian(app, role: str) -> None:
    with app.app_context():
        db.session.execute(db.update(User).where(User.username == role).values(language="id"))
        db.session.commit()


def _form_of(page: str) -> dict[str, str]:
    """What the edit form posts as it stands: its inputs, selected options and texts."""
    values = {}
    for tag in re.findall(r"<input[^>]*>", page):
        name = re.search(r'\bname="([^"]+)"', tag)
        if not name or 'type="submit"' in tag or ('type="checkbox"' in tag and "checked" not in tag):
            continue
        value = re.search(r'\bvalue="([^"]*)"', tag)
        values[name.group(1)] = value.group(1) if value else ""
    for name, body in re.findall(r'<select[^>]*\bname="([^"]+)"[^>]*>(.*?)</select>', page, re.S):
        chosen = re.search(r'<option[^>]*value="([^"]*)"[^>]*selected|<option[^>]*selected[^>]*value="([^"]*)"', body)
        values[name] = (chosen.group(1) or chosen.group(2)) if chosen else ""
    for name, body in re.findall(r'<textarea[^>]*\bname="([^"]+)"[^>]*>(.*?)</textarea>', page, re.S):
        values[name] = body.strip()
    return values


def _meeting(app, at: datetime) -> int:
    with app.app_context():
        meeting = Meeting(case=make_case(current_step=5), scheduled_at=at, place="Aula", status="planned")
        db.session.add(meeting)
        db.session.commit()
        return meeting.id


def _edit_place(client, meeting_id: int, place: str):
    page = client.get(f"/admin/meeting/edit/?id={meeting_id}").get_data(as_text=True)
    data = _form_of(page)
    data.update(place=place, row_version=row_version(page))
    return client.post(f"/admin/meeting/edit/?id={meeting_id}", data=data)


def _meeting_changes(app, meeting_id: int) -> list[dict]:
    with app.app_context():
        return list(db.session.scalars(select(AuditLog.changes).where(
            AuditLog.table_name == "meeting", AuditLog.record_id == str(meeting_id),
            AuditLog.action == "update")))


def test_editing_a_meetings_place_through_the_form_logs_only_the_place(app, login_as):
    # A time with seconds and microseconds (as made by code, not typed) used to come back from the
    # form's text at a coarser precision and be logged as a change nobody made.
    meeting_id = _meeting(app, datetime(2026, 11, 26, 2, 0, 17, 123456, tzinfo=timezone.utc))
    client = login_as("kasubbag")
    assert _edit_place(client, meeting_id, "Ruang Rapat").status_code == 302
    assert _meeting_changes(app, meeting_id) == [{"place": ["Aula", "Ruang Rapat"]}]


def test_a_round_time_edited_in_indonesian_logs_only_the_place(app, login_as):
    meeting_id = _meeting(app, datetime(2026, 11, 26, 2, 0, tzinfo=timezone.utc))
    _indonesian(app, "kasubbag")
    client = login_as("kasubbag")
    assert _edit_place(client, meeting_id, "Ruang Rapat").status_code == 302
    assert _meeting_changes(app, meeting_id) == [{"place": ["Aula", "Ruang Rapat"]}]


def _audit_page(app, login_as) -> str:
    _indonesian(app, "admin")
    return login_as("admin").get("/admin/auditlog/?page_size=100").get_data(as_text=True)


def _rows(page: str) -> list[str]:
    body = re.search(r"</thead>(.*?)</table>", page, re.S).group(1)
    return [" ".join(re.sub(r"<[^>]+>", " ", row).split()) for row in re.findall(r"<tr.*?</tr>", body, re.S)]


def test_the_audit_log_reads_as_sentences_in_indonesian_and_wib(app, login_as):
    meeting_id = _meeting(app, datetime(2026, 11, 26, 2, 0, tzinfo=timezone.utc))
    client = login_as("kasubbag")
    page = client.get(f"/admin/meeting/edit/?id={meeting_id}").get_data(as_text=True)
    data = _form_of(page)
    data.update(place="Ruang Rapat", scheduled_at="27-11-2026 13.30", status="cancelled",
                row_version=row_version(page))
    assert client.post(f"/admin/meeting/edit/?id={meeting_id}", data=data).status_code == 302

    page = _audit_page(app, login_as)
    changed = next(row for row in _rows(page) if "Ruang Rapat" in row)
    assert "Pengguna kasubbag" in changed and "mengubah" in changed and "Rapat KS/2026/0001" in changed
    assert "Tempat: Aula → Ruang Rapat" in changed
    assert "Jadwal: 26 Nov 2026 09.00 → 27 Nov 2026 13.30" in changed  # WIB, not ISO UTC
    assert "Status: Direncanakan → Dibatalkan" in changed  # codes as their labels
    created = next(row for row in _rows(page) if "membuat" in row and "Permohonan KS/2026/0001" in row)
    assert "Tanggal diterima: 2 Nov 2026" in created
    for internal in ("None", "cooperation_case", "app_user", "scheduled_at", "update", "create", "+00:00",
                     "actor / App User", "Username"):
        shown = " ".join(_rows(page))
        assert internal not in shown, (internal, shown[max(0, shown.find(internal) - 300):shown.find(internal) + 80])


def test_the_audit_filters_speak_of_people_and_kinds_of_record(app, login_as):
    page = _audit_page(app, login_as)
    groups = re.search(r'id="filter-groups-data"[^>]*>(.*?)</div>', page, re.S).group(1)
    assert '"Oleh"' in groups and '"Jenis data"' in groups and "App User" not in groups
    assert '"Permohonan"' in groups and "cooperation_case" not in groups.replace('"cooperation_case"', "")
    assert '"mengubah"' in groups


def test_a_settings_change_names_the_setting_not_its_key(app, login_as):
    from models import Setting
    with app.app_context():
        db.session.add(Setting(key="sla_working_days", value="no"))
        db.session.commit()
    _indonesian(app, "admin")
    client = login_as("admin")
    page = client.get("/admin/setting/edit/?id=sla_working_days").get_data(as_text=True)
    assert client.post("/admin/setting/edit/?id=sla_working_days",
                       data={"value": "ya", "row_version": row_version(page)}).status_code == 302
    rows = _rows(client.get("/admin/auditlog/").get_data(as_text=True))
    changed = next(row for row in rows if "mengubah" in row)
    assert "Pengaturan Hitung hari kerja" in changed and "sla_working_days" not in changed, changed
