"""Backup and restore (`flask backup PATH`, `flask restore PATH`): a consistent archive of every
table and the uploaded files, restored exactly, all or nothing, only into an empty database."""
import json
import os
import time
import zipfile
from datetime import date

import pytest
from sqlalchemy import func, select, text, update

from admin_app import files
from models import Agreement, Case, Document, db
from models.document import next_revision
from seed.sample_files import sample_pdf

PDF = sample_pdf("Surat usulan (pindaian)")  # a real PDF: uploads are parsed, not taken by their first bytes


@pytest.fixture()
def uploads(app, tmp_path, monkeypatch):
    """A fresh upload folder for the test; the app's own setting comes back afterwards."""
    folder = tmp_path / "uploads"
    folder.mkdir()
    monkeypatch.setitem(app.config, "UPLOAD_FOLDER", str(folder))
    return folder


def _rows(app) -> dict[str, list[tuple]]:
    """Every table's full rows, ordered by primary key."""
    with app.app_context():
        snapshot = {}
        for table in db.metadata.sorted_tables:
            query = select(table).order_by(*table.primary_key.columns)
            snapshot[table.name] = [tuple(row) for row in db.session.execute(query)]
        db.session.remove()
        return snapshot


def _empty_database(app) -> None:
    """Delete every row; on PostgreSQL also start the id sequences again, as in a new database."""
    with app.app_context():
        for table in reversed(db.metadata.sorted_tables):
            db.session.execute(table.delete())
        if db.engine.dialect.name == "postgresql":
            for table in db.metadata.sorted_tables:
                if "id" in table.c:
                    db.session.execute(text("SELECT setval(pg_get_serial_sequence(:t, 'id'), 1, false)"),
                                       {"t": table.name})
        db.session.commit()
        db.session.remove()


def _total_rows(app) -> int:
    with app.app_context():
        total = sum(db.session.execute(select(func.count()).select_from(table)).scalar_one()
                    for table in db.metadata.sorted_tables)
        db.session.remove()
        return total


def _stored_files(folder) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def _seed_with_file_and_cycles(app, runner) -> str:
    """Demo data plus what the demo lacks: an uploaded file, agreements and the key cycle."""
    result = runner.invoke(args=["seed", "--demo"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        stored = files.accept("surat-usulan.pdf", PDF, 1024 * 1024)
        cases = db.session.execute(select(Case).order_by(Case.id)).scalars().all()
        done = [case for case in cases if case.status == "done"]
        document = Document(case=cases[0], kind="other", revision=next_revision(db.session, cases[0].id, "other"),
                            title="Surat usulan (pindaian)", letter_number="070/1/2026", letter_date=date(2026, 3, 2),
                            file_name=stored.name, file_size=stored.size, file_type=stored.type,
                            file_sha256=stored.sha256)
        first = Agreement(case=done[0], number="KSB/001/425.014/2026", signed_on=date(2026, 1, 10),
                          valid_from=date(2026, 1, 10), valid_until=date(2028, 1, 10), parties="Para pihak")
        second = Agreement(case=done[1], number="KSB/002/425.014/2026", signed_on=date(2026, 2, 10),
                           valid_from=date(2026, 2, 10), valid_until=date(2028, 2, 10), parties="Para pihak")
        db.session.add_all([document, first, second])
        db.session.flush()
        # Keys that point forward: a row naming a row with a higher id, and the case <-> agreement cycle.
        db.session.execute(update(Agreement.__table__).where(Agreement.id == first.id).values(follows_id=second.id))
        db.session.execute(update(Case.__table__).where(Case.id == cases[0].id)
                           .values(renews_agreement_id=second.id, previous_case_id=cases[-1].id))
        db.session.commit()
        db.session.remove()
        return stored.sha256


def _rewrite(source, target, change) -> None:
    """Copy the archive member by member; `change(name, data)` returns the bytes to write (or None to drop)."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as new:
        for info in old.infolist():
            data = change(info.filename, old.read(info.filename))
            if data is not None:
                new.writestr(info.filename, data)


def test_backup_and_restore_bring_back_every_row_and_file(app, runner, uploads, tmp_path):
    sha256 = _seed_with_file_and_cycles(app, runner)
    before = _rows(app)
    assert before["agreement"] and before["document"] and before["step_event"] and before["audit_log"]
    archive = tmp_path / "b.zip"

    started = time.monotonic()
    result = runner.invoke(args=["backup", str(archive)])
    backup_seconds = time.monotonic() - started
    assert result.exit_code == 0, result.output
    assert archive.exists() and not os.path.exists(str(archive) + ".tmp")
    with zipfile.ZipFile(archive) as opened:
        manifest = json.loads(opened.read("manifest.json"))
        assert manifest["format_version"] == 1 and manifest["alembic_revision"]
        assert {t["name"]: t["rows"] for t in manifest["tables"]} == {name: len(rows) for name, rows in before.items()}
        with app.app_context():
            kept = set(db.session.execute(select(Document.file_sha256).where(Document.file_sha256.is_not(None)))
                       .scalars())
        assert {"sha256": sha256, "size": len(PDF)} in manifest["files"]  # the upload, and the demo's files
        assert sorted(f["sha256"] for f in manifest["files"]) == sorted(kept)
        assert opened.read(f"files/{sha256[:2]}/{sha256}") == PDF

    _empty_database(app)
    for path in uploads.rglob("*"):
        if path.is_file():
            path.unlink()
    assert _total_rows(app) == 0

    started = time.monotonic()
    result = runner.invoke(args=["restore", str(archive)])
    restore_seconds = time.monotonic() - started
    assert result.exit_code == 0, result.output
    after = _rows(app)
    for name in before:
        assert after[name] == before[name], name
    with app.app_context():
        assert open(files.path_for(sha256), "rb").read() == PDF
    print(f"\nbackup {backup_seconds:.2f} s, restore {restore_seconds:.2f} s, "
          f"{sum(len(rows) for rows in before.values())} rows")


def test_restore_into_a_database_with_rows_is_refused_and_changes_nothing(app, runner, uploads, tmp_path):
    _seed_with_file_and_cycles(app, runner)
    archive = tmp_path / "b.zip"
    assert runner.invoke(args=["backup", str(archive)]).exit_code == 0
    for path in uploads.rglob("*"):
        if path.is_file():
            path.unlink()
    before = _rows(app)

    result = runner.invoke(args=["restore", str(archive)])
    assert result.exit_code != 0
    assert "only goes into an empty database" in result.output
    assert _rows(app) == before
    assert _stored_files(uploads) == []


def test_restore_of_another_schema_revision_is_refused(app, runner, uploads, tmp_path):
    _seed_with_file_and_cycles(app, runner)
    archive, other = tmp_path / "b.zip", tmp_path / "other.zip"
    assert runner.invoke(args=["backup", str(archive)]).exit_code == 0

    def older_revision(name, data):
        if name != "manifest.json":
            return data
        manifest = json.loads(data)
        manifest["alembic_revision"] = "0000"
        return json.dumps(manifest)

    _rewrite(archive, other, older_revision)
    _empty_database(app)
    result = runner.invoke(args=["restore", str(other)])
    assert result.exit_code != 0 and "revision '0000'" in result.output
    assert _total_rows(app) == 0


@pytest.mark.parametrize("damage", ["file", "rows", "truncated"])
def test_a_damaged_archive_is_refused_and_leaves_the_database_empty(app, runner, uploads, tmp_path, damage):
    sha256 = _seed_with_file_and_cycles(app, runner)
    archive, damaged = tmp_path / "b.zip", tmp_path / "damaged.zip"
    assert runner.invoke(args=["backup", str(archive)]).exit_code == 0
    if damage == "file":  # a file whose bytes no longer match its sha256
        _rewrite(archive, damaged, lambda name, data: data.replace(b"Catalog", b"Katalog") if name.startswith("files/")
                 else data)
    elif damage == "rows":  # the last table loses a row: found only after every other table is in
        last = db.metadata.sorted_tables[-1].name
        _rewrite(archive, damaged, lambda name, data: b"".join(data.splitlines(True)[:-1])
                 if name == f"tables/{last}.jsonl" else data)
    else:
        data = archive.read_bytes()
        damaged.write_bytes(data[: len(data) // 2])
    stored_before = _stored_files(uploads)
    assert f"{sha256[:2]}/{sha256}" in stored_before
    _empty_database(app)
    for path in uploads.rglob("*"):
        if path.is_file():
            path.unlink()

    result = runner.invoke(args=["restore", str(damaged)])
    assert result.exit_code != 0
    assert "nothing was restored" in result.output
    assert _total_rows(app) == 0
    assert _stored_files(uploads) == []
    if damage == "rows":
        assert "attendee" in result.output or last in result.output
    # The undamaged archive still restores into the database the failures left empty.
    assert runner.invoke(args=["restore", str(archive)]).exit_code == 0
    assert _stored_files(uploads) == stored_before


def test_a_failed_backup_leaves_no_file_under_its_name(app, runner, uploads, tmp_path, monkeypatch):
    _seed_with_file_and_cycles(app, runner)
    archive = tmp_path / "b.zip"
    from admin_app import backup

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(backup, "_dump_table", broken)
    result = runner.invoke(args=["backup", str(archive)])
    assert result.exit_code != 0
    assert not archive.exists() and not os.path.exists(str(archive) + ".tmp")


def test_new_cases_can_be_registered_after_a_restore(app, runner, client, uploads, tmp_path):
    _seed_with_file_and_cycles(app, runner)
    archive = tmp_path / "b.zip"
    assert runner.invoke(args=["backup", str(archive)]).exit_code == 0
    _empty_database(app)
    assert runner.invoke(args=["restore", str(archive)]).exit_code == 0
    with app.app_context():
        highest = db.session.execute(select(func.max(Case.id))).scalar_one()
        subject, opd = db.session.execute(select(Case.subject_id, Case.opd_id).limit(1)).one()
        db.session.remove()

    # The demo accounts come back with the rows; their password is the demo default.
    login = client.post("/login", data={"username": "staff", "password": "kerjasama-demo"})
    assert login.status_code == 302, login.data[:300]
    response = client.post("/admin/case/new/", data={
        "agreement_type": "KSB", "title": "KSB Setelah pemulihan", "subject": str(subject),
        "object": "Kerja sama baru setelah pemulihan data", "opd": str(opd), "proposal_number": "070/9/425.101/2026",
        "proposal_date": "2026-11-02", "received_date": "2026-11-03", "assigned_to": "", "previous_case": ""})
    assert response.status_code == 302, response.data[:500]
    with app.app_context():
        new = db.session.execute(select(Case).where(Case.title == "KSB Setelah pemulihan")).scalar_one()
        assert new.id > highest
        db.session.remove()
