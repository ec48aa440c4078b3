"""Small helpers the tests share: reading what a page shows, posting the forms it carries."""
import io
import re
from contextlib import contextmanager

from sqlalchemy import event

from models import db


def row_version(html: str) -> str:
    """The hidden version an edit form carries."""
    match = re.search(r'name="row_version"[^>]*value="(\d+)"|value="(\d+)"[^>]*name="row_version"', html)
    assert match, "edit form has no row_version"
    return match.group(1) or match.group(2)


def case_form(case, **overrides) -> dict:
    """The case form as the browser would post it, from an existing case."""
    data = {
        "agreement_type": case.agreement_type, "title": case.title, "subject": str(case.subject_id),
        "object": case.object, "opd": str(case.opd_id), "proposal_number": case.proposal_number,
        "proposal_date": case.proposal_date.isoformat(), "received_date": case.received_date.isoformat(),
        "assigned_to": str(case.assigned_to_id or ""), "previous_case": "",
    }
    data.update(overrides)
    return data


@contextmanager
def count_queries():
    """Counts the SQL statements run inside the block: `with count_queries() as seen: ...; seen[0]`."""
    seen = [0]

    def _count(*args, **kwargs):
        seen[0] += 1

    engine = db.engine
    event.listen(engine, "before_cursor_execute", _count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", _count)


def flashes(response) -> str:
    """The flashed messages of a page, whitespace folded."""
    page = response.get_data(as_text=True)
    return " ".join(re.sub(r"\s+", " ", m) for m in re.findall(r'class="alert[^"]*"[^>]*>(.*?)</div>', page, re.S))


def seen_state(client, case_id) -> dict:
    """The step and version the case page shows in its move forms, as a browser would post them."""
    page = client.get(f"/admin/case/details/?id={case_id}").get_data(as_text=True)
    form = re.search(r'<form[^>]*class="[^"]*\bmove-\w+.*?</form>', page, re.S)
    form = form.group(0) if form else ""  # the page's other forms carry other records' versions
    step = re.search(r'name="step" value="(\d+)"', form)
    version = re.search(r'name="version" value="(\d+)"', form)
    if step and version:
        return {"step": step.group(1), "version": version.group(1)}
    # The page offers this user no move: a crafted request would send the case's true state.
    from models import Case
    with client.application.app_context():
        case = db.session.get(Case, int(case_id))
        return {"step": str(case.current_step), "version": str(case.version)}


def move(client, case_id, move="advance", note="", seen=None, **extra):
    """Post a move from the case page as the user sees it now (or from an older `seen` state)."""
    state = seen if seen is not None else seen_state(client, case_id)
    return client.post("/admin/case/move/", data={"id": case_id, "move": move, "note": note, **state, **extra},
                       follow_redirects=True)


def upload(client, case_id, kind, title=None, name="dokumen.pdf", data=None, **fields):
    """Upload a small real PDF as a document of `kind` through the panel."""
    from seed.sample_files import sample_pdf

    data = data if data is not None else sample_pdf(title or kind, str(case_id))
    return client.post("/admin/document/new/", data={
        "case": case_id, "kind": kind, "title": title or f"{kind} dokumen", "letter_number": "", "letter_date": "",
        "note": "", "upload": (io.BytesIO(data), name), **fields}, content_type="multipart/form-data")


def upload_folder(tmp_path) -> str:
    """A storage folder for a test's uploads: made first, as the panel never makes a configured one."""
    folder = tmp_path / "uploads"
    folder.mkdir(exist_ok=True)
    return str(folder)
