"""Backup and restore: one archive with every table's rows and the uploaded files they reference.

`flask --app wsgi backup PATH` writes a zip archive:

    manifest.json                  format version, alembic revision, row counts, sha256 of each member
    tables/<table>.jsonl           one JSON object per row, in primary-key order
    files/<sha[:2]>/<sha256>       every uploaded file a document row references

The rows are read in one transaction (REPEATABLE READ on PostgreSQL, one read transaction on
SQLite), so the archive is one consistent moment of the database. Values are written in a
database-neutral form (dates and times as ISO 8601, times with zone in UTC), so a SQLite backup
restores into PostgreSQL and back. The archive is written to PATH.tmp and renamed when complete.

`flask --app wsgi restore PATH` loads such an archive into an empty, migrated database of the
same alembic revision, in one transaction, with Core inserts: the session hooks (audit trail,
case numbering) do not run, so every row comes back exactly as it was, ids included.
"""
import base64
import hashlib
import json
import os
import time
import zipfile
from datetime import date, datetime, timedelta, timezone
from datetime import time as time_of_day
from decimal import Decimal

import click
from sqlalchemy import (
    JSON,
    Date,
    DateTime,
    Integer,
    Interval,
    LargeBinary,
    Numeric,
    Table,
    Time,
    TypeDecorator,
    bindparam,
    func,
    insert,
    inspect,
    literal,
    select,
    text,
    update,
)

from admin_app import files
from admin_app.settings import forget_settings
from models import db

FORMAT = "kerjasama-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
BATCH = 1000
CHUNK = 1024 * 1024

# Columns that name an uploaded file by its SHA-256: (table, column).
FILE_COLUMNS = (("document", "file_sha256"),)


class BackupError(click.ClickException):
    """A backup or restore that was refused or failed; nothing was left half done."""


# --- values ----------------------------------------------------------------------------------

def _base_type(column):
    column_type = column.type
    while isinstance(column_type, TypeDecorator):
        column_type = column_type.impl_instance
    return column_type


def _encoder(column):
    """Python value from the database -> JSON value."""
    column_type = _base_type(column)
    if isinstance(column_type, DateTime):
        if column_type.timezone:
            # SQLite hands back the stored UTC time without its zone; PostgreSQL an aware time.
            return lambda v: (v.replace(tzinfo=timezone.utc) if v.tzinfo is None
                              else v.astimezone(timezone.utc)).isoformat()
        return lambda v: v.isoformat()
    if isinstance(column_type, (Date, Time)):
        return lambda v: v.isoformat()
    if isinstance(column_type, Interval):
        return lambda v: v.total_seconds()
    if isinstance(column_type, Numeric) and not isinstance(column_type, Integer):
        return lambda v: str(v)
    if isinstance(column_type, LargeBinary):
        return lambda v: base64.b64encode(v).decode("ascii")
    return None  # JSON-native as it is (strings, numbers, booleans, JSON documents)


def _decoder(column):
    """JSON value from the archive -> Python value for the column's type."""
    column_type = _base_type(column)
    if isinstance(column_type, JSON):
        return None
    if isinstance(column_type, DateTime):
        if column_type.timezone:
            def to_datetime(v):
                value = datetime.fromisoformat(v)
                return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)
            return to_datetime
        return datetime.fromisoformat
    if isinstance(column_type, Date):
        return date.fromisoformat
    if isinstance(column_type, Time):
        return time_of_day.fromisoformat
    if isinstance(column_type, Interval):
        return lambda v: timedelta(seconds=v)
    if isinstance(column_type, Numeric) and not isinstance(column_type, Integer):
        return Decimal if column_type.asdecimal else float
    if isinstance(column_type, LargeBinary):
        return base64.b64decode
    return None


def _converters(table: Table, make) -> list[tuple[str, object]]:
    return [(column.name, convert) for column in table.columns if (convert := make(column)) is not None]


def _convert(row: dict, converters) -> dict:
    for name, convert in converters:
        value = row.get(name)
        if value is not None:
            row[name] = convert(value)
    return row


# --- helpers ---------------------------------------------------------------------------------

def _tables() -> list[Table]:
    return list(db.metadata.sorted_tables)


def _member(table_name: str) -> str:
    return f"tables/{table_name}.jsonl"


def _file_member(sha256: str) -> str:
    return f"files/{sha256[:2]}/{sha256}"


def _alembic_revision(connection) -> str | None:
    if not inspect(connection).has_table("alembic_version"):
        return None
    revisions = sorted(connection.execute(text("SELECT version_num FROM alembic_version")).scalars())
    return ",".join(revisions) or None


def _sha256_of_file(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _fsync_directory(path: str) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _snapshot_connection():
    """A connection whose reads all see one moment of the database."""
    engine = db.engine
    if engine.dialect.name == "postgresql":
        connection = engine.connect().execution_options(isolation_level="REPEATABLE READ",
                                                        postgresql_readonly=True)
        connection.begin()
    else:
        connection = engine.connect()
        connection.begin()
        if engine.dialect.name == "sqlite":
            # pysqlite issues no BEGIN before a SELECT: without this each query would be its own
            # read transaction. With it, every read sees the snapshot taken at the first read.
            connection.exec_driver_sql("BEGIN")
    return connection


# --- backup ----------------------------------------------------------------------------------

def write_backup(path: str) -> dict:
    """Write the archive to `path` (via `path`.tmp); returns the manifest plus `seconds`."""
    started = time.monotonic()
    path = os.fspath(path)
    partial = path + ".tmp"
    try:
        with open(partial, "wb") as raw:
            with zipfile.ZipFile(raw, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
                manifest = _write_archive(archive)
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(partial, path)
        _fsync_directory(os.path.dirname(os.path.abspath(path)))
    except BaseException as error:
        try:
            os.remove(partial)
        except OSError:
            pass
        if isinstance(error, Exception) and not isinstance(error, BackupError):
            raise BackupError(f"backup failed, nothing was written to {path}: "
                              f"{type(error).__name__}: {error}") from error
        raise
    manifest["seconds"] = round(time.monotonic() - started, 3)
    manifest["bytes"] = os.path.getsize(path)
    return manifest


def _write_archive(archive: zipfile.ZipFile) -> dict:
    created_at = datetime.now(timezone.utc)
    referenced: set[str] = set()
    file_columns = dict(FILE_COLUMNS)
    tables = []
    connection = _snapshot_connection()
    try:
        revision = _alembic_revision(connection)
        for table in _tables():
            tables.append(_dump_table(connection, archive, table, file_columns.get(table.name), referenced))
        dialect = connection.dialect.name
    finally:
        connection.rollback()
        connection.close()

    # Files are stored under their hash and never rewritten, so reading them after the rows
    # still gives exactly the content each row names.
    stored, missing = [], []
    for sha256 in sorted(referenced):
        try:
            source = files.path_for(sha256)
        except ValueError:
            missing.append({"sha256": sha256, "reason": "not a sha256"})
            continue
        if not os.path.exists(source):
            missing.append({"sha256": sha256, "reason": "missing from the upload folder"})
            continue
        if _sha256_of_file(source) != sha256:
            missing.append({"sha256": sha256, "reason": "content does not match its sha256"})
            continue
        digest, size = hashlib.sha256(), 0
        with open(source, "rb") as handle, archive.open(_file_member(sha256), "w", force_zip64=True) as member:
            while chunk := handle.read(CHUNK):
                digest.update(chunk)
                size += len(chunk)
                member.write(chunk)
        if digest.hexdigest() != sha256:  # changed under our feet: never store a wrong file
            raise BackupError(f"uploaded file {sha256} changed while it was read; run the backup again")
        stored.append({"sha256": sha256, "size": size})

    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "created_at": created_at.isoformat(),
        "alembic_revision": revision,
        "source_dialect": dialect,
        "tables": tables,
        "files": stored,
        "missing_files": missing,
    }
    archive.writestr(MANIFEST, json.dumps(manifest, indent=2, ensure_ascii=False))
    return manifest


def _dump_table(connection, archive, table: Table, file_column: str | None, referenced: set) -> dict:
    encoders = _converters(table, _encoder)
    names = [column.name for column in table.columns]
    digest, count = hashlib.sha256(), 0
    query = select(table).order_by(*table.primary_key.columns)
    result = connection.execution_options(yield_per=BATCH).execute(query)
    with archive.open(_member(table.name), "w", force_zip64=True) as member:
        for rows in result.partitions():
            lines = []
            for row in rows:
                values = _convert(dict(row._mapping), encoders)
                if file_column and values.get(file_column):
                    referenced.add(values[file_column])
                lines.append(json.dumps(values, ensure_ascii=False, separators=(",", ":")) + "\n")
            chunk = "".join(lines).encode("utf-8")
            digest.update(chunk)
            member.write(chunk)
            count += len(rows)
    return {"name": table.name, "rows": count, "columns": names, "sha256": digest.hexdigest()}


# --- restore ---------------------------------------------------------------------------------

def restore_backup(path: str) -> dict:
    """Load the archive at `path` into this empty database and upload folder; all or nothing."""
    started = time.monotonic()
    path = os.fspath(path)
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as error:
        raise BackupError(f"{path} is not a readable backup archive ({error}); nothing was restored")
    with archive:
        manifest = _read_manifest(archive, path)
        plan = _plan(manifest)
        copied: list[str] = []
        made_dirs: list[str] = []
        connection = db.engine.connect()
        try:
            transaction = connection.begin()
            _lock(connection)
            _check_target(connection, manifest)
            for entry in manifest["files"]:
                _restore_file(archive, entry, copied, made_dirs)
            referenced: set[str] = set()
            for table, entry, deferred in plan:
                _insert_rows(connection, archive, table, entry, deferred, referenced)
            for table, entry, deferred in plan:
                if deferred:
                    _apply_deferred(connection, archive, table, entry, deferred)
            _reset_sequences(connection)
            transaction.commit()
            forget_settings()  # the restored settings rows went in without the ORM
        except BaseException as error:
            connection.rollback()
            for target in copied:
                try:
                    os.remove(target)
                except OSError:
                    pass
            for directory in reversed(made_dirs):
                try:
                    os.rmdir(directory)
                except OSError:
                    pass
            if isinstance(error, (BackupError, KeyboardInterrupt, SystemExit)):
                raise
            if isinstance(error, zipfile.BadZipFile):
                raise BackupError(f"{path} is damaged ({error}); nothing was restored") from error
            if isinstance(error, Exception):
                raise BackupError(f"restore failed and was rolled back, nothing was restored: "
                                  f"{type(error).__name__}: {error}") from error
            raise
        finally:
            connection.close()
    have = {entry["sha256"] for entry in manifest["files"]}
    warnings = [f"document file {sha256} is not in the backup; its download will fail"
                for sha256 in sorted(referenced - have)]
    return {"manifest": manifest, "files": len(copied), "warnings": warnings,
            "seconds": round(time.monotonic() - started, 3)}


def _read_manifest(archive: zipfile.ZipFile, path: str) -> dict:
    try:
        manifest = json.loads(archive.read(MANIFEST))
    except KeyError:
        raise BackupError(f"{path} has no {MANIFEST}; it is not a backup of this application")
    except (ValueError, zipfile.BadZipFile) as error:
        raise BackupError(f"{path}: {MANIFEST} is damaged ({error}); nothing was restored")
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"{path} is not a {FORMAT} archive")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise BackupError(f"{path} has format version {manifest.get('format_version')!r}; "
                          f"this application reads version {FORMAT_VERSION}")
    names = set(archive.namelist())
    for entry in manifest.get("tables", []):
        if _member(entry["name"]) not in names:
            raise BackupError(f"{path} lacks the rows of table {entry['name']}; nothing was restored")
    for entry in manifest.get("files", []):
        sha256 = entry.get("sha256", "")
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise BackupError(f"{path}: {sha256!r} is not a sha256; nothing was restored")
        if _file_member(sha256) not in names:
            raise BackupError(f"{path} lacks the file {sha256}; nothing was restored")
    return manifest


def _plan(manifest: dict) -> list[tuple[Table, dict, list[str]]]:
    """Tables in dependency order, each with the foreign keys to fill in only after every insert.

    A foreign key to the table itself (cooperation_case.previous_case_id, agreement.follows_id)
    or to a table inserted later (cooperation_case.renews_agreement_id -> agreement) is inserted
    NULL and set by an UPDATE once all rows are in.
    """
    by_name = {entry["name"]: entry for entry in manifest["tables"]}
    tables = _tables()
    expected = {table.name for table in tables}
    if set(by_name) != expected:
        extra, lacking = sorted(set(by_name) - expected), sorted(expected - set(by_name))
        raise BackupError(f"the backup's tables do not match this schema (only in the backup: {extra}; "
                          f"only in the database: {lacking}); nothing was restored")
    position = {table.name: index for index, table in enumerate(tables)}
    plan = []
    for table in tables:
        entry = by_name[table.name]
        columns = {column.name for column in table.columns}
        if set(entry["columns"]) != columns:
            raise BackupError(f"table {table.name}: the backup's columns {sorted(entry['columns'])} do not match "
                              f"the database's {sorted(columns)}; nothing was restored")
        deferred = sorted({fk.parent.name for fk in table.foreign_keys
                           if position[fk.column.table.name] >= position[table.name]})
        for name in deferred:
            if not table.c[name].nullable:
                raise BackupError(f"cannot restore {table.name}.{name}: a NOT NULL key into a later table")
        plan.append((table, entry, deferred))
    return plan


def _lock(connection) -> None:
    """Keep other writers out from the emptiness check to the commit."""
    dialect = connection.dialect.name
    if dialect == "sqlite":
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    elif dialect == "postgresql":
        preparer = connection.dialect.identifier_preparer
        names = ", ".join(preparer.format_table(table) for table in _tables())
        connection.exec_driver_sql(f"LOCK TABLE {names} IN EXCLUSIVE MODE")


def _check_target(connection, manifest: dict) -> None:
    revision = _alembic_revision(connection)
    if revision is None:
        raise BackupError("this database is not migrated (no alembic_version); run `flask --app wsgi db upgrade` "
                          "first; nothing was restored")
    if revision != manifest.get("alembic_revision"):
        raise BackupError(f"the backup is of schema revision {manifest.get('alembic_revision')!r}, this database is "
                          f"at {revision!r}; migrate to the same revision first; nothing was restored")
    filled = []
    for table in _tables():
        if connection.execute(select(literal(1)).select_from(table).limit(1)).first() is not None:
            count = connection.execute(select(func.count()).select_from(table)).scalar_one()
            filled.append(f"{table.name} ({count})")
    if filled:
        raise BackupError("restore only goes into an empty database; these tables have rows: "
                          + ", ".join(filled) + "; nothing was restored")


def _restore_file(archive, entry: dict, copied: list, made_dirs: list) -> None:
    sha256 = entry["sha256"]
    target = files.path_for(sha256)
    if os.path.exists(target) and _sha256_of_file(target) == sha256:
        return  # the same content is already stored
    directory = os.path.dirname(target)
    missing_dirs = []
    probe = directory
    while probe and not os.path.isdir(probe):
        missing_dirs.append(probe)
        probe = os.path.dirname(probe)
    os.makedirs(directory, exist_ok=True)
    made_dirs.extend(reversed(missing_dirs))
    partial = f"{target}.{os.getpid()}.restore"
    digest, size = hashlib.sha256(), 0
    try:
        with archive.open(_file_member(sha256)) as member, open(partial, "wb") as handle:
            while chunk := member.read(CHUNK):
                digest.update(chunk)
                size += len(chunk)
                handle.write(chunk)
            handle.flush()
            os.fsync(handle.fileno())
        if digest.hexdigest() != sha256 or size != entry.get("size", size):
            raise BackupError(f"file {sha256} in the backup is corrupt (its content has sha256 "
                              f"{digest.hexdigest()}); nothing was restored")
        os.replace(partial, target)
    except BaseException:
        try:
            os.remove(partial)
        except OSError:
            pass
        raise
    copied.append(target)


def _rows(archive, table: Table, entry: dict):
    """Decoded rows of a table's member; checks the count and sha256 once the member is read."""
    decoders = _converters(table, _decoder)
    columns = set(entry["columns"])
    digest, count = hashlib.sha256(), 0
    with archive.open(_member(table.name)) as member:
        for line in member:
            digest.update(line)
            count += 1
            row = json.loads(line)
            if not isinstance(row, dict) or set(row) != columns:
                raise BackupError(f"table {table.name}, row {count}: columns do not match the manifest; "
                                  "nothing was restored")
            yield _convert(row, decoders)
    if count != entry["rows"] or digest.hexdigest() != entry["sha256"]:
        raise BackupError(f"table {table.name} in the backup is corrupt ({count} rows read, manifest says "
                          f"{entry['rows']}; sha256 {'matches' if digest.hexdigest() == entry['sha256'] else 'differs'})"
                          "; nothing was restored")


def _batches(rows, size: int = BATCH):
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _insert_rows(connection, archive, table: Table, entry: dict, deferred: list[str], referenced: set) -> None:
    file_column = dict(FILE_COLUMNS).get(table.name)
    statement = insert(table)
    for batch in _batches(_rows(archive, table, entry)):
        for row in batch:
            for name in deferred:
                row[name] = None
            if file_column and row.get(file_column):
                referenced.add(row[file_column])
        connection.execute(statement, batch)


def _apply_deferred(connection, archive, table: Table, entry: dict, deferred: list[str]) -> None:
    """Set the keys inserted NULL; columns with an `onupdate` (updated_at) keep their stored value."""
    keys = [column.name for column in table.primary_key.columns]
    kept = [column.name for column in table.columns
            if (column.onupdate is not None or column.server_onupdate is not None) and column.name not in deferred]
    statement = (update(table)
                 .where(*[table.c[name] == bindparam(f"key_{name}") for name in keys])
                 .values({name: bindparam(f"value_{name}") for name in deferred + kept}))
    pending = (row for row in _rows(archive, table, entry) if any(row[name] is not None for name in deferred))
    for batch in _batches(pending):
        params = [{**{f"key_{name}": row[name] for name in keys},
                   **{f"value_{name}": row[name] for name in deferred + kept}} for row in batch]
        connection.execute(statement, params)


def _reset_sequences(connection) -> None:
    """PostgreSQL: move each id sequence past the restored ids, so new rows do not collide."""
    if connection.dialect.name != "postgresql":
        return  # SQLite takes max(rowid) + 1 by itself
    preparer = connection.dialect.identifier_preparer
    for table in _tables():
        keys = list(table.primary_key.columns)
        if len(keys) != 1 or not isinstance(_base_type(keys[0]), Integer):
            continue
        qualified, column = preparer.format_table(table), keys[0].name
        sequence = connection.execute(text("SELECT pg_get_serial_sequence(:table, :column)"),
                                      {"table": qualified, "column": column}).scalar()
        if sequence:
            connection.execute(text(f"SELECT setval(:sequence, COALESCE(MAX({preparer.quote(column)}), 1), "
                                    f"MAX({preparer.quote(column)}) IS NOT NULL) FROM {qualified}"),
                               {"sequence": sequence})
