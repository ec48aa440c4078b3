"""Liveness of each part: the database and the upload storage; 200 when all answer, 503 naming the one down."""
import logging
import os
import tempfile

from flask import Flask, current_app
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from admin_app.extensions import csrf
from models import db

log = logging.getLogger(__name__)


def _database() -> str:
    try:
        db.session.execute(text("SELECT 1"))
        return "ok"
    except SQLAlchemyError:
        log.exception("health check: database unreachable")
        try:
            db.session.rollback()
        except SQLAlchemyError:
            pass
        return "unreachable"


def _storage() -> str:
    """The upload folder takes a small file (a full or read-only disk says so here first). A missing
    folder is never made here: on a cluster it is the shared one, not mounted on this server."""
    folder = current_app.config["UPLOAD_FOLDER"]
    if not os.path.isdir(folder):
        log.error("health check: upload storage %s missing", folder)
        return "missing"
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".health-", delete=True) as probe:
            probe.write(b"ok")
            probe.flush()
            os.fsync(probe.fileno())
        return "ok"
    except OSError:
        log.exception("health check: upload storage not writable")
        return "not writable"


def init_app(app: Flask) -> None:
    @app.get("/healthz")
    @csrf.exempt
    def healthz():
        parts = {"database": _database(), "storage": _storage()}
        healthy = all(state == "ok" for state in parts.values())
        return {"status": "ok" if healthy else "error", **parts}, 200 if healthy else 503

    # A load balancer or monitor probes over plain http on the inside: answer it, never redirect it.
    healthz.talisman_view_options = {"force_https": False}
