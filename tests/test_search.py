"""Search served by an index (issue 11): the case list's search box and the case search boxes of
forms give exactly the rows Flask-Admin's per-column search gave, and on PostgreSQL the list's
search query is answered from the trigram index."""
import re
from datetime import date

import pytest
from sqlalchemy import event, text

from models import Case, db
from tests.factories import make_case

# Four searchable columns: registration number (given in order: KS/2026/0001, 0002, ...), title,
# object, proposal letter number.
CASES = [
    dict(title="Kerja sama pengembangan pariwisata Bromo", object="Promosi wisata bersama",
         proposal_number="556/101/425.111/2026"),
    dict(title="Pendidikan vokasi", object="Magang siswa SMK di sektor pariwisata",
         proposal_number="421/77/425.102/2026"),
    dict(title="Penyediaan air bersih", object="Jaringan pipa PDAM", proposal_number="A_1",
         agreement_type="PKS"),
    dict(title="Pengelolaan sampah", object="TPA regional 100% terpilah", proposal_number="AB1"),
    dict(title="Kesehatan ibu dan anak", object="Layanan posyandu", proposal_number="440/9/KS/2026"),
]

SEARCHES = ["pariwisata", "PARIWISATA", "Wisata", "wisata bromo", "KS/2026/0001", "ks/2026", "0003",
            "A_1", "a_1", "100%", "%", "_", "ab", "vokasi magang", "^penge", "^pipa", "=ab1", "=ab",
            "pariwisata tidakada", "  sampah  ", "air  bersih", "'", "\\", "425.1"]


def _old_semantics(cases, search: str) -> set[str]:
    """Flask-Admin's search on these columns, literally: every blank-separated word occurs (any
    letter case) in one of the columns; `^w` starts one, `=w` equals one; `%` and `_` are typed text."""
    def column_matches(value: str, word: str) -> bool:
        value, word = value.lower(), word.lower()
        if word.startswith("^"):
            return value.startswith(word[1:])
        if word.startswith("="):
            return value == word[1:]
        return word in value

    words = [word for word in search.split(" ") if word]
    return {case.registration_number for case in cases
            if all(any(column_matches(value, word) for value in
                       (case.registration_number, case.title, case.object, case.proposal_number))
                   for word in words)}


def _listed(response) -> set[str]:
    assert response.status_code == 200
    return set(re.findall(r">(KS/\d{4}/\d{4})</a>", response.get_data(as_text=True)))


@pytest.fixture()
def cases(app):
    with app.app_context():
        made = [make_case(received_date=date(2026, 11, 2), **fields) for fields in CASES]
        db.session.commit()
        numbers = [case.registration_number for case in made]
        stored = db.session.query(Case).order_by(Case.id).all()
        db.session.expunge_all()
    assert numbers[0] == "KS/2026/0001"
    return stored


def test_the_list_search_finds_what_the_per_column_search_found(login_as, cases):
    client = login_as("staff")
    for search in SEARCHES:
        assert _listed(client.get("/admin/case/", query_string={"search": search})) == \
            _old_semantics(cases, search), search


def test_typed_wildcards_are_text(login_as, cases):
    client = login_as("staff")
    assert _listed(client.get("/admin/case/?search=A_1")) == {"KS/2026/0003"}  # not AB1
    assert _listed(client.get("/admin/case/?search=100%25")) == {"KS/2026/0004"}
    assert _listed(client.get("/admin/case/?search=%25")) == {"KS/2026/0004"}


def test_search_combines_with_a_filter_and_the_count(login_as, cases):
    client = login_as("staff")
    assert _listed(client.get("/admin/case/?search=pariwisata")) == {"KS/2026/0001", "KS/2026/0002"}
    page = client.get("/admin/case/?search=pa&flt0_type_equals=PKS")
    assert _listed(page) == {"KS/2026/0003"}
    # The count is of the searched rows, not of every case: Flask-Admin's "List (2)".
    whole = client.get("/admin/case/?search=pariwisata").get_data(as_text=True)
    assert re.search(r"\(2\)</a>", whole), whole[:3000]


def test_the_search_follows_changes_and_deletions(app, login_as, cases):
    """SQLite's FTS5 table is kept by triggers, PostgreSQL's index by the database itself."""
    with app.app_context():
        case = db.session.get(Case, cases[4].id)
        case.title = "Pengembangan pariwisata religi"
        db.session.delete(db.session.get(Case, cases[0].id))
        db.session.commit()
    client = login_as("staff")
    assert _listed(client.get("/admin/case/?search=pariwisata")) == {"KS/2026/0002", "KS/2026/0005"}
    assert _listed(client.get("/admin/case/?search=kesehatan")) == set()
    assert _listed(client.get("/admin/case/?search=bromo")) == set()
    assert _listed(client.get("/admin/case/?search=religi")) == {"KS/2026/0005"}


def test_the_export_carries_the_search(login_as, cases):
    client = login_as("staff")
    csv = client.get("/admin/case/export/csv/?search=pariwisata").get_data(as_text=True)
    assert "KS/2026/0001" in csv and "KS/2026/0002" in csv and "KS/2026/0003" not in csv


def test_the_case_search_box_finds_by_number_or_title_only(login_as, cases):
    client = login_as("staff")

    def found(query: str) -> set[str]:
        answer = client.get("/admin/case/ajax/lookup/", query_string={"name": "previous_case", "query": query})
        assert answer.status_code == 200
        return {re.match(r"KS/\d{4}/\d{4}", label).group(0) for _, label in answer.get_json()}

    assert found("PARIWISATA") == {"KS/2026/0001"}  # case 2 has it in its object: not a searched field
    assert found("ks/2026/0002") == {"KS/2026/0002"}
    assert found("pengembangan pariwisata") == {"KS/2026/0001"}  # one phrase, in the title
    assert found("0001 kerja") == set()  # a phrase never spans two columns
    assert found("air") == set()  # a PKS: the box offers only KSBs
    assert found("_") == set()


def test_the_list_search_query_is_served_by_the_search_index(app, login_as, cases):
    """The statements of the list (rows and count) and of a case search box, captured as sent, then
    explained: PostgreSQL reads the trigram index, SQLite the FTS5 trigram table."""
    with app.app_context():
        engine = db.engine
    postgresql = engine.dialect.name == "postgresql"
    client = login_as("staff")
    seen = []

    def capture(connection, cursor, statement, parameters, context, executemany):
        if "cooperation_case" in statement and ("ILIKE" in statement or "MATCH" in statement):
            seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        assert _listed(client.get("/admin/case/?search=pariwisata")) == {"KS/2026/0001", "KS/2026/0002"}
        count_and_page = len(seen)
        # A case box without a filter of its own (the KSB box may rightly start from the type's index).
        found = client.get("/admin/meeting/ajax/lookup/?name=case&query=pariwisata").get_json()
        assert [label[:12] for _, label in found] == ["KS/2026/0001"]
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    assert count_and_page == 2 and len(seen) == 3
    with engine.connect() as connection:
        if postgresql:
            # With five rows any plan is cheap: the table scan and the plain index walks (received
            # date, registration number) are turned off, so the plan shows whether the search
            # condition is the indexed expression at all; a drift leaves only the disabled plans.
            connection.execute(text("SET enable_seqscan = off"))
            connection.execute(text("SET enable_indexscan = off"))
        for statement, parameters in seen:
            explain = "EXPLAIN " if postgresql else "EXPLAIN QUERY PLAN "
            plan = "\n".join(str(row[-1]) for row in connection.exec_driver_sql(explain + statement, parameters))
            index = "ix_case_search_text" if postgresql else "case_search VIRTUAL TABLE"
            assert index in plan, (statement, plan)
