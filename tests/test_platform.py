"""What runs under the screens: migrations, the database settings, health, CLI, seed data."""
import os

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, select, text

from admin_app import create_app
from admin_app.admin.search import include_name
from models import Case, Complaint, Meeting, Party, StepEvent, User, db


def test_migrations_build_exactly_the_models(app):
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True, "include_name": include_name})
        assert compare_metadata(context, db.metadata) == []


def test_the_database_is_configured_for_concurrent_writers(app):
    """SQLite: WAL, a busy timeout, enforced foreign keys. PostgreSQL: the 15 server CI names."""
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            assert db.session.execute(text("SHOW server_version")).scalar().startswith("15")
            return
        assert db.session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert db.session.execute(text("PRAGMA busy_timeout")).scalar() >= 5000
        assert db.session.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_healthz_answers_200_with_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json()["database"] == "ok"


def test_healthz_answers_503_without_the_database(tmp_path):
    unreachable = create_app({"TESTING": True, "SECRET_KEY": "x",
                              "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/missing/dir/db.sqlite"})
    response = unreachable.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["database"] == "unreachable"


def test_healthz_names_the_upload_storage_when_files_cannot_be_written(app, tmp_path):
    blocked = tmp_path / "a-file-not-a-folder"
    blocked.write_text("x")
    previous = app.config["UPLOAD_FOLDER"]
    app.config["UPLOAD_FOLDER"] = str(blocked / "uploads")
    try:
        response = app.test_client().get("/healthz")
    finally:
        app.config["UPLOAD_FOLDER"] = previous
    assert response.status_code == 503
    assert response.get_json() == {"status": "error", "database": "ok", "storage": "missing"}


def test_a_missing_storage_folder_is_reported_and_refuses_uploads_never_made_here(app, users, login_as, tmp_path):
    """On a cluster the folder is the shared one: a server where it is not mounted must say so, not
    keep files that the other servers will never find."""
    from models import Document
    from tests.factories import make_case
    from tests.helpers import flashes, upload
    unmounted = tmp_path / "share" / "uploads"
    with app.app_context():
        case_id = make_case().id
        db.session.commit()
    previous = app.config["UPLOAD_FOLDER"]
    app.config["UPLOAD_FOLDER"] = str(unmounted)
    try:
        response = app.test_client().get("/healthz")
        refused = upload(login_as("staff"), case_id, "proposal_letter")
    finally:
        app.config["UPLOAD_FOLDER"] = previous
    assert response.status_code == 503
    assert response.get_json() == {"status": "error", "database": "ok", "storage": "missing"}
    assert "could not be stored" in flashes(refused)
    assert not (tmp_path / "share").exists()
    with app.app_context():
        assert db.session.query(Document).filter_by(case_id=case_id).count() == 0


def test_healthz_answers_a_plain_http_probe_when_the_panel_forces_https(database_url, tmp_path):
    secure = create_app({"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": database_url,
                         "SESSION_COOKIE_SECURE": True, "UPLOAD_FOLDER": str(tmp_path)})
    client = secure.test_client()
    assert client.get("/login").status_code == 302  # everything else goes to https
    assert client.get("/healthz").status_code == 200


def _counts(app) -> dict:
    with app.app_context():
        return {model.__name__: db.session.execute(select(func.count()).select_from(model)).scalar_one()
                for model in (User, Party, Case, StepEvent, Meeting, Complaint)}


def test_demo_seed_loads_once_and_twice_adds_nothing(app, runner, monkeypatch):
    monkeypatch.setenv("DEMO_PASSWORD", "sandi-demo-uji")
    result = runner.invoke(args=["seed", "--demo"])
    assert result.exit_code == 0, result.output
    first = _counts(app)
    assert first["User"] == 6 and first["Case"] == 40 and first["Party"] > 40
    result = runner.invoke(args=["seed", "--demo"])
    assert result.exit_code == 0, result.output
    assert _counts(app) == first
    with app.app_context():
        steps = set(db.session.execute(select(Case.current_step)).scalars())
        assert steps == set(range(1, 18))
        types = set(db.session.execute(select(Case.agreement_type)).scalars())
        assert types == {"KSB", "PKS"}
        overdue = db.session.execute(select(func.count()).select_from(Case).where(
            Case.status.in_(("open", "on_hold")), Case.due_date < func.current_date())).scalar_one()
        assert overdue > 0
        kabag = db.session.execute(select(User).where(User.username == "kabag")).scalar_one()
        assert kabag.check_password("sandi-demo-uji")


def test_seed_if_empty_leaves_a_working_database_alone(app, runner, users):
    result = runner.invoke(args=["seed", "--demo", "--if-empty"])
    assert "skipped" in result.output
    assert _counts(app)["Case"] == 0


def test_demo_users_can_log_in_with_the_demo_password(app, runner, client):
    runner.invoke(args=["seed", "--demo"])
    response = client.post("/login", data={"username": "kasubbag", "password": "kerjasama-demo"})
    assert response.status_code == 302


def test_create_user_makes_an_account_that_can_log_in(app, runner, client):
    result = runner.invoke(args=["create-user", "Siti", "--full-name", "Siti Aminah", "--role", "staff"],
                           input="sandi-baru-123\nsandi-baru-123\n")
    assert result.exit_code == 0, result.output
    assert client.post("/login", data={"username": "siti", "password": "sandi-baru-123"}).status_code == 302
    again = runner.invoke(args=["create-user", "siti", "--full-name", "X", "--role", "staff"],
                          input="sandi-baru-123\nsandi-baru-123\n")
    assert again.exit_code != 0 and "already exists" in again.output


def test_create_user_refuses_a_short_password(app, runner):
    result = runner.invoke(args=["create-user", "budi", "--full-name", "Budi", "--role", "viewer"],
                           input="pendek\npendek\n")
    assert result.exit_code != 0
    with app.app_context():
        assert db.session.execute(select(User).where(User.username == "budi")).first() is None


@pytest.mark.parametrize("url", ["/admin/", "/login"])
def test_no_asset_comes_from_another_host(app, login_as, url):
    client = login_as("staff") if url == "/admin/" else app.test_client()
    page = client.get(url).get_data(as_text=True)
    assert "cdn" not in page.lower()
    for attribute in ('src="http', "href=\"http", "src=\"//", "href=\"//"):
        assert attribute not in page


def test_each_installation_gets_its_own_secret_key_kept_across_restarts(tmp_path):
    import stat

    from admin_app import _instance_secret
    first = _instance_secret(str(tmp_path))
    assert len(first) == 64 and _instance_secret(str(tmp_path)) == first  # the same after a restart
    assert stat.S_IMODE(os.stat(tmp_path / "secret_key").st_mode) == 0o600
    (tmp_path / "other").mkdir()
    assert _instance_secret(str(tmp_path / "other")) != first  # another installation, another key
