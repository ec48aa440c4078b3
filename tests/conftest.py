"""Fixtures: one real database per test session (SQLite file, or TEST_DATABASE_URL for
PostgreSQL), migrated with Alembic exactly as production is, and emptied between tests."""
import os
import re

import pytest
from flask_migrate import upgrade
from sqlalchemy import create_engine, text

from admin_app import create_app
from admin_app.settings import forget_settings
from models import db
from tests.factories import PASSWORD, make_user

ROLES = ("admin", "kabag", "kasubbag", "staff", "viewer")


def _fresh_database(url: str) -> None:
    """Drop everything so the migrations build the schema from nothing."""
    if url.startswith("postgresql"):
        engine = create_engine(url, isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        engine.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        url = re.sub(r"^postgres(ql)?://", "postgresql+psycopg://", url)
    else:
        url = "sqlite:///" + str(tmp_path_factory.mktemp("db") / "test.sqlite")
    _fresh_database(url)
    return url


@pytest.fixture(scope="session")
def _migrated_app(database_url, tmp_path_factory):
    app = create_app({
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SECRET_KEY": "test-secret",
        "WTF_CSRF_ENABLED": False,
        "FLASK_ADMIN_RAISE_ON_VIEW_EXCEPTION": True,
    })
    app.instance_path = str(tmp_path_factory.mktemp("instance"))
    with app.app_context():
        upgrade()
    return app


@pytest.fixture()
def app(_migrated_app):
    """The app over an emptied database; CSRF off unless a test turns it on."""
    app = _migrated_app
    app.config["WTF_CSRF_ENABLED"] = False
    with app.app_context():
        tables = [t for t in reversed(db.metadata.sorted_tables)]
        for table in tables:
            db.session.execute(table.delete())
        db.session.commit()
        db.session.remove()
    forget_settings()  # the rows went without the ORM: nothing of the last test's settings is kept
    yield app
    with app.app_context():
        db.session.remove()


@pytest.fixture()
def client(app):
    return app.test_client()


@pytest.fixture()
def runner(app):
    return app.test_cli_runner()


@pytest.fixture()
def users(app) -> dict:
    """One active account per role; ids by role name."""
    with app.app_context():
        made = {role: make_user(role) for role in ROLES}
        db.session.commit()
        return {role: user.id for role, user in made.items()}


class AuthActions:
    def __init__(self, client):
        self._client = client

    def login(self, username: str, password: str = PASSWORD):
        return self._client.post("/login", data={"username": username, "password": password})

    def logout(self):
        return self._client.post("/logout")


@pytest.fixture()
def auth(client):
    return AuthActions(client)


@pytest.fixture()
def login_as(client, users, auth):
    """Log the test client in as the demo user of `role` and return the client."""
    def _login(role: str):
        auth.logout()  # switching users in one test starts from a logged-out client
        response = auth.login(role)
        assert response.status_code == 302, response.data[:500]
        return client
    return _login
