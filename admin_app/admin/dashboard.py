"""The landing page at /admin/: what needs attention today, then how the service is doing."""
from flask_admin import AdminIndexView, expose
from flask_login import current_user

from admin_app import permissions
from admin_app.admin.base import current_settings
from admin_app.auth import login_redirect
from admin_app.labels import step_title
from models import db, stats
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
        if not permissions.can(current_user, permissions.LIST, "case"):
            return self.render("admin/dashboard.html", figures=None)
        today, settings, session = local_today(), current_settings(), db.session
        on_time, closed = stats.on_time_share(session, today)
        mean_days = stats.mean_days_per_step(session, today)
        figures = {
            "attention": stats.needing_attention(session, today, settings.due_soon_days),
            "due_soon_days": settings.due_soon_days,
            "overdue": stats.overdue_count(session, today),
            "by_type": stats.open_by_type(session),
            "by_step": [(step_title(number), count) for number, count in stats.open_by_step(session).items()],
            "completed_this_year": stats.completed_in_year(session, today),
            "on_time": on_time, "closed": closed,
            "on_time_percent": round(100 * on_time / closed) if closed else None,
            "mean_days": [(step_title(number), days) for number, days in mean_days.items()],
            "dispositions": stats.open_dispositions_per_person(session),
            "today": today,
        }
        return self.render("admin/dashboard.html", figures=figures)
