"""Two people acting on one case at the same moment, on the real database (SQLite or PostgreSQL)."""
import threading

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from models import Case, Document, StepEvent, db
from tests.conftest import AuthActions
from tests.factories import make_case, make_user
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


def test_two_simultaneous_advances_move_the_case_exactly_one_step(app, users):
    with app.app_context():
        make_user("staff", username="staff2", full_name="Staf Kedua")
        case = make_case(current_step=2)
        db.session.add(Document(case=case, kind="plan", title="Rencana", revision=1))
        db.session.commit()
        case_id = case.id
    clients = [_logged_in(app, "staff"), _logged_in(app, "staff2")]
    responses = [None, None]

    def advance(index):
        responses[index] = clients[index].post("/admin/case/move/", data={"id": case_id, "move": "advance"},
                                               follow_redirects=True)

    with SameMoment(2, "advance"):
        threads = [threading.Thread(target=advance, args=(i,)) for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    with app.app_context():
        assert db.session.get(Case, case_id).current_step == 3
        moves = db.session.execute(select(StepEvent).where(StepEvent.case_id == case_id,
                                                           StepEvent.kind == "advance")).scalars().all()
        assert len(moves) == 1
    pages = [r.get_data(as_text=True) for r in responses]
    assert sum("changed by someone else" in page for page in pages) == 1  # the loser is told to reload


def test_an_edit_and_an_advance_at_once_lose_nothing(app, users):
    """The edit form was loaded before the advance: its save is refused, not silently applied."""
    with app.app_context():
        case = make_case(current_step=2)
        db.session.add(Document(case=case, kind="plan", title="Rencana", revision=1))
        db.session.commit()
        case_id = case.id
    editor, mover = _logged_in(app, "kasubbag"), _logged_in(app, "staff")
    version = row_version(editor.get(f"/admin/case/edit/?id={case_id}").get_data(as_text=True))
    mover.post("/admin/case/move/", data={"id": case_id, "move": "advance"})
    with app.app_context():
        data = case_form(db.session.get(Case, case_id), title="Judul baru", row_version=version)
    page = editor.post(f"/admin/case/edit/?id={case_id}", data=data).get_data(as_text=True)
    assert "changed by someone else" in page
    with app.app_context():
        case = db.session.get(Case, case_id)
        assert (case.current_step, case.title) == (3, "KSB Pengelolaan sampah regional")
