"""Who may do what: all authorisation of the panel, as data.

One row per screen, one column per role. Letters: l = list and read details,
c = create, e = edit, d = delete, x = export, a = assign (reassign cases to another case
worker; models/handover.py checks who may take them). Workflow moves (advance, return, hold)
are governed by the procedure table in models/procedure.py, not here.
"""
from models.procedure import CASE_WORKERS
from models.user import Role

# The roles that work cases (assignable, may receive a disposition). The set is defined beside the
# procedure, which the models check; the search boxes and screens read it from here.
__all__ = ["ASSIGN", "CASE_WORKERS", "CREATE", "DELETE", "EDIT", "EXPORT", "LIST", "PERMISSIONS", "can"]

LIST, CREATE, EDIT, DELETE, EXPORT, ASSIGN = "l", "c", "e", "d", "x", "a"

_ROLES = (Role.ADMIN, Role.KABAG, Role.KASUBBAG, Role.STAFF, Role.VIEWER)

# screen           admin    kabag    kasubbag  staff   viewer
_TABLE = {
    "case":        ("",      "lcexa", "lcexa",  "lcex", "lx"),
    "party":       ("lcedx", "lcex",  "lcex",   "lce",  "l"),
    "meeting":     ("",      "lcedx", "lcedx",  "lce",  "l"),
    "document":    ("",      "lcedx", "lcedx",  "lce",  "l"),
    "agreement":   ("",      "lcedx", "lcedx",  "lce",  "lx"),
    "disposition": ("",      "lcedx", "lcedx",  "l",    "l"),
    "complaint":   ("",      "lcedx", "lcedx",  "lce",  "l"),
    "stepevent":   ("",      "lx",    "lx",     "lx",   "lx"),
    "auditlog":    ("lx",    "lx",    "",       "",     ""),
    "user":        ("lced",  "",      "",       "",     ""),
    "setting":     ("le",    "l",     "l",      "",     ""),
    "loginlock":   ("ld",    "",      "",       "",     ""),  # deleting a row lifts the lock
}

PERMISSIONS: dict[str, dict[Role, frozenset[str]]] = {
    screen: {role: frozenset(letters) for role, letters in zip(_ROLES, row)}
    for screen, row in _TABLE.items()
}


def can(user, verb: str, screen: str) -> bool:
    """True when `user` (a logged-in account) may `verb` on `screen`; unknown screens deny."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    try:
        role = Role(user.role)
    except ValueError:
        return False
    return verb in PERMISSIONS.get(screen, {}).get(role, frozenset())
