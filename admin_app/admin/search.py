"""Search served by an index: the case list's search box and the case search boxes of forms.

Flask-Admin searches with `lower(CAST(col AS VARCHAR)) LIKE lower('%…%')` OR'd over the
searchable columns, which no index can serve: a full scan for the page, another for the count.
Here the same question ("every typed word occurs, in any letter case, in one of the columns") is
asked of the case's search index, which finds the candidate rows, and, wherever the index could
find more than the old search (a phrase spanning two columns, `^word`, `=word`, FTS5 folding the
case of non-ASCII letters), of each column again: the answer is exactly the old one.

- PostgreSQL: a pg_trgm GIN index over the columns' text joined by blanks (`ix_case_search_text`);
  the query repeats that expression with ILIKE, so the planner reads the index.
- SQLite: `case_search`, an FTS5 table with the trigram tokenizer over the same columns, kept in
  step by triggers (both made by migration 0006). Measured at 100k cases (issue 11): a plain LIKE
  scan is 60-300 ms per page and count, the FTS5 lookup 1-30 ms.

A word of fewer than three characters (or, on PostgreSQL, without three letters or digits in a
row) gives a trigram index nothing to look up: it is a plain scan, as before.
"""
import re

from sqlalchemy import String, and_, cast, literal_column, or_, select
from sqlalchemy import column as sql_column
from sqlalchemy import table as sql_table

from models import db

# pg_trgm makes trigrams of runs of letters and digits only; FTS5's trigram tokenizer of any three
# characters. Words that offer none are a plain scan (asking the index would read all of it, or,
# in FTS5, find nothing).
PG_TRIGRAM = re.compile(r"[^\W_]{3}")
SQLITE_TRIGRAM = 3

# Tables with a search index over their searchable text, and the columns it covers, in its order.
# PostgreSQL: the expression is declared in models/case.py (Case.__table_args__); both are made by
# migration 0006 (the FTS5 table, SQLite's own bookkeeping, is in no model).
INDEXED_TEXT = {"cooperation_case": ("registration_number", "title", "object", "proposal_number")}
FTS_TABLES = {"cooperation_case": "case_search"}


def like_escaped(text: str) -> str:
    """`text` with LIKE's wildcards taken literally: a typed `%` or `_` is that character."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def indexed_text(table):
    """The searchable text of `table`'s rows as PostgreSQL's index stores it (columns joined by a
    blank), or None when the table has none. The blank is written as a literal: a bound parameter
    would not be the expression the index was built on once PostgreSQL plans the query generically."""
    names = INDEXED_TEXT.get(table.name)
    if names is None:
        return None
    text = table.c[names[0]]
    for name in names[1:]:
        text = text + literal_column("' '", String) + table.c[name]
    return text


def fts_match(table, text: str):
    """SQLite: the ids of `table`'s rows whose indexed columns contain `text` (any letter case), from
    its FTS5 trigram table. The text is one quoted phrase: FTS5's query syntax does not apply."""
    fts = sql_table(FTS_TABLES[table.name], sql_column("rowid"))
    phrase = '"' + text.replace('"', '""') + '"'
    return table.c.id.in_(select(fts.c.rowid).where(literal_column(fts.name).op("MATCH")(phrase)))


def _as_text(column):
    return column if isinstance(column.type, String) else cast(column, String)


def _indexed(columns) -> bool:
    table = columns[0].table
    names = set(INDEXED_TEXT.get(getattr(table, "name", None), ()))
    return all(column.table is table and column.key in names for column in columns)


def text_search(columns, word: str, how: str = "contains"):
    """SQL for one searched text over `columns` (of one table): `how` is "contains", "starts"
    (Flask-Admin's `^word`) or "equals" (`=word`), case-insensitive, wildcards taken literally.

    When the table has a search index covering the columns and the text is long enough for
    trigrams, the index must find the row too: the database reads the candidates from the index and
    the per-column test only confirms them (so a text never matches across two columns).
    """
    columns = [column.expression for column in columns]  # mapped attributes or table columns
    dialect = db.engine.dialect.name
    literal = like_escaped(word)
    pattern = {"contains": f"%{literal}%", "starts": f"{literal}%", "equals": literal}[how]
    if dialect == "sqlite":
        # SQLite's LIKE ignores the case of ASCII letters, exactly as its lower() does (neither folds
        # others): Flask-Admin's lower(...) LIKE lower(...) without calling lower() on every row.
        exact = or_(*(_as_text(column).like(pattern, escape="\\") for column in columns))
        if len(word) < SQLITE_TRIGRAM or not _indexed(columns):
            return exact
        found = fts_match(columns[0].table, word)
        if how == "contains" and word.isascii() and len(columns) == len(INDEXED_TEXT[columns[0].table.name]):
            # A phrase of the trigram table is a substring of one column, its letter case folded as
            # LIKE folds ASCII: for an ASCII word the per-column test would only repeat it.
            return found
        return and_(found, exact)
    exact = or_(*(_as_text(column).ilike(pattern, escape="\\") for column in columns))
    if dialect != "postgresql" or not PG_TRIGRAM.search(word) or not _indexed(columns):
        return exact
    indexed = indexed_text(columns[0].table).ilike(f"%{literal}%", escape="\\")
    if how == "contains" and " " not in word and len(columns) == len(INDEXED_TEXT[columns[0].table.name]):
        # A text without a blank cannot span the blank between two columns: containing it in the
        # joined text is containing it in one column, and the per-column test would only repeat it.
        return indexed
    return and_(indexed, exact)


def search_words(search: str):
    """Flask-Admin's reading of the search box: words split at blanks, all of them must match;
    `^word` matches the start of a column, `=word` a whole column. Yields (word, how)."""
    for term in search.split(" "):
        if not term:
            continue
        if term.startswith("^"):
            yield term[1:], "starts"
        elif term.startswith("="):
            yield term[1:], "equals"
        else:
            yield term, "contains"


class IndexedSearch:
    """Mixin for a SecuredModelView whose `column_searchable_list` names columns of its own table:
    the list's search (and so its count and its export) is asked in a form the table's search index
    serves. Filters, sorting and the count strategy are Flask-Admin's and the base view's, untouched."""

    def _search_columns(self):
        columns = [column for column, path in self._search_fields]
        if any(path for _, path in self._search_fields) or \
                any(column.table is not self.model.__table__ for column in columns):
            raise TypeError(f"{type(self).__name__}: indexed search covers the view's own columns only")
        return columns

    def search_clause(self, search: str):
        """The WHERE clause for the typed search, or None when nothing was typed."""
        columns = self._search_columns()
        clauses = [text_search(columns, word, how) for word, how in search_words(search)]
        return and_(*clauses) if clauses else None

    def _apply_search(self, query, count_query, joins, count_joins, search):
        clause = self.search_clause(search)
        if clause is not None:
            query = query.filter(clause)
            if count_query is not None:
                count_query = count_query.filter(clause)
        return query, count_query, joins, count_joins


def include_name(name, type_, parent_names) -> bool:
    """Alembic's `include_name` hook: SQLite's FTS5 table and its shadow tables (`case_search`,
    `case_search_data`, ...) are the search index's own storage, made by migration 0006 and in no
    model; autogenerate must not offer to drop them."""
    return not (type_ == "table" and any(name == fts or name.startswith(fts + "_") for fts in FTS_TABLES.values()))
