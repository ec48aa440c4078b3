"""Build the Admin object and its screens for one app (never at import: see flask-admin #910)."""
import os

from flask import Flask
from flask_admin import Admin
from flask_admin.theme import Bootstrap4Theme
from flask_babel import lazy_gettext as _l

from models import (
    Agreement,
    AuditLog,
    Case,
    Complaint,
    Disposition,
    Document,
    LoginThrottle,
    Meeting,
    Party,
    Setting,
    StepEvent,
    User,
    db,
)


def init_admin(app: Flask) -> Admin:
    from admin_app.admin.case_records import (
        DispositionView,
        DocumentView,
        MeetingView,
        StepEventView,
    )
    from admin_app.admin.cases import CaseView
    from admin_app.admin.dashboard import DashboardView
    from admin_app.admin.my_work import forget_count_on_write, navigation_context
    from admin_app.admin.records import (
        AuditLogView,
        ComplaintView,
        LoginLockView,
        PartyView,
        SettingView,
        UserView,
    )
    from admin_app.admin.register import AgreementView
    from admin_app.headers import csp_nonce

    admin = Admin(
        app,
        name=_l("Cooperation Service"),
        # The landing page: My work for who works cases, the figures or the shortcuts for the others.
        index_view=DashboardView(name=_l("Home"), url="/admin"),
        theme=Bootstrap4Theme(base_template="panel_base.html", fluid=True),
        translations_path=os.path.join(app.root_path, "translations"),
        csp_nonce_generator=csp_nonce,
    )
    app.context_processor(navigation_context)  # the My work badge of the navigation bar
    app.before_request(forget_count_on_write)
    cases, reference, records = _l("Cases"), _l("Reference data"), _l("Records")
    admin.add_view(CaseView(Case, db, name=_l("Cases"), category=cases, endpoint="case"))
    admin.add_view(DispositionView(Disposition, db, name=_l("Dispositions"), category=cases, endpoint="disposition"))
    admin.add_view(MeetingView(Meeting, db, name=_l("Meetings"), category=cases, endpoint="meeting"))
    admin.add_view(DocumentView(Document, db, name=_l("Documents"), category=cases, endpoint="document"))
    admin.add_view(AgreementView(Agreement, db, name=_l("Agreement register"), category=cases, endpoint="agreement"))
    admin.add_view(StepEventView(StepEvent, db, name=_l("Step history"), category=cases, endpoint="stepevent"))
    admin.add_view(ComplaintView(Complaint, db, name=_l("Complaints"), endpoint="complaint"))
    admin.add_view(PartyView(Party, db, name=_l("Parties"), category=reference, endpoint="party"))
    admin.add_view(SettingView(Setting, db, name=_l("Settings"), category=reference, endpoint="setting"))
    admin.add_view(UserView(User, db, name=_l("Users"), category=records, endpoint="user"))
    admin.add_view(AuditLogView(AuditLog, db, name=_l("Audit log"), category=records, endpoint="auditlog"))
    admin.add_view(LoginLockView(LoginThrottle, db, name=_l("Login locks"), category=records, endpoint="loginlock"))
    return admin
