"""Exports read only their columns, each converted by a function chosen once per export, and give
cell for cell what Flask-Admin's object-by-object path gave (kept here as the reference), on the demo
data, in Indonesian and in English, for every screen that exports."""
import csv
import io
from datetime import date, timedelta, timezone

import pytest
from flask_babel import force_locale
from flask_login import login_user
from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from sqlalchemy import event, select

from admin_app.admin.base import _plain_cell
from admin_app.admin.cases import CASE_LABELS
from admin_app.labels import label, step_title
from models import Agreement, Case, CaseStatus, Disposition, User, db
from models.sla import CITY_TIME_ZONE
from seed.demo import load_demo
from tests.factories import PASSWORD

# Every screen that exports, with a role that may export it.
EXPORTING = {"case": "kabag", "disposition": "kabag", "meeting": "kabag", "document": "kabag",
             "agreement": "kabag", "stepevent": "kabag", "complaint": "kabag", "party": "admin",
             "auditlog": "admin"}
# The list as a user leaves it: the export keeps its filters, search and sort.
CASE_LISTS = ("flt0_overdue_is=1", "flt0_due_within_days_days=7", "search=pariwisata", "sort=3&desc=1",
              "sort=4", "flt0_status_equals=on_hold", "flt0_proposing_opd_contains=Sekretariat")


@pytest.fixture()
def demo(app, users):
    """The demo cases, with their history, documents, dispositions, meetings, complaints and audit
    trail; two agreements in the register (one following the other, texts a spreadsheet would run) and a
    disposition addressed to a role only."""
    with app.app_context():
        load_demo(db.session, PASSWORD)
        done = db.session.scalars(select(Case).where(Case.status == CaseStatus.DONE).order_by(Case.id)).all()
        first = Agreement(case=done[0], number="415.4/001/425.011/2026", signed_on=date(2026, 3, 2),
                          valid_from=date(2026, 3, 2), valid_until=date(2031, 3, 1), parties="Kota dan Kabupaten")
        db.session.add(first)
        db.session.add(Agreement(case=done[1], number="=HYPERLINK(\"x\")", signed_on=date(2026, 4, 1),
                                 valid_from=date(2026, 4, 1), valid_until=date(2027, 3, 31),
                                 parties="#N/A", follows=first, note="-catatan"))
        disposition = db.session.scalars(select(Disposition).order_by(Disposition.id)).first()
        disposition.to_user, disposition.to_role = None, "kasubbag"
        db.session.commit()


def _view(app, endpoint):
    return next(view for view in app.extensions["admin"][0]._views if view.endpoint == endpoint)


def _reference_rows(app, endpoint: str, role: str, language: str, args: str) -> list[list]:
    """The export as it was written before: each row an ORM object, each cell through
    get_export_value and _plain_cell, over the same query."""
    view = _view(app, endpoint)
    with app.test_request_context(f"/admin/{endpoint}/export/csv/?{args}"):
        login_user(db.session.scalars(select(User).where(User.username == role)).one())
        with force_locale(language):
            rows = [[str(label) for _, label in view._export_columns]]
            translated: dict = {}
            for row in view._export_query().yield_per(500):
                rows.append([_plain_cell(view.get_export_value(row, name), translated)
                             for name, _ in view._export_columns])
    return rows


def _reference_csv(rows) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for values in rows:
        writer.writerow(["" if value is None else "'" + value if isinstance(value, str) and value.startswith(
            ("=", "+", "-", "@", "\t", "\r")) else value for value in values])
    return "\ufeff" + buffer.getvalue()


def _reference_xlsx(rows, title: str) -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title[:31])
    for values in rows:
        cells = []
        for value in values:  # the old rule: every text its own text cell
            if isinstance(value, str):
                value = WriteOnlyCell(sheet, value=value)
                value.data_type = "s"
            cells.append(value)
        sheet.append(cells)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _cells(data: bytes) -> list[list[tuple]]:
    sheet = load_workbook(io.BytesIO(data)).active
    return [[(cell.value, cell.data_type, cell.number_format) for cell in row] for row in sheet.iter_rows()]


def _client(login_as, role: str, language: str):
    client = login_as(role)
    client.post(f"/language/{language}")
    return client


@pytest.mark.parametrize("language", ["id", "en"])
@pytest.mark.parametrize("endpoint", sorted(EXPORTING))
def test_every_export_gives_what_the_object_path_gave(app, demo, login_as, endpoint, language):
    role = EXPORTING[endpoint]
    client = _client(login_as, role, language)
    expected = _reference_rows(app, endpoint, role, language, "")
    assert len(expected) > 2, "the demo data fills every exporting screen"

    csv_response = client.get(f"/admin/{endpoint}/export/csv/")
    assert csv_response.status_code == 200
    assert csv_response.get_data(as_text=True) == _reference_csv(expected)

    xlsx_response = client.get(f"/admin/{endpoint}/export/xlsx/")
    assert xlsx_response.status_code == 200
    got, want = _cells(xlsx_response.data), _cells(_reference_xlsx(expected, str(_view(app, endpoint).name)))
    assert [(r, c, g, w) for r, (gr, wr) in enumerate(zip(got, want)) for c, (g, w) in enumerate(zip(gr, wr)) if g != w][:5] == []
    assert got == want


@pytest.mark.parametrize("language", ["id", "en"])
@pytest.mark.parametrize("args", CASE_LISTS)
def test_case_export_keeps_the_lists_filters_search_and_sort(app, demo, login_as, args, language):
    client = _client(login_as, "kabag", language)
    expected = _reference_rows(app, "case", "kabag", language, args)
    if not args.startswith("sort"):  # the filter or search keeps some cases, not all
        assert 2 <= len(expected) < 1 + 40, len(expected)
    assert client.get(f"/admin/case/export/csv/?{args}").get_data(as_text=True) == _reference_csv(expected)
    assert _cells(client.get(f"/admin/case/export/xlsx/?{args}").data) == _cells(_reference_xlsx(expected, "Cases"))


def test_case_export_in_indonesian_reads_as_the_screens_do(app, demo, login_as):
    """Column names and choice labels in the user's language, dates as dates, times in WIB."""
    rows = list(csv.reader(io.StringIO(_client(login_as, "kabag", "id").get("/admin/case/export/csv/")
                                       .get_data(as_text=True).lstrip("\ufeff"))))
    with app.test_request_context(), force_locale("id"):
        header = [str(CASE_LABELS[name]) for name in _view(app, "case").column_export_list]
        open_label, step_one = label(CaseStatus, CaseStatus.OPEN), step_title(1)
        step_label, closed_label = str(CASE_LABELS["current_step"]), str(CASE_LABELS["closed_at"])
    assert rows[0] == header and "Batas waktu" in header and "Due" not in header
    status, step = header.index("Status"), header.index(step_label)
    assert open_label != "open" and open_label in {row[status] for row in rows[1:]}
    assert "open" not in {row[status] for row in rows[1:]}
    assert step_one in {row[step] for row in rows[1:]}
    with app.app_context():
        cancelled = db.session.scalars(select(Case).where(Case.status == CaseStatus.CANCELLED)).one()
        closed = cancelled.closed_at.replace(tzinfo=cancelled.closed_at.tzinfo or timezone.utc)
        number = cancelled.registration_number
    row = next(row for row in rows[1:] if row[0] == number)
    assert row[header.index(closed_label)] == str(closed.astimezone(CITY_TIME_ZONE).replace(tzinfo=None))


def test_case_export_selects_only_its_columns(app, demo, login_as):
    """The rows come from one select of the export's columns (its relationships joined), never as
    whole records: no column outside the export is read, and no query runs per row."""
    client = _client(login_as, "kabag", "en")
    seen: list[str] = []

    def record(conn, cursor, statement, *args):
        seen.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        response = client.get("/admin/case/export/csv/")
        lines = response.get_data(as_text=True).splitlines()  # the rows are read as they are sent
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert response.status_code == 200
    rows = [statement for statement in seen if "FROM cooperation_case" in statement and "registration_number" in statement
            and "count(" not in statement.lower()]
    assert len(rows) == 1, rows
    assert "previous_case_id" not in rows[0] and "cooperation_case.version" not in rows[0]
    assert len(lines) == 1 + 40  # the header and every demo case
    assert len(seen) < 12  # the login's reads and the count, never one per case


def test_export_queries_do_not_grow_with_the_rows(app, demo, login_as):
    client = _client(login_as, "kabag", "en")
    counts = []
    for _ in range(2):
        statements = [0]

        def count(*args):
            statements[0] += 1

        with app.app_context():
            engine = db.engine
        event.listen(engine, "before_cursor_execute", count)
        try:
            for endpoint in ("case", "stepevent", "document"):
                response = client.get(f"/admin/{endpoint}/export/xlsx/")
                assert response.status_code == 200 and response.data.startswith(b"PK")
        finally:
            event.remove(engine, "before_cursor_execute", count)
        counts.append(statements[0])
        with app.app_context():  # twice the cases, documents and history for the second round
            for case in db.session.scalars(select(Case)).all():
                db.session.add(Case(agreement_type=case.agreement_type, title=case.title + " (2)", subject=case.subject,
                                    object=case.object, opd=case.opd, proposal_number=case.proposal_number + "-2",
                                    proposal_date=case.proposal_date, received_date=case.received_date - timedelta(days=1)))
            db.session.commit()
    assert counts[1] == counts[0]
