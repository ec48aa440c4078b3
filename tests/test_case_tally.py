"""The tally of cases per status, step and type (CaseTally) that the dashboard reads: every write of a
case keeps it in the same transaction, a refused or rolled-back write leaves it as it was, and the
migration that made it counted the cases already stored (issue 11)."""
from datetime import date

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import select, text

from models import Case, User, db, workflow
from models.case import CaseTally
from models.sla import local_today
from tests.factories import make_case, make_party, make_user
from tests.helpers import move


def _counted(connection) -> dict:
    return {tuple(row[:3]): row[3] for row in connection.execute(text(
        "SELECT status, current_step, agreement_type, count(*) FROM cooperation_case "
        "GROUP BY status, current_step, agreement_type"))}


def _tally(connection) -> dict:
    return {tuple(row[:3]): row[3] for row in connection.execute(text(
        "SELECT status, current_step, agreement_type, cases FROM case_tally")) if row[3]}


def _assert_kept(app) -> dict:
    with app.app_context():
        db.session.remove()
        with db.engine.connect() as connection:
            tally, counted = _tally(connection), _counted(connection)
    assert tally == counted
    return tally


@pytest.fixture()
def cases(app, users):
    with app.app_context():
        opd, partner = make_party("opd", "Dinas Pariwisata"), make_party("company", "PT Wisata")
        made = [make_case(opd=opd, subject=partner, title=f"Kerja sama {n}", proposal_number=f"P/{n}",
                          agreement_type="PKS" if n % 3 == 0 else "KSB") for n in range(9)]
        db.session.commit()
        return [case.id for case in made]


def test_registering_moving_holding_cancelling_and_deleting_keep_the_tally(app, users, cases):
    assert _assert_kept(app) == {("open", 1, "KSB"): 6, ("open", 1, "PKS"): 3}
    today = local_today()
    with app.app_context():
        kasubbag, kabag = db.session.get(User, users["kasubbag"]), db.session.get(User, users["kabag"])
        first, second, third, fourth, fifth = (db.session.get(Case, case_id) for case_id in cases[:5])
        workflow.hold(db.session, first, kasubbag, "Menunggu draf dari OPD", today, "waiting_opd_draft")
        workflow.hold(db.session, second, kasubbag, "Menunggu mitra", today, "waiting_counterparty")
        db.session.commit()
        workflow.resume(db.session, second, kasubbag, "Draf diterima", today)
        workflow.cancel(db.session, third, kabag, "withdrawn", "Ditarik oleh OPD")
        fourth.current_step, fourth.agreement_type = 5, "PKS"  # a correction by hand of step and type
        db.session.delete(fifth)
        db.session.commit()
    assert _assert_kept(app) == {("on_hold", 1, "PKS"): 1, ("open", 1, "KSB"): 4, ("open", 1, "PKS"): 1,
                                 ("cancelled", 1, "KSB"): 1, ("open", 5, "PKS"): 1}


def test_a_move_through_the_panel_keeps_the_tally(app, login_as, users, cases):
    client = login_as("kasubbag")
    response = move(client, cases[1], "hold", note="Menunggu draf", category="waiting_opd_draft")
    assert response.status_code == 200
    with app.app_context():
        assert db.session.get(Case, cases[1]).status == "on_hold"
    assert _assert_kept(app)[("on_hold", 1, "KSB")] == 1


def test_a_refused_or_rolled_back_write_leaves_the_tally_as_it_was(app, login_as, users, cases):
    before = _assert_kept(app)
    client = login_as("kasubbag")
    response = move(client, cases[1], "hold", note="Menunggu")  # a hold needs its reason category
    assert response.status_code == 200
    with app.app_context():
        case = db.session.get(Case, cases[2])
        case.status = "done"
        db.session.flush()  # counted in the flush ...
        db.session.rollback()  # ... and out again with the transaction
        stale = db.session.get(Case, cases[3])
        db.session.execute(text("UPDATE cooperation_case SET version = version + 1 WHERE id = :id"), {"id": cases[3]})
        stale.status = "cancelled"
        with pytest.raises(Exception):
            db.session.commit()  # another write came first: the version check refuses this one
        db.session.rollback()
    assert _assert_kept(app) == before


def test_the_dashboard_reads_the_open_cases_per_step_and_type_from_the_tally(app, login_as, users, cases):
    with app.app_context():  # a tally row says more than the cases: the page shows what the tally says
        db.session.execute(text("UPDATE case_tally SET cases = cases + 40 "
                                "WHERE status = 'open' AND current_step = 1 AND agreement_type = 'PKS'"))
        db.session.commit()
    page = login_as("kabag").get("/admin/figures/").get_data(as_text=True)
    assert ">43<" in page.replace(" ", "")  # 3 PKS cases + 40


def test_the_migration_counts_the_cases_already_stored(app, users, cases):
    with app.app_context():
        kasubbag = db.session.get(User, users["kasubbag"])
        workflow.hold(db.session, db.session.get(Case, cases[0]), kasubbag, "Menunggu draf", date.today(),
                      "waiting_opd_draft")
        db.session.commit()
    live = _assert_kept(app)
    with app.app_context():
        db.session.remove()
        downgrade(revision="0006")
        upgrade()
        with db.engine.connect() as connection:
            assert _tally(connection) == live == _counted(connection)
