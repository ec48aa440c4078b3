"""The section's settings as the current request sees them: read from the database once per request."""
from flask import g

from models import db
from models.setting import Settings, load_settings


def current_settings() -> Settings:
    """The settings, read once per request (list formatters ask for them on every row)."""
    if "settings" not in g:
        g.settings = load_settings(db.session)
    return g.settings
