"""My work (Tugas saya): the landing page of staff, Kasubbag and Kabag, and its count in the
navigation bar. The rules of what waits for whom live in models/workload.py; this module only
calls them and names the links."""
import time
from datetime import datetime, timezone

from flask import current_app, g, request, session, url_for
from flask_login import current_user

from admin_app import permissions
from admin_app.labels import label, step_title
from admin_app.settings import current_settings
from models import Instruction, Role, db, workload
from models.base import as_utc
from models.sla import local_today


BADGE = "work_badge"  # in the session: (count, user id, until when, as a UNIX time)


def work_count() -> int | None:
    """The navigation bar's badge: how many items wait for the user; None for a role that works no
    cases (admin, viewer), which shows no badge. Counted once per WORK_BADGE_SECONDS and kept in the
    user's session, so that a page does not count the user's work each time; the user's own writes
    (any request but GET and HEAD) and the My work page count it again at once, and what others do
    (a case assigned to the user) shows within WORK_BADGE_SECONDS."""
    if "work_count" not in g:
        user = current_user
        if not (getattr(user, "is_authenticated", False) and user.role in permissions.CASE_WORKERS):
            g.work_count = None
        else:
            kept = session.get(BADGE)
            if kept and kept[1] == user.id and time.time() < kept[2]:
                g.work_count = kept[0]
            else:
                _keep_count(workload.work_counts(db.session, user, local_today()).total)
    return g.work_count


def _keep_count(total: int) -> None:
    g.work_count = total
    session[BADGE] = (total, current_user.id, time.time() + current_app.config["WORK_BADGE_SECONDS"])


def forget_count_on_write() -> None:
    """Before a request that may change the user's work: the next page counts it again."""
    if request.method not in ("GET", "HEAD") and BADGE in session:
        session.pop(BADGE)


def navigation_context() -> dict:
    """Template globals of every page: the badge is computed only where a page shows it."""
    return {"work_count": work_count}


def case_link(case_id: int) -> str:
    """Where the work on a case is done: its page, at the current step's checklist and moves."""
    return url_for("case.details_view", id=case_id, _anchor="workflow")


def list_url(endpoint: str, *filters: tuple[str, object]) -> str:
    """The list of `endpoint` filtered by named filters (`("overdue_is", 1)`): the names are checked
    against the view's own filters (SecuredModelView.get_filter_arg), so a renamed filter fails
    loudly instead of leading to an unfiltered list."""
    view = next(v for v in current_app.extensions["admin"][0]._views if getattr(v, "endpoint", None) == endpoint)
    missing = [arg for arg, _ in filters if arg not in (view._filter_args or {})]
    if missing:
        raise KeyError(f"{endpoint} has no filter {missing}")
    return url_for(f"{endpoint}.index_view", **{f"flt{index}_{arg}": value
                                                for index, (arg, value) in enumerate(filters)})


OPEN = ("status_in_list", "open,on_hold")


def load_links(user, due_soon_days: int) -> dict[str, str]:
    """The case list showing each figure of one officer's load (user None: the unassigned)."""
    who = ("assigned_to_equals", user.full_name) if user is not None else ("assigned_to_empty", 1)
    return {"open": list_url("case", who, OPEN),
            "due_soon": list_url("case", ("due_within_days_days", due_soon_days), who),
            "overdue": list_url("case", ("overdue_is", 1), who)}


def load_rows(loads, due_soon_days: int, may_reassign: bool) -> list[dict]:
    return [{"load": load, "role": label(Role, load.user.role) if load.user else "",
             "links": load_links(load.user, due_soon_days),
             "reassign": url_for("case.reassign_view", **{"from": load.user.id})
             if may_reassign and load.user is not None and load.open else None}
            for load in loads]


def page_context() -> dict:
    """Everything the My work page shows for the current user."""
    session, user, today, settings = db.session, current_user, local_today(), current_settings()
    now = datetime.now(timezone.utc)
    work = workload.my_work(session, user, today, now)
    _keep_count(work.counts.total)  # the badge of this page needs no second query
    context = {
        "work": work, "today": today, "due_soon_days": settings.due_soon_days,
        "case_link": case_link, "step_title": step_title,
        "instruction_label": lambda value: label(Instruction, value),
        "meeting_is_past": lambda meeting: as_utc(meeting.scheduled_at) < now,
        "own": None, "officers": None, "unassigned": None, "section": None,
        "may_see_figures": permissions.can(user, permissions.LIST, "case"),
        "may_register": permissions.can(user, permissions.CREATE, "case"),
        "all_cases": list_url("case", OPEN),
    }
    if user.role in {r.value for r in workload.OFFICER_ROLES}:
        own = workload.own_load(session, user, today, settings.due_soon_days)
        context["own"] = load_rows([own], settings.due_soon_days, False)[0]
    if user.role in {Role.KABAG.value, Role.KASUBBAG.value}:
        rows, unassigned = workload.officer_load(session, today, settings.due_soon_days)
        may_reassign = permissions.can(user, permissions.ASSIGN, "case")
        context["officers"] = load_rows(rows, settings.due_soon_days, may_reassign)
        context["unassigned"] = load_rows([unassigned], settings.due_soon_days, may_reassign)[0]
        # The officers and the unassigned add up to every open case: the section's totals for free.
        every = [*rows, unassigned]
        context["section"] = {
            "open": sum(load.open for load in every), "open_url": list_url("case", OPEN),
            "due_soon": sum(load.due_soon for load in every),
            "due_soon_url": list_url("case", ("due_within_days_days", settings.due_soon_days)),
            "overdue": sum(load.overdue for load in every), "overdue_url": list_url("case", ("overdue_is", 1)),
        }
    return context
