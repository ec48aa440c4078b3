"""The section's settings as the current request sees them.

Every page reads them (the deadline badges ask for the due-soon window on every row), and they change
a few times a year, so a worker keeps what it read for SETTINGS_CACHE_SECONDS instead of asking the
database on every request. A change committed through the ORM in this process is seen by its next
request; other processes (the other workers, other servers) see it within SETTINGS_CACHE_SECONDS.
Within one request the values never change. A request that writes (any method but GET and HEAD:
a letter's number pattern, the upload limit) reads the table itself, as do the rules of the models
(a due date set at registration, through models.setting.load_settings): only pages are shown from
the kept values.
"""
import time

from flask import current_app, g, has_request_context, request
from sqlalchemy import event
from sqlalchemy.orm import Session

from models import db
from models.setting import Setting, Settings, load_settings

_generation = 0  # bumped by every commit that changed a setting row in this process


def current_settings() -> Settings:
    """The settings, read once per request and kept by the worker for a short while."""
    if "settings" not in g:
        kept = current_app.extensions.get("settings_cache")
        now = time.monotonic()
        if kept is None or kept[0] != _generation or kept[1] <= now or _writes():
            kept = (_generation, now + current_app.config["SETTINGS_CACHE_SECONDS"], load_settings(db.session))
            current_app.extensions["settings_cache"] = kept
        g.settings = kept[2]
    return g.settings


def _writes() -> bool:
    return has_request_context() and request.method not in ("GET", "HEAD")


def forget_settings() -> None:
    """Read the settings again on the next request (after rows were written without the ORM)."""
    global _generation
    _generation += 1


@event.listens_for(Session, "after_flush")
def _note_setting_change(session, _context) -> None:
    if any(isinstance(row, Setting) for row in (*session.new, *session.dirty, *session.deleted)):
        session.info["settings_changed"] = True


@event.listens_for(Session, "after_commit")
def _forget_on_commit(session) -> None:
    if session.info.pop("settings_changed", False):
        forget_settings()


@event.listens_for(Session, "after_rollback")
def _nothing_changed(session) -> None:
    session.info.pop("settings_changed", None)
