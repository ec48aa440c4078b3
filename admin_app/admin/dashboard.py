"""The landing page at /admin/ and the section's figures at /admin/figures/.

Each role lands where its work is: staff, Kasubbag and Kabag on My work (admin_app/admin/my_work.py;
the supervisors with each officer's load), the viewer on the section's figures, the administrator
on the shortcuts to users, settings and the audit log. Every figure links to the list that shows
exactly the rows it counts, through named filters.
"""
from flask import abort
from flask_admin import AdminIndexView, expose
from flask_login import current_user

from admin_app import permissions
from admin_app.admin import my_work
from admin_app.admin.my_work import OPEN, list_url
from admin_app.auth import login_redirect
from admin_app.labels import label, step_title
from admin_app.settings import current_settings
from models import Role, db, stats
from models.sla import local_today


class DashboardView(AdminIndexView):
    def is_visible(self) -> bool:
        return current_user.is_authenticated

    def _handle_view(self, name, **kwargs):
        if not current_user.is_authenticated:
            return login_redirect()
        return None

    @expose("/")
    def index(self):
        if current_user.role in permissions.CASE_WORKERS:
            return self.render("admin/my_work.html", **my_work.page_context())
        if permissions.can(current_user, permissions.LIST, "case"):
            return self.render("admin/dashboard.html", figures=section_figures(), landing=True, step_title=step_title)
        return self.render("admin/dashboard.html", figures=None, shortcuts=_shortcuts(), landing=True)

    @expose("/figures/")
    def figures_view(self):
        """The whole section's figures: for every role that may read the cases."""
        if not permissions.can(current_user, permissions.LIST, "case"):
            abort(403)
        return self.render("admin/dashboard.html", figures=section_figures(), landing=False, step_title=step_title)


def _shortcuts() -> list[tuple[str, str, str]]:
    """The administrator's screens, (endpoint, list url, id) for those the role may open."""
    return [(screen, f"{screen}.index_view", f"shortcut-{screen}")
            for screen in ("user", "setting", "auditlog", "loginlock", "party")
            if permissions.can(current_user, permissions.LIST, screen)]


def _dispositions_url(addressee: stats.Addressee) -> str:
    who = (("to_role_equals", addressee.role), ("to_user_app_user_full_name_empty", 1)) if addressee.name is None \
        else (("to_user_app_user_full_name_equals", addressee.name),)
    return list_url("disposition", *who, ("done_empty", 1))


def section_figures() -> dict:
    """The section dashboard: one aggregate query per figure, a LIMITed list of the urgent cases."""
    today, settings, session = local_today(), current_settings(), db.session
    days = settings.due_soon_days
    on_time, closed = stats.on_time_share(session, today)
    step_url = lambda number: list_url("case", ("step_equals", number), OPEN)
    done = ("status_equals", "done")
    may_list_dispositions = permissions.can(current_user, permissions.LIST, "disposition")
    return {
        "attention": stats.needing_attention(session, today, days),
        "attention_count": stats.attention_count(session, today, days),
        "due_soon_days": days,
        "overdue": stats.overdue_count(session, today),
        "overdue_url": list_url("case", ("overdue_is", 1)),
        "due_soon": stats.due_soon_count(session, today, days),
        "due_soon_url": list_url("case", ("due_within_days_days", days)),
        "by_type": stats.open_by_type(session),
        "type_urls": {kind: list_url("case", ("type_equals", kind), OPEN) for kind in ("KSB", "PKS")},
        "by_step": [(step_title(number), count, step_url(number)) for number, count in stats.open_by_step(session).items()],
        "completed_this_year": stats.completed_in_year(session, today),
        "completed_url": _completed_url(today),
        "on_time": on_time, "closed": closed,
        "on_time_percent": round(100 * on_time / closed) if closed else None,
        "closed_url": list_url("case", done),
        "mean_days": [(step_title(number), days_spent, step_url(number))
                      for number, days_spent in stats.mean_days_per_step(session, today)],
        "dispositions": [(addressee.name or label(Role, addressee.role), addressee.count,
                          _dispositions_url(addressee) if may_list_dispositions else None)
                         for addressee in stats.open_dispositions_per_person(session)],
        "today": today,
    }


def _completed_url(today) -> str:
    """Done cases closed this year, through the list's "Closed" filter when the case list has one
    (stored in UTC: compared from the UTC instant of 1 January in Probolinggo); else all done cases."""
    since = stats.start_of(today.replace(month=1, day=1)).strftime("%Y-%m-%d %H:%M:%S")
    try:
        return list_url("case", ("status_equals", "done"), ("closed_greater_than", since))
    except KeyError:
        return list_url("case", ("status_equals", "done"))
