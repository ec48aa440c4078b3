"""Faults end in a clear page: a PostgreSQL server of the test's own is stopped and started under the
panel, which answers 503 with its own page, in the user's language, and loses nothing it acknowledged.

The server is a real PostgreSQL 15 cluster made by initdb in a temporary folder, on a free port, so
stopping it touches no other test. CI (CI=true) fails when the binaries are missing; elsewhere the
test is skipped with the reason.
"""
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time

import pytest
from flask_migrate import upgrade
from sqlalchemy import create_engine, func, select, text

from admin_app import create_app
from models import Case, Party, db
from tests.conftest import AuthActions
from tests.factories import make_case, make_user
from tests.helpers import upload_folder

PG_BIN = "/usr/lib/postgresql/15/bin"
DOWN_MESSAGE = "The database is not reachable at the moment. Nothing was changed; try again in a moment."


def _missing() -> str | None:
    if not os.path.exists(os.path.join(PG_BIN, "initdb")):
        return f"PostgreSQL 15 server binaries not found in {PG_BIN} (apt-get install postgresql-15)"
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        return "runuser is needed to run initdb as the postgres user"
    return None


class OwnPostgres:
    """A throw-away PostgreSQL cluster: start(), stop(), url."""

    def __init__(self, folder):
        self.folder = str(folder)
        self.data = os.path.join(self.folder, "data")
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres")
        self._run("initdb", "-D", self.data, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8")
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/faults"

    def _run(self, tool, *arguments):
        command = [os.path.join(PG_BIN, tool), *arguments]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    def start(self):
        self._run("pg_ctl", "-D", self.data, "-w", "-l", os.path.join(self.folder, "log"), "-o",
                  f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off", "start")

    def stop(self):
        self._run("pg_ctl", "-D", self.data, "-w", "-m", "fast", "stop")


@pytest.fixture(scope="module")
def postgres():
    reason = _missing()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    # Not under pytest's folder: that one is private to root, and the server runs as postgres.
    folder = tempfile.mkdtemp(prefix="kerjasama-pg-")
    server = OwnPostgres(folder)
    server.start()
    engine = create_engine(server.url.replace("/faults", "/postgres"), isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text("CREATE DATABASE faults"))
    engine.dispose()
    yield server
    try:
        server.stop()
    except subprocess.CalledProcessError:
        pass
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture()
def faulty_app(postgres, tmp_path):
    """The panel as production runs it (no exception raised to the test), over the cluster above."""
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": postgres.url, "SECRET_KEY": "faults",
                      "WTF_CSRF_ENABLED": False, "UPLOAD_FOLDER": upload_folder(tmp_path),
                      "PROPAGATE_EXCEPTIONS": True})
    with app.app_context():
        upgrade()
        for table in reversed(db.metadata.sorted_tables):
            db.session.execute(table.delete())
        db.session.commit()
        make_user("staff", language="id")
        make_user("kabag", language="en")
        make_case(current_step=2)
        db.session.commit()
        db.session.remove()
    yield app
    with app.app_context():
        db.engine.dispose()


def _client(app, username):
    client = app.test_client()
    assert AuthActions(client).login(username).status_code == 302
    return client


def test_while_the_database_is_down_every_page_says_so_in_the_users_language_and_nothing_changes(
        postgres, faulty_app):
    staff, kabag = _client(faulty_app, "staff"), _client(faulty_app, "kabag")
    with faulty_app.app_context():
        case_id = db.session.execute(select(Case.id)).scalar_one()
    assert staff.get("/admin/case/").status_code == 200
    postgres.stop()
    try:
        for client, words in ((kabag, DOWN_MESSAGE), (staff, "Basis data tidak dapat dihubungi")):
            for response in (client.get("/admin/case/"), client.get("/admin/"),
                             client.get(f"/admin/case/details/?id={case_id}"),
                             client.post("/admin/case/move/", data={"id": case_id, "move": "advance", "step": 2,
                                                                    "version": 1}),
                             client.post("/admin/party/new/", data={"kind": "company", "name": "PT Saat Padam"})):
                page = response.get_data(as_text=True)
                assert response.status_code == 503, (response.status_code, page[:300])
                assert words in page and "Traceback" not in page and "psycopg" not in page
        health = staff.get("/healthz")
        assert health.status_code == 503 and health.get_json() == {"status": "error", "database": "unreachable",
                                                                   "storage": "ok"}
    finally:
        postgres.start()
    assert staff.get("/admin/case/").status_code == 200  # back at once: the pool drops dead connections
    assert staff.get("/healthz").get_json()["status"] == "ok"
    with faulty_app.app_context():
        assert db.session.get(Case, case_id).current_step == 2
        assert db.session.execute(select(func.count()).select_from(Party)
                                  .where(Party.name == "PT Saat Padam")).scalar_one() == 0


def test_a_restart_under_write_load_loses_nothing_acknowledged_and_answers_nothing_half(postgres, faulty_app):
    clients = [_client(faulty_app, "staff") for _ in range(3)]
    acknowledged, answers, stop = [], [], threading.Event()

    def write(index):
        number = 0
        while not stop.is_set():
            number += 1
            name = f"PT Beban {index}-{number}"
            response = clients[index].post("/admin/party/new/", data={"kind": "company", "name": name})
            answers.append(response.status_code)
            if response.status_code == 302 and "/new/" not in response.headers["Location"]:
                acknowledged.append(name)

    threads = [threading.Thread(target=write, args=(index,)) for index in range(len(clients))]
    for thread in threads:
        thread.start()
    time.sleep(1.0)
    postgres.stop()
    time.sleep(1.0)
    postgres.start()
    time.sleep(1.0)
    stop.set()
    for thread in threads:
        thread.join(30)
    assert set(answers) <= {302, 503}, sorted(set(answers))
    assert 503 in answers and acknowledged
    with faulty_app.app_context():
        stored = set(db.session.execute(select(Party.name).where(Party.name.like("PT Beban %"))).scalars())
    assert set(acknowledged) <= stored
