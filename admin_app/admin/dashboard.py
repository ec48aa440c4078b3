"""The landing page at /admin/: what needs attention today."""
from datetime import date

from flask import redirect, request, url_for
from flask_admin import AdminIndexView, expose
from flask_login import current_user
from sqlalchemy import func, select

from admin_app import permissions
from models import Case, db
from models.case import OPEN_STATUSES


class DashboardView(AdminIndexView):
    def is_visible(self) -> bool:
        return current_user.is_authenticated

    def _handle_view(self, name, **kwargs):
        if not current_user.is_authenticated:
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        return None

    @expose("/")
    def index(self):
        works_cases = permissions.can(current_user, permissions.LIST, "case")
        summary = None
        if works_cases:
            today = date.today()
            by_status = dict(db.session.execute(
                select(Case.status, func.count()).group_by(Case.status)).all())
            overdue = db.session.execute(
                select(func.count()).select_from(Case).where(
                    Case.status.in_(OPEN_STATUSES), Case.due_date < today)).scalar_one()
            summary = {"by_status": by_status, "overdue": overdue}
        return self.render("admin/dashboard.html", summary=summary)
