"""search served by an index: pg_trgm on PostgreSQL, an FTS5 trigram table on SQLite

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 21:30:00

PostgreSQL: a GIN trigram index over the case's searchable text. `CREATE EXTENSION pg_trgm`
needs a role allowed to create it: pg_trgm is a trusted extension since PostgreSQL 13, so the
database's owner can; otherwise a superuser runs `CREATE EXTENSION pg_trgm` in the database once
before the upgrade. Building the index over 1M cases blocks writes to cases for a while: upgrade
outside office hours.

SQLite (3.34 or later, for the trigram tokenizer): `case_search`, an FTS5 table over the same four
columns that reads its text from cooperation_case (external content) and is kept in step by the
three triggers below. A later migration that rebuilds cooperation_case (Alembic's batch mode on
SQLite copies the table) drops the triggers with it and must create them again (TRIGGERS).
The table is not declared in the models: it is the database's own index, not data.
"""

from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

# The same expression as admin_app/admin/search.py builds and models/case.py declares, parenthesised
# as PostgreSQL reflects it.
SEARCH_TEXT = "((((((registration_number || ' ') || title) || ' ') || object) || ' ') || proposal_number)"

COLUMNS = "registration_number, title, object, proposal_number"
OLD = ", ".join(f"old.{name}" for name in COLUMNS.split(", "))
NEW = ", ".join(f"new.{name}" for name in COLUMNS.split(", "))
TRIGGERS = {
    "case_search_insert": f"""CREATE TRIGGER case_search_insert AFTER INSERT ON cooperation_case BEGIN
        INSERT INTO case_search(rowid, {COLUMNS}) VALUES (new.id, {NEW}); END""",
    "case_search_delete": f"""CREATE TRIGGER case_search_delete AFTER DELETE ON cooperation_case BEGIN
        INSERT INTO case_search(case_search, rowid, {COLUMNS}) VALUES ('delete', old.id, {OLD}); END""",
    "case_search_update": f"""CREATE TRIGGER case_search_update AFTER UPDATE OF id, {COLUMNS} ON cooperation_case BEGIN
        INSERT INTO case_search(case_search, rowid, {COLUMNS}) VALUES ('delete', old.id, {OLD});
        INSERT INTO case_search(rowid, {COLUMNS}) VALUES (new.id, {NEW}); END""",
}


def upgrade():
    dialect = op.get_bind().dialect.name
    if dialect == 'postgresql':
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute(f"CREATE INDEX ix_case_search_text ON cooperation_case USING gin ({SEARCH_TEXT} gin_trgm_ops)")
    elif dialect == 'sqlite':
        version = op.get_bind().exec_driver_sql("SELECT sqlite_version()").scalar()
        if tuple(int(part) for part in version.split(".")[:2]) < (3, 34):
            raise RuntimeError(f"SQLite {version} has no trigram tokenizer: the panel needs SQLite 3.34 or later")
        # columnsize=0: no per-row sizes, which only ranking would read.
        op.execute(f"CREATE VIRTUAL TABLE case_search USING fts5({COLUMNS}, content='cooperation_case', "
                   "content_rowid='id', tokenize='trigram', columnsize=0)")
        op.execute("INSERT INTO case_search(case_search) VALUES ('rebuild')")  # the cases already there
        for statement in TRIGGERS.values():
            op.execute(statement)


def downgrade():
    dialect = op.get_bind().dialect.name
    if dialect == 'postgresql':
        # The extension stays: other objects may use it, and dropping it needs the rights creating it did.
        op.execute("DROP INDEX IF EXISTS ix_case_search_text")
    elif dialect == 'sqlite':
        for name in TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS case_search")
