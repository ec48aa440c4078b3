"""Two people acting on one case at the same moment, on the real database (SQLite or PostgreSQL)."""
import threading

import pytest
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from models import Case, StepEvent, db
from tests.conftest import AuthActions
from tests.factories import make_case, make_document, make_user
from tests.helpers import case_form, row_version


class SameMoment:
    """Holds every flush that writes `kind` history until `parties` requests reach it, then lets
    them all write at once: both have read the case before either writes."""

    def __init__(self, parties: int, kind: str):
        self.barrier = threading.Barrier(parties, timeout=15)
        self.kind = kind

    def __enter__(self):
        event.listen(Session, "before_flush", self._wait)
        return self

    def __exit__(self, *exc):
        event.remove(Session, "before_flush", self._wait)

    def _wait(self, session, flush_context, instances):
        if any(isinstance(obj, StepEvent) and obj.kind == self.kind for obj in session.new):
            self.barrier.wait()


def _logged_in(app, username):
    client = app.test_client()
    assert AuthActions(client).login(username).status_code == 302
    return client


def _ready_case(app, step=2, later_steps_ready=True) -> tuple[int, dict]:
    """A case at `step` whose evidence is there, and that of the steps after it too."""
    with app.app_context():
        case = make_case(current_step=step)
        make_document(case, "plan", "Rencana")
        if later_steps_ready:
            make_document(case, "opd_draft", "Draf OPD")
            make_document(case, "disposition_sheet", "Lembar disposisi")
        db.session.commit()
        return case.id, {"step": str(case.current_step), "version": str(case.version)}


@pytest.mark.parametrize("parties", [2, 8])
def test_simultaneous_advances_from_one_page_state_move_the_case_exactly_one_step(app, users, parties):
    with app.app_context():
        for index in range(2, parties + 1):
            make_user("kasubbag" if index % 2 else "staff", username=f"worker{index}", full_name=f"Pekerja {index}")
        db.session.commit()
    case_id, seen = _ready_case(app)
    clients = [_logged_in(app, "staff" if index == 1 else f"worker{index}") for index in range(1, parties + 1)]
    responses = [None] * parties

    def advance(index):
        responses[index] = clients[index].post("/admin/case/move/", data={"id": case_id, "move": "advance", **seen},
                                               follow_redirects=True)

    with SameMoment(parties, "advance"):
        threads = [threading.Thread(target=advance, args=(i,)) for i in range(parties)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    with app.app_context():
        assert db.session.get(Case, case_id).current_step == 3
        moves = db.session.execute(select(StepEvent).where(StepEvent.case_id == case_id,
                                                           StepEvent.kind == "advance")).scalars().all()
        assert len(moves) == 1
    pages = [r.get_data(as_text=True) for r in responses]
    assert sum("already moved by" in page for page in pages) == parties - 1  # the others are told who moved it


def test_advances_that_arrive_one_after_another_from_one_page_state_move_it_once(app, users):
    """Eight clicks from the same page, the later ones after the first has landed (no barrier)."""
    case_id, seen = _ready_case(app)
    client = _logged_in(app, "staff")
    for _ in range(8):
        client.post("/admin/case/move/", data={"id": case_id, "move": "advance", **seen})
    with app.app_context():
        assert db.session.get(Case, case_id).current_step == 3


def test_an_edit_and_an_advance_at_once_lose_nothing(app, users):
    """The edit form was loaded before the advance: its save is refused, not silently applied."""
    with app.app_context():
        case = make_case(current_step=2)
        make_document(case, "plan", "Rencana")
        db.session.commit()
        case_id = case.id
    editor, mover = _logged_in(app, "kasubbag"), _logged_in(app, "staff")
    version = row_version(editor.get(f"/admin/case/edit/?id={case_id}").get_data(as_text=True))
    mover.post("/admin/case/move/", data={"id": case_id, "move": "advance", "step": "2", "version": version})
    with app.app_context():
        data = case_form(db.session.get(Case, case_id), title="Judul baru", row_version=version)
    page = editor.post(f"/admin/case/edit/?id={case_id}", data=data).get_data(as_text=True)
    assert "changed by someone else" in page
    with app.app_context():
        case = db.session.get(Case, case_id)
        assert (case.current_step, case.title) == (3, "KSB Pengelolaan sampah regional")
