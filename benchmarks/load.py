"""The case list under load, served by gunicorn with the project's own config (issue 11, point 6).

A benchmark, not a test: it prints figures and a PASS/FAIL against the targets of the issue,
and never builds data (`make benchmark`, i.e. benchmarks/run.py, builds it; this reads it).

For each built database of benchmarks/run.py (same sizes and environment):
1. Starts `python -m gunicorn -c gunicorn.conf.py -b 127.0.0.1:<free port> wsgi:app` with
   DATABASE_URL set to the build, a fixed SECRET_KEY, a temporary upload folder, the access
   log sent to /dev/null and no control socket (gunicorn 27 puts one at a fixed path in the
   home folder, shared with any other gunicorn of the user); gunicorn's command line overrides
   its config file only there. Then waits for /healthz and every worker.
2. For each user (Kabag, then staff): logs in through the real login form (its CSRF token, the
   session cookie of the answer), checks that the cookie opens the case list, warms the workers
   up, then drives /admin/case/ with Debian's `wrk` (C, so the load generator does not take the
   Python threads' share of the 2 cores): LOAD_CLIENTS connections for LOAD_SECONDS. Any answer
   but 200 is an error (a redirect to /login means the session did not hold), and so is every
   socket error or timeout. wrk sends one cookie throughout: the newest one before the load, as a
   browser would, which keeps the My work badge for WORK_BADGE_SECONDS (a longer load counts the
   badge again on every request once that has passed; the script says so).
3. After the Kabag's load: the dashboard (/admin/figures/) once and each export of every case
   (CSV, XLSX) once, streamed and read to the end.
4. The peak RSS (VmHWM) of every worker (the master's children) is read after the load and after
   the dashboard with the exports; the peak is reset (clear_refs) before each, so the second
   figure is that of the dashboard and exports alone. A worker that was replaced (killed,
   restarted) counts as an error.

Targets (the issue): at 100k cases on SQLite at least 150 req/s with p95 under 100 ms; at 1M on
PostgreSQL at least 80 req/s with p95 under 300 ms; no errors; every worker's peak RSS under
256 MB. Other sizes are judged by the targets of their database.

Environment:
  BENCH_SIZES=10000,100000     SQLite sizes (as benchmarks/run.py; "" for none)
  BENCH_DATABASE_URL / DATABASE_URL, BENCH_PG_SIZES=1000000   PostgreSQL too (as benchmarks/run.py)
  BENCH_DIR                    where the SQLite builds are (as benchmarks/run.py)
  LOAD_SECONDS=20              length of each load
  LOAD_CLIENTS=8               concurrent connections
  LOAD_WARMUP=3                seconds of unmeasured load first (templates compiled, caches filled)
  LOAD_USERS=kabag,staff       who logs in (one load each)
  LOAD_EXPORTS=1               0: skip the dashboard and the exports
"""
import http.client
import json
import os
import re
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time
from http.cookies import SimpleCookie
from urllib.parse import urlencode

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run as bench  # noqa: E402  (benchmarks/ is no package: its data helpers, by path)
from admin_app.config import Config  # noqa: E402  (on sys.path through run)

ROOT = bench.ROOT
WRK = "/usr/bin/wrk"
CASE_LIST = "/admin/case/"
DASHBOARD = "/admin/figures/"
EXPORTS = ("/admin/case/export/csv/", "/admin/case/export/xlsx/")
USER_AGENT = "kerjasama-load/1"  # the same on the login and the load: Flask-Login's session protection
SECRET_KEY = "load-benchmark-secret"
RSS_LIMIT_MB = 256
TICKS = os.sysconf("SC_CLK_TCK")
TARGETS = {"sqlite": (150, 100), "postgresql": (80, 300)}  # (req/s at least, p95 ms under)

# wrk runs one Lua state per thread; done() runs in another, so it reads the threads' counters.
WRK_SCRIPT = r"""
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  not_ok = 0
  redirects = 0
end

function response(status, headers, body)
  if status ~= 200 then
    not_ok = not_ok + 1
    if status >= 300 and status < 400 then redirects = redirects + 1 end
  end
end

function done(summary, latency, requests)
  local not_ok, redirects = 0, 0
  for _, thread in ipairs(threads) do
    not_ok = not_ok + thread:get("not_ok")
    redirects = redirects + thread:get("redirects")
  end
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests": %d, "duration_us": %d, "bytes": %d, "p50_us": %d, "p95_us": %d, "p99_us": %d, ' ..
    '"max_us": %d, "not_ok": %d, "redirects": %d, "non_2xx_3xx": %d, "connect": %d, "read": %d, ' ..
    '"write": %d, "timeout": %d}\n',
    summary.requests, summary.duration, summary.bytes, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), latency.max, not_ok, redirects, e.status, e.connect, e.read, e.write, e.timeout))
end
"""


# -- the server ------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """gunicorn with the project's config, on a free port, stopped (TERM, then KILL) on exit."""

    def __init__(self, url: str):
        self.port = free_port()
        self.dialect = "sqlite" if url.startswith("sqlite") else "postgresql"
        if self.dialect == "postgresql":  # the server's own database sessions, told apart by name
            self.application_name = f"kerjasama-load-{self.port}"
            url += ("&" if "?" in url else "?") + f"application_name={self.application_name}"
        self.url = url
        self.folder = tempfile.TemporaryDirectory(prefix="kerjasama-load-")
        self.log_path = os.path.join(self.folder.name, "gunicorn.log")
        self.process = None

    def __enter__(self) -> "Server":
        uploads = os.path.join(self.folder.name, "uploads")
        os.makedirs(uploads)
        env = dict(os.environ, DATABASE_URL=self.url, SECRET_KEY=SECRET_KEY, UPLOAD_FOLDER=uploads)
        env.pop("GUNICORN_CMD_ARGS", None)
        self.log = open(self.log_path, "w")
        # Its own session: Ctrl+C reaches this script only, which then stops gunicorn in order.
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "-b", f"127.0.0.1:{self.port}",
             "--access-logfile", "/dev/null", "--no-control-socket", "wsgi:app"],
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            self._wait_until_ready()
        except BaseException:  # a failed start (or Ctrl+C meanwhile) leaves no server behind
            self.__exit__()
            raise
        return self

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"gunicorn exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                status, _, _ = self.request("GET", "/healthz", timeout=5)
                if status == 200 and len(self.workers()) == self.configured_workers():
                    return
            except OSError:
                pass
            time.sleep(0.25)
        raise SystemExit(f"gunicorn did not answer /healthz within 60 s:\n{self.log_tail()}")

    def __exit__(self, *exc) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # graceful: the workers finish their requests
            try:
                self.process.wait(40)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.log.close()
        self.folder.cleanup()

    def log_tail(self, lines: int = 30) -> str:
        self.log.flush()
        with open(self.log_path) as handle:
            return "".join(handle.readlines()[-lines:])

    @staticmethod
    def configured_workers() -> int:
        settings: dict = {}
        with open(os.path.join(ROOT, "gunicorn.conf.py")) as handle:
            exec(handle.read(), settings)
        return int(settings.get("workers", 1))

    def workers(self) -> list[int]:
        """The pids of the master's children."""
        children = []
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    with open(f"/proc/{entry}/stat") as handle:
                        fields = handle.read().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                if int(fields[1]) == self.process.pid:
                    children.append(int(entry))
        return sorted(children)

    def database_backends(self) -> list[int]:
        """PostgreSQL: the pids of the server processes serving this gunicorn's connections."""
        if self.dialect != "postgresql":
            return []
        import psycopg
        plain = re.sub(r"\?.*$", "", self.url).replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(plain, autocommit=True) as connection:
            return [row[0] for row in connection.execute(
                "SELECT pid FROM pg_stat_activity WHERE application_name = %s", (self.application_name,))]

    def reset_peaks(self) -> None:
        for pid in self.workers():
            try:
                with open(f"/proc/{pid}/clear_refs", "w") as handle:
                    handle.write("5")  # VmHWM := the current RSS
            except OSError:
                pass

    def peak_mb(self) -> float:
        """The highest VmHWM among the workers, in MB."""
        peaks = [0.0]
        for pid in self.workers():
            try:
                with open(f"/proc/{pid}/status") as handle:
                    peaks += [int(line.split()[1]) / 1024 for line in handle if line.startswith("VmHWM:")]
            except OSError:
                pass
        return max(peaks)

    def request(self, method: str, path: str, headers: dict | None = None, body: str | None = None,
                timeout: float = 60, stream: bool = False) -> tuple[int, http.client.HTTPMessage, bytes | int]:
        """One request on a new connection; the body (or, with `stream`, its length read in chunks)."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            connection.request(method, path, body=body, headers={"User-Agent": USER_AGENT, **(headers or {})})
            response = connection.getresponse()
            if stream:
                size = 0
                while chunk := response.read(1 << 16):
                    size += len(chunk)
                return response.status, response.headers, size
            return response.status, response.headers, response.read()
        finally:
            connection.close()


# -- a user's session --------------------------------------------------------------------------------
def _cookie(headers: http.client.HTTPMessage, name: str = "session") -> str | None:
    jar = SimpleCookie()
    for value in headers.get_all("Set-Cookie") or []:
        jar.load(value)
    return jar[name].value if name in jar else None


def log_in(server: Server, username: str) -> str:
    """Logs in through the form as a browser does; returns the `Cookie` header of the session."""
    status, headers, page = server.request("GET", "/login")
    token = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', page)
    pre_session = _cookie(headers)
    if status != 200 or not token or not pre_session:
        raise SystemExit(f"/login answered {status} without a CSRF token or session cookie")
    form = urlencode({"csrf_token": token.group(1).decode(), "username": username, "password": bench.PASSWORD})
    status, headers, _ = server.request("POST", "/login", body=form, headers={
        "Content-Type": "application/x-www-form-urlencoded", "Cookie": f"session={pre_session}"})
    session = _cookie(headers)
    if status != 302 or not session or "/login" in headers.get("Location", ""):
        raise SystemExit(f"login of {username} failed: {status} {headers.get('Location')}")
    cookie = f"session={session}"
    status, headers, page = server.request("GET", CASE_LIST, headers={"Cookie": cookie})
    if status != 200 or b"model-list" not in page:
        raise SystemExit(f"{CASE_LIST} with {username}'s session answered {status} "
                         f"({headers.get('Location') or 'no case list in the page'})")
    # A browser sends the newest cookie: this page's keeps the My work badge for WORK_BADGE_SECONDS
    # (wrk itself sends one cookie throughout and ignores the new ones it is given).
    newest = _cookie(headers)
    return f"session={newest}" if newest else cookie


# -- the load ----------------------------------------------------------------------------------------
def wrk(server: Server, cookie: str, seconds: int, clients: int, script: str) -> dict:
    done = subprocess.run(
        [WRK, f"-t{min(2, clients)}", f"-c{clients}", f"-d{seconds}s", "--latency", "-s", script,
         "-H", f"Cookie: {cookie}", "-H", f"User-Agent: {USER_AGENT}", f"http://127.0.0.1:{server.port}{CASE_LIST}"],
        check=True, stdout=subprocess.PIPE, text=True)
    found = re.search(r"^WRK_JSON (.*)$", done.stdout, re.M)
    if not found:
        raise SystemExit(f"wrk printed no result:\n{done.stdout}")
    result = json.loads(found.group(1))
    result["errors"] = (result["not_ok"] + result["connect"] + result["read"] + result["write"]
                        + result["timeout"])
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    return result


def _cpu_seconds(pids) -> float:
    ticks = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as handle:
                stat = handle.read().rsplit(")", 1)[1].split()
            ticks += int(stat[11]) + int(stat[12])  # utime, stime
        except OSError:  # gone meanwhile
            pass
    return ticks / TICKS


def cpu_counters(server: Server, workers: list[int], backends: list[int]) -> tuple:
    """Now; the machine's busy CPU seconds; gunicorn's (master and workers); the database
    backends' (PostgreSQL); this script's finished children's (wrk); each worker's."""
    with open("/proc/stat") as handle:
        fields = [int(value) for value in handle.readline().split()[1:]]
    busy = (sum(fields) - fields[3] - fields[4]) / TICKS  # all but idle and iowait
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    each = [_cpu_seconds([pid]) for pid in workers]
    return (time.monotonic(), busy, _cpu_seconds([server.process.pid]) + sum(each), _cpu_seconds(backends),
            children.ru_utime + children.ru_stime, each)


def timed_load(server: Server, cookie: str, seconds: int, clients: int, script: str) -> dict:
    """wrk's figures, plus the CPU per request of gunicorn and of the database, each worker's share
    of gunicorn's CPU, and how many cores others (neither gunicorn, its database sessions nor wrk)
    kept busy meanwhile: on 2 cores, what others take is missing from the figures."""
    workers, backends = server.workers(), server.database_backends()  # the pools are open after the warm-up
    before = cpu_counters(server, workers, backends)
    result = wrk(server, cookie, seconds, clients, script)
    after = cpu_counters(server, workers, backends)
    elapsed, busy, served, database, load = (end - start for start, end in zip(before[:5], after[:5]))
    each = [end - start for start, end in zip(before[5], after[5])]
    requests = max(result["requests"], 1)
    result.update(cpu_ms=served / requests * 1000, db_cpu_ms=database / requests * 1000 if backends else None,
                  others=max(0.0, busy - served - database - load) / elapsed,
                  worker_shares=[round(100 * part / max(sum(each), 1e-9)) for part in each])
    return result


def dashboard_and_exports(server: Server, cookie: str) -> tuple[list[str], int]:
    """The dashboard once and each export once, read to the end; what each took, and the failures."""
    notes, failures = [], 0
    for path in (DASHBOARD, *EXPORTS):
        started = time.perf_counter()
        try:
            status, _, size = server.request("GET", path, headers={"Cookie": cookie}, timeout=1800, stream=True)
        except OSError as error:
            status, size = type(error).__name__, 0
        elapsed = time.perf_counter() - started
        if status != 200:
            failures += 1
        notes.append(f"{path} {status} {size / 1e3:,.0f} kB in {elapsed:.1f} s")
        print(f"  {notes[-1]}", file=sys.stderr, flush=True)  # an export of a million rows takes minutes
    return notes, failures


def measure(url: str, size: int, script: str) -> list[dict]:
    dialect = "sqlite" if url.startswith("sqlite") else "postgresql"
    seconds = int(os.environ.get("LOAD_SECONDS", "20"))
    clients = int(os.environ.get("LOAD_CLIENTS", "8"))
    warmup = int(os.environ.get("LOAD_WARMUP", "3"))
    users = [name for name in os.environ.get("LOAD_USERS", "kabag,staff").split(",") if name]
    kept = getattr(Config, "WORK_BADGE_SECONDS", None)
    if kept is not None and warmup + seconds >= kept:
        print(f"  note: the load outlasts the badge kept in the session ({kept} s): after that every request "
              f"counts it again, as no browser would", file=sys.stderr, flush=True)
    results = []
    with Server(url) as server:
        workers = server.workers()
        for username in users:
            cookie = log_in(server, username)
            if warmup:
                wrk(server, cookie, warmup, clients, script)
            server.reset_peaks()
            load = timed_load(server, cookie, seconds, clients, script)
            result = {"db": f"{dialect} {size:,}", "dialect": dialect, "size": size, "user": username, **load,
                      "rss_load": server.peak_mb(), "rss_export": None, "notes": []}
            print(f"{line(result, partial=True)}  (load done)", file=sys.stderr, flush=True)
            # Keep-alive connections stay with the worker that accepted them: one worker can get most.
            result["notes"].append(f"the workers' shares of gunicorn's CPU during the load: "
                                   f"{' / '.join(f'{share}%' for share in load['worker_shares'])}")
            if load["errors"]:
                result["notes"].append(
                    f"errors: {load['not_ok']} answers not 200 ({load['redirects']} redirects), {load['timeout']} "
                    f"timeouts (over 2 s), {load['connect']} connect, {load['read']} read, {load['write']} write")
                print(f"  {result['notes'][-1]}", file=sys.stderr, flush=True)
            if username == "kabag" and os.environ.get("LOAD_EXPORTS", "1") != "0":
                server.reset_peaks()
                notes, failures = dashboard_and_exports(server, cookie)
                result["notes"] += notes
                result["errors"] += failures
                result["rss_export"] = server.peak_mb()
            if server.workers() != workers:
                result["notes"].append(f"workers replaced during the run: {workers} -> {server.workers()}")
                result["errors"] += 1
                workers = server.workers()
            result["verdict"] = verdict(result)
            results.append(result)
    return results


def verdict(result: dict) -> str:
    least_rps, p95_ms = TARGETS[result["dialect"]]
    failed = []
    if result["rps"] < least_rps:
        failed.append(f"req/s<{least_rps}")
    if result["p95_us"] / 1000 >= p95_ms:
        failed.append(f"p95>={p95_ms}")
    if result["errors"]:
        failed.append("errors")
    if max(result["rss_load"], result["rss_export"] or 0) >= RSS_LIMIT_MB:
        failed.append(f"RSS>={RSS_LIMIT_MB}")
    return "PASS" if not failed else "FAIL " + ",".join(failed)


HEADER = (f"{'database':<20} {'user':<6} {'req/s':>7} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'errors':>6} "
          f"{'RSS load':>9} {'RSS dash+exp':>12} {'CPU/req':>7} {'DB/req':>6} {'others':>6}  verdict")


def line(result: dict, partial: bool = False) -> str:
    export = f"{result['rss_export']:9.0f} MB" if result["rss_export"] is not None else f"{'—':>12}"
    database = f"{result['db_cpu_ms']:6.1f}" if result["db_cpu_ms"] is not None else f"{'—':>6}"
    return (f"{result['db']:<20} {result['user']:<6} {result['rps']:7.1f} {result['p50_us'] / 1000:7.1f} "
            f"{result['p95_us'] / 1000:7.1f} {result['p99_us'] / 1000:7.1f} {result['errors']:6d} "
            f"{result['rss_load']:6.0f} MB {export} {result['cpu_ms']:7.1f} {database} {result['others']:6.1f}  "
            f"{'' if partial else result['verdict']}")


def revision() -> str:
    """The commit measured, and whether the working tree differed from it."""
    try:
        commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, text=True).stdout.strip()
        changed = subprocess.run(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no"],
                                 stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True).stdout.split("\n")
    except OSError:
        return "unknown"
    changed = [entry[3:] for entry in changed if entry.strip()]
    return f"{commit or 'unknown'}" + (f" with changes to {', '.join(changed)}" if changed else "")


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def main() -> None:
    if not os.access(WRK, os.X_OK):
        raise SystemExit(f"{WRK} is missing: apt-get install wrk")
    everything = []
    signal.signal(signal.SIGTERM, _interrupt)  # `kill` of this script stops gunicorn too
    with tempfile.NamedTemporaryFile("w", suffix=".lua", prefix="kerjasama-load-") as script:
        script.write(WRK_SCRIPT)
        script.flush()
        print(HEADER, file=sys.stderr, flush=True)
        try:
            for url, size in bench.targets():
                if not bench.built(url, size):
                    print(f"{size:,} cases in {re.sub(r'//[^@/]*@', '//…@', url)}: not built, skipped "
                          f"(`make benchmark` builds it)", file=sys.stderr, flush=True)
                    continue
                everything += measure(url, size, script.name)
        except KeyboardInterrupt:  # the server has been stopped by its `with`
            print("\ninterrupted", file=sys.stderr)
    print()
    print(HEADER)
    for result in everything:
        print(line(result))
    for result in everything:
        for note in result["notes"]:
            print(f"  {result['db']}, {result['user']}: {note}")
    clients = os.environ.get("LOAD_CLIENTS", "8")
    print(f"\ncode: {revision()}")
    print(f"{clients} connections on {CASE_LIST} for {os.environ.get('LOAD_SECONDS', '20')} s each, gunicorn.conf.py "
          f"(access log to /dev/null). errors = answers other than 200 (a redirect to /login included), socket "
          f"errors and timeouts, failed dashboard/export requests, replaced workers. RSS = highest peak (VmHWM) "
          f"of any worker during the load / during the dashboard and both exports (Kabag). CPU/req = "
          f"CPU ms of gunicorn (master and workers) per request; DB/req = the same of its PostgreSQL sessions; "
          f"others = cores kept busy by other processes during the load (neither gunicorn, its database sessions "
          f"nor wrk), {os.cpu_count()} cores in all. Targets: SQLite "
          f"{TARGETS['sqlite'][0]} req/s, p95 < {TARGETS['sqlite'][1]} ms; PostgreSQL {TARGETS['postgresql'][0]} "
          f"req/s, p95 < {TARGETS['postgresql'][1]} ms; RSS < {RSS_LIMIT_MB} MB.")


if __name__ == "__main__":
    main()
