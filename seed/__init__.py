"""Reference and demo data. Every loader is idempotent: it finds rows by natural keys."""
from seed.demo import DEMO_USERS, load_demo
from seed.reference import load_reference

__all__ = ["DEMO_USERS", "load_demo", "load_reference"]
