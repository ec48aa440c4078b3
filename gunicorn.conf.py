# Each worker builds the app and opens its own database connections after the fork
# (no preload): SQLite WAL and PostgreSQL pools are never shared across processes.
preload_app = False
workers = 2
threads = 4
timeout = 180  # an XLSX export of 100,000 rows takes about 40 s here
accesslog = "-"
# No control socket: the panel does not use gunicornc, and every gunicorn of a host would share
# ~/.gunicorn/gunicorn.ctl (a second server deletes the first one's; stopping either deletes both).
control_socket_disable = True
