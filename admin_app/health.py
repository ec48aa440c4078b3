"""Liveness with the database: 200 when it answers, 503 when it does not."""
import logging

from flask import Flask
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from admin_app.extensions import csrf
from models import db


def init_app(app: Flask) -> None:
    @app.get("/healthz")
    @csrf.exempt
    def healthz():
        try:
            db.session.execute(text("SELECT 1"))
        except SQLAlchemyError:
            logging.getLogger(__name__).exception("health check: database unreachable")
            db.session.rollback()
            return {"status": "error", "database": "unreachable"}, 503
        return {"status": "ok", "database": "ok"}, 200
