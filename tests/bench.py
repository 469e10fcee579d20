"""`make bench`: throughput, latency and memory of the real stack on this machine.

Prints figures; fails only if the stack cannot run. Every figure is also shown
as a ratio to a bare nameko round trip measured in the same run, so runs on
different machines compare.

    python -m tests.bench [--seconds 15] [--connections 16] [--alerts 100]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import psutil
import requests

from tests.bench_profile import CpuMeter, Sampler, system_pids
from tests.support import environment
from tests.support.processes import RedisServer, Sinks, free_port, wait_for_port

WRK_SCRIPT = """
tokens = {%(tokens)s}
body = %(body)s
method = "%(method)s"
path = "%(path)s"
counter = 0
request = function()
  counter = counter + 1
  local headers = {["X-Forwarded-For"] = "10.9.0.1"}
  if #tokens > 0 then
    headers["Authorization"] = "Bearer " .. tokens[(counter %% #tokens) + 1]
  end
  if body ~= "" then headers["Content-Type"] = "application/json" end
  return wrk.format(method, path, headers, body ~= "" and body or nil)
end
done = function(summary, latency, requests)
  io.write(string.format("RESULT %%d %%d %%d %%d %%d %%d %%d\\n", summary.requests,
    summary.duration, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
"""


# The test suite runs background loops every second so its tests are quick; the bench
# measures what production does: config.yaml's own intervals, but for the scheduler,
# whose figures (reminders due at once) are timed from the moment they are due.
BENCH_LOOPS = {"OUTBOX_SWEEP_AFTER_SECONDS": "10", "MISSED_DOSE_CHECK_EVERY_SECONDS": "30",
               "NOTIFY_QUIET_CHECK_EVERY_SECONDS": "300", "SESSION_SWEEP_EVERY_SECONDS": "60",
               "EXPORTS_SWEEP_EVERY_SECONDS": "300", "METRICS_SAMPLE_EVERY_SECONDS": "15",
               "NOTIFY_SCHEDULER_EVERY_SECONDS": "1"}
SHIFT_BODY = {"previous": {"level": 0}, "current": {"level": 1, "state": "calm"},
              "intensity": 3, "triggers": ["work"], "sleep_hours": 7}
# The processes py-spy samples during the profile run.
PROFILED = ("gateway", "mood_tracking", "pattern_analysis", "notifications", "sessions", "ai_context")


def lua_string(value: str) -> str:
    return json.dumps(value)


def run_wrk(url: str, path: str, seconds: int, connections: int, method="GET", body="",
            tokens=()) -> dict:
    script = WRK_SCRIPT % {
        "tokens": ", ".join(lua_string(t) for t in tokens), "body": lua_string(body),
        "method": method, "path": path,
    }
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
    output = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "-s", handle.name, url],
        capture_output=True, text=True, check=True,
    ).stdout
    os.unlink(handle.name)
    line = next(line for line in output.splitlines() if line.startswith("RESULT"))
    requests_, duration_us, p50, p95, p99, bad_status, socket_errors = map(int, line.split()[1:])
    return {"rps": requests_ / (duration_us / 1e6), "p50": p50 / 1000, "p95": p95 / 1000,
            "p99": p99 / 1000, "errors": bad_status + socket_errors, "requests": requests_}


def consumers_of(queue: str) -> int:
    import kombu

    with kombu.Connection(os.environ["AMQP_URI"]) as connection:
        return connection.channel().queue_declare(queue, passive=True).consumer_count


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(pct / 100 * (len(ordered) - 1))))]


class PeakMemory:
    """The highest resident memory of a process, and of the children it starts, until stopped."""

    def __init__(self, process: psutil.Process):
        self.process, self.service, self.child = process, process.memory_info().rss, 0
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()

    def _sample(self):
        while not self.done.is_set():
            self.service = max(self.service, self.process.memory_info().rss)
            for child in self.process.children(recursive=True):
                with contextlib.suppress(psutil.NoSuchProcess):  # it may end between the two calls
                    self.child = max(self.child, child.memory_info().rss)
            time.sleep(0.02)

    def stop(self):
        self.done.set()
        self.thread.join()


class BenchPrometheus:
    """A Prometheus (Debian's package) scraping the bench stack's processes every 2 s,
    so the run can be drawn afterwards from its query API (monitoring/snapshot.py)."""

    def __init__(self, workdir: Path):
        self.workdir, self.port, self.process = workdir / "prometheus", free_port(), None

    def start(self, metrics_ports: dict[str, int]) -> bool:
        import shutil

        import yaml

        if not shutil.which("prometheus"):
            print("[bench] no prometheus binary: the picture of the run is skipped")
            return False
        self.workdir.mkdir(parents=True, exist_ok=True)
        config = {"global": {"scrape_interval": "2s"}, "scrape_configs": [{
            "job_name": "sanctum", "static_configs": [
                {"targets": [f"127.0.0.1:{port}"], "labels": {"process": name}}
                for name, port in metrics_ports.items() if not name.startswith("bench")]}]}
        (self.workdir / "prometheus.yml").write_text(yaml.safe_dump(config))
        self.process = subprocess.Popen(
            ["prometheus", f"--config.file={self.workdir / 'prometheus.yml'}",
             f"--storage.tsdb.path={self.workdir / 'data'}",
             f"--web.listen-address=127.0.0.1:{self.port}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(self.port)
        return True

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(15)


class Bench:
    def __init__(self, args):
        self.args = args
        self.workdir = Path(tempfile.mkdtemp(prefix="sanctum-bench-"))
        self.redis = RedisServer(free_port())
        self.sinks = Sinks(smtp_port=free_port(), sns_port=free_port(), sns_inspect_port=free_port())
        self.port, self.bare_port = free_port(), free_port()

    def prepare(self):
        os.environ.update(environment.TEST_ENV)
        os.environ.update(BENCH_LOOPS)
        os.environ.update(self.redis.env())
        os.environ.update(self.sinks.env())
        os.environ["LOG_LEVEL"] = "WARNING"  # per-request access lines are not what we measure
        from services.kit import config
        config.load()
        self.redis.start(self.workdir)
        self.sinks.start(self.workdir)
        environment.reset_database()
        environment.reset_broker()

    # --- the in-process reference (tests/bench_reference.py) ----------------------
    def reference(self) -> dict:
        """The same POST and cached GET in one plain process with no broker, before the
        stack starts (its outbox rows are dropped with the database afterwards)."""
        from services.kit import tokens
        from tests.support import db

        port = free_port()
        process = subprocess.Popen([sys.executable, "-m", "tests.bench_reference", "--port", str(port)],
                                   cwd=environment.PROJECT_ROOT, stdout=subprocess.DEVNULL)
        try:
            wait_for_port(port)
            users = [str(row[0]) for row in db.write(
                "INSERT INTO user_management.users (user_id, email, password_hash) "
                "SELECT gen_random_uuid(), 'reference-' || n || '@example.com', 'x' "
                "FROM generate_series(1, 40) AS n RETURNING user_id")]
            issued = [tokens.issue_access_token(user, str(uuid.uuid4()))[0] for user in users]
            url = f"http://127.0.0.1:{port}"
            body = json.dumps(SHIFT_BODY)
            meter = CpuMeter({"reference": [process.pid], **system_pids()})
            meter.start()
            post = run_wrk(url, "/api/v1/mood/shift", self.args.seconds, self.args.connections,
                           "POST", body, issued)
            post["cpu"] = meter.stop()
            for token in issued:
                requests.get(f"{url}/api/v1/mood/shifts?limit=20", headers={"Authorization": f"Bearer {token}"})
            get = run_wrk(url, "/api/v1/mood/shifts?limit=20", self.args.seconds, self.args.connections,
                          tokens=issued)
            return {"post": post, "get": get}
        finally:
            process.terminate()
            process.wait(10)
            environment.reset_database()
            environment.reset_broker()

    def start(self, metrics: bool = True):
        from services.ops.stack import Stack

        self.metrics = metrics
        self.stack = Stack(env={"WEB_SERVER_ADDRESS": f"127.0.0.1:{self.port}"},
                           log_dir=self.workdir / "logs",
                           metrics_port=(lambda name: free_port()) if metrics else None)
        self.stack.start()
        self.stack.start_one("bench_echo", "tests.bench_services:EchoService")
        self.stack.start_one("bench_gateway", "tests.bench_services:BareGateway",
                             env={"WEB_SERVER_ADDRESS": f"127.0.0.1:{self.bare_port}"})
        self.stack.wait_ready(timeout=120, names=[n for n in self.stack.processes if not n.startswith("bench")])
        wait_for_port(self.bare_port)
        self.base = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 30
        while requests.get(f"http://127.0.0.1:{self.bare_port}/ping").text != "pong":
            if time.monotonic() > deadline:
                raise TimeoutError("bare round trip not answering")
            time.sleep(0.2)

    def stop_stack(self):
        self.stack.stop()

    def stop(self):
        self.stack.stop()
        self.sinks.stop()
        self.redis.stop()

    # --- fixtures ------------------------------------------------------------
    def register(self, n: int, with_contact: bool = False) -> list[dict]:
        from tests.support.client import Api
        from tests.support.flows import confirmed_contact, unique_email

        api = Api(self.base)
        users = []
        for _ in range(n):
            user = api.new_user(display_name="Bench")
            contact = unique_email() if with_contact else None
            if with_contact:
                confirmed_contact(user, self.sinks, email=contact)
            users.append({"user": user, "token": user.token, "contact": contact})
        return users

    # --- measurements ----------------------------------------------------------
    def throughput(self) -> dict:
        seconds, connections = self.args.seconds, self.args.connections
        bare = run_wrk(f"http://127.0.0.1:{self.bare_port}", "/ping", seconds, connections)
        users = self.register(40)
        tokens = [u["token"] for u in users]
        self.tokens = tokens
        body = json.dumps(SHIFT_BODY)
        alert_users = self.register(20, with_contact=True)
        under_load: list[float] = []
        crises = threading.Thread(target=lambda: under_load.extend(
            self.crises_under_load(alert_users, seconds)))
        crises.start()
        post = run_wrk(self.base, "/api/v1/mood/shift", seconds, connections, "POST", body, tokens)
        crises.join()
        post["settled_s"], post["behind"] = self.settle()
        post["alerts_under_load"] = under_load
        for token in tokens:  # warm the cache: the GET below measures cached reads
            requests.get(f"{self.base}/api/v1/mood/shifts", headers={"Authorization": f"Bearer {token}"})
        cached_get = run_wrk(self.base, "/api/v1/mood/shifts?limit=20", seconds, connections,
                             tokens=tokens)
        # The yardstick again at the end: one run of it moves by +-10% on a shared machine.
        bare_again = run_wrk(f"http://127.0.0.1:{self.bare_port}", "/ping", seconds, connections)
        return {"bare": bare, "bare_again": bare_again, "post": post, "get": cached_get}

    def stack_pids(self) -> dict[str, int]:
        """The system's processes (not the bench's own echo service and bare gateway)."""
        return {name: process.pid for name, process in self.stack.processes.items()
                if not name.startswith("bench")}

    def profile(self, seconds: int = 10) -> dict:
        """A POST load while each process's CPU is metered and py-spy samples the Python
        ones: milliseconds of CPU per logged shift, and where each process spends it."""
        pids = self.stack_pids()
        meter = CpuMeter({**{name: [pid] for name, pid in pids.items()}, **system_pids()})
        sampler = Sampler({name: pids[name] for name in PROFILED}, seconds)
        meter.start()
        sampler.start()
        load = run_wrk(self.base, "/api/v1/mood/shift", seconds, self.args.connections, "POST",
                       json.dumps(SHIFT_BODY), self.tokens)
        settled, _ = self.settle()
        cpu = meter.stop()  # the consumers' share of the load included
        return {"requests": load["requests"], "rps": load["rps"], "settled_s": settled, "cpu": cpu,
                "libraries": sampler.stop()}

    def post_only(self) -> dict:
        """The POST scenario alone on a freshly started stack, with the CPU every process
        spent per shift (the consumers' catching up included)."""
        users = self.register(40)
        meter = CpuMeter({**{name: [pid] for name, pid in self.stack_pids().items()}, **system_pids()})
        meter.start()
        post = run_wrk(self.base, "/api/v1/mood/shift", self.args.seconds, self.args.connections,
                       "POST", json.dumps(SHIFT_BODY), [u["token"] for u in users])
        post["settled_s"], post["behind"] = self.settle()
        post["cpu_ms_per_shift"] = sum(meter.stop().values()) * 1000 / post["requests"]
        return post

    def metrics_cost(self, rounds: int = 2) -> dict:
        """The POST scenario on stacks that count metrics and on stacks that do not, taken
        in turn (on, off, on, off) so that neither side gets the quieter minutes; nothing
        scrapes either (Prometheus reads every 15 s in production: its cost is not this)."""
        runs: dict[str, list[dict]] = {"on": [], "off": []}
        for _ in range(rounds):
            for side in ("on", "off"):
                self.start(metrics=side == "on")
                try:
                    runs[side].append(self.post_only())
                finally:
                    self.stop_stack()
        return runs

    # The consumers of every logged shift, and how to count what each has handled.
    SHIFT_CONSUMERS = {
        "pattern_analysis": "SELECT count(*) FROM pattern_analysis.pattern_analyses",
        "sessions": "SELECT count(*) FROM sessions.processed_events WHERE consumer = 'sessions.shifts_logged'",
        "ai_context": "SELECT count(*) FROM ai_context.processed_events "
                      "WHERE consumer = 'ai_context.shifts_logged'",
    }

    def settle(self, timeout: float = 120) -> tuple[float, dict]:
        """Wait until every consumer of a logged shift has caught up, so the next
        scenario is measured alone; return how long that took, and how many shifts
        each consumer was behind when the load stopped."""
        from sqlalchemy import create_engine, text

        engine = create_engine(os.environ["DATABASE_URL"])
        started = time.monotonic()
        first = None
        try:
            while time.monotonic() - started < timeout:
                with engine.connect() as conn:
                    logged = conn.execute(text("SELECT count(*) FROM mood_tracking.mood_shifts")).scalar()
                    behind = {name: logged - conn.execute(text(sql)).scalar()
                              for name, sql in self.SHIFT_CONSUMERS.items()}
                first = behind if first is None else first
                if max(behind.values()) <= 0:
                    return time.monotonic() - started, first
                time.sleep(0.1)
            raise TimeoutError(f"consumers still behind: {behind}")
        finally:
            engine.dispose()

    def crisis_latency(self) -> list[float]:
        """From the 201 of a crisis-level shift to the SMTP server holding the email."""
        users = self.register(self.args.alerts, with_contact=True)
        time.sleep(1)
        return [self.alert_latency(entry) for entry in users]

    def crises_under_load(self, users: list[dict], seconds: float) -> list[float]:
        """Crises logged one at a time while the POST load runs."""
        latencies, stop_at = [], time.monotonic() + seconds - 2
        for entry in users:
            if time.monotonic() > stop_at:
                break
            latencies.append(self.alert_latency(entry))
            time.sleep(0.3)
        return latencies

    def alert_latency(self, entry: dict, subject: str = "support") -> float:
        user, contact = entry["user"], entry["contact"]
        response = user.post("/api/v1/mood/shift", json={
            "previous": {"level": -1}, "current": {"level": -4}, "intensity": 9})
        acknowledged = time.time()
        assert response.status_code == 201, response.text
        deadline = time.monotonic() + 30
        while True:
            mails = [m for m in self.sinks.emails(to=contact) if subject in m["subject"]]
            if mails:
                return (mails[0]["received_at"] - acknowledged) * 1000
            if time.monotonic() > deadline:
                raise TimeoutError(f"no alert email for {contact}")
            time.sleep(0.002)

    def prompt_latency(self) -> list[float]:
        """Step 1 of the ladder: from the 201 of a crisis-level shift to the SMTP server
        holding the user's own prompt (users who keep the 10-minute prompt step)."""
        users = self.register(self.args.alerts)
        for entry in users:
            entry["user"].patch("/api/v1/notifications/settings", json={"prompt_minutes": 10})
            entry["contact"] = entry["user"].email
        time.sleep(1)
        return [self.alert_latency(entry, subject="Checking in") for entry in users]

    def reminder_burst(self, count: int, instances: int) -> dict:
        """``count`` reminders due in the same instant: seconds from due until the SMTP
        server has accepted the last of them, with 1 or 2 notifications instances."""
        from tests.support import db

        if instances == 2:
            from services import registry
            self.stack.start_one("notifications_2", registry.SERVICES["notifications"].path)
            deadline = time.monotonic() + 60
            while consumers_of("rpc-notifications") < 2:  # both instances serving
                if time.monotonic() > deadline:
                    raise TimeoutError("the second notifications instance did not start")
                time.sleep(0.2)
        if not hasattr(self, "_reminders"):
            per_user = 20
            self._reminders = []
            for entry in self.register(count // per_user):
                for _ in range(per_user):
                    answer = entry["user"].post("/api/v1/reminders", json={
                        "kind": "diary", "times": ["03:00"], "channels": ["email"]})
                    assert answer.status_code == 201, answer.text
                    self._reminders.append(answer.json()["reminder_id"])
            time.sleep(1)
        mail_dir = self.sinks.mail_dir
        before = set(mail_dir.glob("[0-9]*.json"))
        due_at = time.time()
        db.execute("UPDATE notifications.scheduled_reminders SET next_due_at = now() "
                   "WHERE reminder_id = ANY(CAST(:ids AS uuid[]))", ids=self._reminders)
        deadline = time.monotonic() + 300
        while True:
            new = set(mail_dir.glob("[0-9]*.json")) - before
            if len(new) >= count:
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"only {len(new)} of {count} reminders arrived")
            time.sleep(0.05)
        received = sorted(json.loads(path.read_text())["received_at"] for path in new)
        if instances == 2:
            self.stack.stop_one("notifications_2")
        return {"count": count, "instances": instances, "last_s": received[-1] - due_at,
                "median_s": received[len(received) // 2] - due_at}

    def exports(self, days: int) -> dict:
        """A user with ``days`` of history (five shifts a day, daily cards, three medications):
        time to done and the export process's peak resident memory, per kind."""
        from tests.support import history
        from tests.support.client import Api

        user = Api(self.base).new_user(display_name="Bench", timezone="Europe/London")
        started = time.monotonic()
        logged = history.seed(user, days)
        seeded = time.monotonic() - started
        self.settle()
        period = {"from": logged.first.isoformat(), "to": time.strftime("%Y-%m-%d", time.gmtime())}
        process = psutil.Process(self.stack.processes["export_reports"].pid)
        figures = {"days": days, "seeded_s": seeded, "kinds": {}}
        for kind, body in (("clinician_pdf", period), ("fhir", period), ("full", {})):
            before = process.memory_info().rss
            sampler = PeakMemory(process)
            started = time.monotonic()
            job = user.post("/api/v1/exports", json={"kind": kind, **body}).json()
            while (job := user.get(f"/api/v1/exports/{job['job_id']}").json())["status"] not in ("done", "failed"):
                time.sleep(0.05)
            elapsed = time.monotonic() - started
            sampler.stop()
            figures["kinds"][kind] = {"status": job["status"], "seconds": elapsed, "bytes": job["size_bytes"],
                                      "before_mib": before / 2**20, "peak_mib": sampler.service / 2**20,
                                      "child_mib": sampler.child / 2**20}
        return figures

    def memory(self) -> dict:
        return {name: psutil.Process(pid).memory_info().rss / 2**20
                for name, pid in self.stack_pids().items()}


def report_exports(figures: dict) -> None:
    print(f"\nexports for a user with {figures['days']} days of history (5 shifts a day, daily cards, "
          f"3 medications; logged through the API in {figures['seeded_s']:.0f} s):")
    for kind, f in figures["kinds"].items():
        size = f"{f['bytes'] / 2**20:.1f} MiB" if f["bytes"] else "-"
        drawn = f", the child process building it {f['child_mib']:.0f} MiB at its peak" if f["child_mib"] else ""
        print(f"  {kind:<14}{f['status']:<7} {f['seconds']:>6.1f} s to done   {size:>9}   service "
              f"{f['before_mib']:.0f} MiB before, {f['peak_mib']:.0f} at its peak{drawn}")
    print("  (targets: clinician PDF under 10 s, the process drawing it under 200 MB at its peak)")


def report(results: dict, latencies: list[float], memory: dict, args,
           prompts: list[float], bursts: list[dict], reference: dict | None = None,
           profile: dict | None = None, metrics_cost: dict | None = None) -> None:
    bare = (results["bare"]["rps"] + results["bare_again"]["rps"]) / 2
    print(f"\nSanctumTools bench: {os.cpu_count()} cores, wrk -t2 -c{args.connections} "
          f"-d{args.seconds}s per scenario, through the HTTP gateway\n")
    print(f"{'scenario':<40}{'req/s':>9}{'/bare':>7}{'/ref':>7}{'p50 ms':>9}{'p95 ms':>9}"
          f"{'p99 ms':>9}{'errors':>8}")
    rows = [("bare nameko round trip (@http->rpc)", results["bare"], None, None),
            ("  the same, at the end of the run", results["bare_again"], None, None)]
    if reference:
        rows += [("reference, one process: POST", reference["post"], None, None),
                 ("reference, one process: cached GET", reference["get"], None, None)]
    rows += [("POST /api/v1/mood/shift", results["post"], "post", 0.5),
             ("GET /api/v1/mood/shifts (cached)", results["get"], "get", 0.7)]
    for label, r, against, target in rows:
        ratio = r["rps"] / bare
        versus = r["rps"] / reference[against]["rps"] if reference and against else None
        shown = f"{versus:>7.2f}" if versus is not None else f"{'':>7}"
        mark = "" if versus is None else ("  ok" if versus >= target else f"  below {target} of ref")
        print(f"{label:<40}{r['rps']:>9.0f}{ratio:>7.2f}{shown}{r['p50']:>9.1f}{r['p95']:>9.1f}"
              f"{r['p99']:>9.1f}{r['errors']:>8}{mark}")
    post = results["post"]
    analysed = post["requests"] / (args.seconds + post["settled_s"])
    print(f"\n/bare: to the mean of the two bare runs ({bare:.0f} req/s); /ref: to the reference "
          "(tests/bench_reference.py: the same work in one process, no broker; targets 0.5 and 0.7)")
    lag = ", ".join(f"{name} {count}" for name, count in post["behind"].items())
    print(f"when the POST run ended, of {post['requests']} shifts the consumers were behind by: {lag};")
    print(f"  all caught up in {post['settled_s']:.1f} s, so shifts were logged and handled by every "
          f"consumer at {analysed:.0f}/s ({analysed / bare:.2f} of bare)")
    loaded = post["alerts_under_load"]
    print(f"crisis alerts during the POST run ({len(loaded)}, one at a time), 201 -> email at SMTP: "
          f"p50 {percentile(loaded, 50):.1f} ms   p99 {percentile(loaded, 99):.1f} ms   "
          f"max {max(loaded):.1f} ms   (target p99 < 100 ms)")
    if metrics_cost:
        report_metrics_cost(metrics_cost)
    if profile:
        report_profile(profile, reference)
    print(f"\ncrisis alert, 201 -> email at the SMTP server ({len(latencies)} crises, one at a time):")
    print(f"  p50 {percentile(latencies, 50):.1f} ms   p95 {percentile(latencies, 95):.1f} ms   "
          f"p99 {percentile(latencies, 99):.1f} ms   max {max(latencies):.1f} ms   "
          f"mean {statistics.mean(latencies):.1f} ms   (target p99 < 500 ms)")
    print(f"\ncrisis step 1, 201 -> the user's own prompt at the SMTP server ({len(prompts)} crises):")
    print(f"  p50 {percentile(prompts, 50):.1f} ms   p95 {percentile(prompts, 95):.1f} ms   "
          f"p99 {percentile(prompts, 99):.1f} ms   max {max(prompts):.1f} ms   (target p99 < 500 ms)")
    for burst in bursts:
        print(f"{burst['count']} reminders due at once, {burst['instances']} notifications "
              f"instance(s): half accepted by SMTP after {burst['median_s']:.1f} s, "
              f"the last after {burst['last_s']:.1f} s")
    print("\nresident memory per process after the load (MiB):")
    for name, rss in sorted(memory.items()):
        print(f"  {name:<22}{rss:>8.1f}")
    total = sum(memory.values())
    print(f"  {'total':<22}{total:>8.1f}   ({len(memory)} processes; target under 1228.8 MiB "
          f"(1.2 GiB) for the thirteen)")


def report_metrics_cost(runs: dict) -> None:
    def mean(side: str, key: str) -> float:
        return statistics.mean(run[key] for run in runs[side])

    print("POST on fresh stacks in turn, metrics on / off (req/s; ms of CPU per shift, all processes):")
    for side in ("on", "off"):
        shown = "  ".join(f"{run['rps']:.0f} ({run['cpu_ms_per_shift']:.2f} ms)" for run in runs[side])
        print(f"  {side:<4}{shown}")
    print(f"  metrics on: {mean('on', 'rps') / mean('off', 'rps'):.2f} of the throughput with them off, "
          f"{mean('on', 'cpu_ms_per_shift') / mean('off', 'cpu_ms_per_shift'):.2f} of the CPU per shift "
          "(target: within 5 %)")


def report_quick(results: dict, memory: dict, args, reference: dict, profile: dict) -> None:
    bare = (results["bare"]["rps"] + results["bare_again"]["rps"]) / 2
    post, get = results["post"], results["get"]
    loaded = post["alerts_under_load"]
    for name in ("bare", "post", "get"):
        r = results[name]
        print(f"  {name:<5} {r['rps']:>7.0f} req/s   p50 {r['p50']:.1f} ms   p99 {r['p99']:.1f} ms   "
              f"errors {r['errors']}")
    print(f"\nbare {bare:.0f}  reference POST {reference['post']['rps']:.0f} GET {reference['get']['rps']:.0f}"
          f"  |  POST {post['rps']:.0f} ({post['rps'] / reference['post']['rps']:.2f} of ref, "
          f"{post['rps'] / bare:.2f} of bare)  GET {get['rps']:.0f} ({get['rps'] / reference['get']['rps']:.2f} "
          f"of ref)  |  behind {post['behind']}  |  crises under load p50 {percentile(loaded, 50):.0f} "
          f"max {max(loaded):.0f} ms  |  memory {sum(memory.values()):.0f} MiB")
    report_profile(profile, reference)


def report_profile(profile: dict, reference: dict | None) -> None:
    per = 1000 / profile["requests"]
    cpu = profile["cpu"]
    print(f"\nwhere a logged shift's CPU goes ({profile['requests']} shifts in a 10 s POST load, "
          f"the consumers' work included; ms of CPU per shift):")
    for name, seconds in sorted(cpu.items(), key=lambda item: -item[1]):
        if seconds * per >= 0.05:
            print(f"  {name:<22}{seconds * per:>6.2f}")
    print(f"  {'total':<22}{sum(cpu.values()) * per:>6.2f}")
    if reference:
        ref = reference["post"]
        ref_per = 1000 / ref["requests"]
        print(f"  the reference: {ref['cpu']['reference'] * ref_per:.2f} in its process, "
              f"{ref['cpu']['postgresql'] * ref_per:.2f} in PostgreSQL, "
              f"{sum(ref['cpu'].values()) * ref_per:.2f} in all")
    print("where each process's time goes (py-spy samples by library, top five):")
    for name, shares in profile["libraries"].items():
        top = ", ".join(f"{library} {share:.0%}" for library, share in list(shares.items())[:5])
        print(f"  {name:<18}{top}")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--alerts", type=int, default=100)
    parser.add_argument("--reminders", type=int, default=1000)
    parser.add_argument("--export-days", type=int, default=365)
    parser.add_argument("--only-exports", action="store_true", help="just the export figures")
    parser.add_argument("--picture", default="monitoring/bench-snapshot.png",
                        help="where the picture of the run drawn from Prometheus goes")
    parser.add_argument("--quick", action="store_true",
                        help="the reference, throughput, profile and memory only (for iterating)")
    args = parser.parse_args()
    bench = Bench(args)
    bench.prepare()
    if args.only_exports:
        bench.start()
        try:
            report_exports(bench.exports(args.export_days))
        finally:
            bench.stop()
        return 0
    print("[bench] the in-process reference (tests/bench_reference.py)")
    reference = bench.reference()
    print("[bench] starting the stack (test database, own Redis, local mail and SMS sinks)")
    bench.start()
    prometheus = BenchPrometheus(bench.workdir)
    drawing = prometheus.start(bench.stack.metrics_ports)
    started_at = time.time()
    try:
        results = bench.throughput()
        memory = bench.memory()
        profile = bench.profile()
        if args.quick:
            report_quick(results, memory, args, reference, profile)
            return 0
        latencies = bench.crisis_latency()
        prompts = bench.prompt_latency()
        bursts = [bench.reminder_burst(args.reminders, 1), bench.reminder_burst(args.reminders, 2)]
        exported = bench.exports(args.export_days)
        if drawing:
            from monitoring import snapshot
            picture = snapshot.draw(prometheus.url, started_at, time.time(), Path(args.picture),
                                    "SanctumTools during make bench: the POST and GET runs, then "
                                    "crises one at a time, prompts, reminders, exports")
            print(f"[bench] the run, drawn from Prometheus: {picture}")
        prometheus.stop()
        bench.stop_stack()
        print("[bench] the POST run on stacks that count metrics and on stacks that do not, in turn")
        metrics_cost = bench.metrics_cost()
    finally:
        prometheus.stop()
        bench.stop()
    report(results, latencies, memory, args, prompts, bursts, reference, profile, metrics_cost)
    report_exports(exported)
    return 0


if __name__ == "__main__":
    sys.exit(main())
