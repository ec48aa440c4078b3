"""Small helpers the tests share: reading what a page shows, posting the forms it carries."""
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
