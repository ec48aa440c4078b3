# Each worker builds the app and opens its own database connections after the fork
# (no preload): SQLite WAL and PostgreSQL pools are never shared across processes.
preload_app = False
workers = 2
threads = 4
timeout = 180  # an XLSX export of 100,000 rows takes about 40 s here
accesslog = "-"
