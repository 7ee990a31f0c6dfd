"""`arkiv load`: N simulated clients for S seconds against a running `arkiv serve` on 127.0.0.1.

The locust adapter (the only module importing locust and gevent). Each client asks, searches, streams answers
(a share of the streams hung up after the first event, as a closed browser tab does) and checks health, one
request after another. At the end it prints, per endpoint, the requests, errors, throughput and the p50, p95 and
p99 response times (locust's stats: times over 100 ms are rounded to two significant digits), and, with --pid,
the server's resident memory at the start, at the end and at its peak.

It is a measuring tool, not a test: bounded in time (--seconds, at most 600), in clients (--users, at most 200)
and in requests (--max-requests), and it drives only a server on 127.0.0.1.

locust patches the standard library with gevent when it is imported, which must happen before ssl and the
rest are imported; the `arkiv` command has imported them by then, so the run happens in a fresh interpreter
that imports locust first (`_BOOT`).
"""

from __future__ import annotations

import json
import logging
import random
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import click

logger = logging.getLogger(__name__)

MAX_USERS = 200
MAX_SECONDS = 600.0
ALLOWED_HOSTS = ("127.0.0.1",)
QUESTIONS = (
    "Hur mycket pengar beviljades Smålands Turism?",
    "Vad beslutade presidiet om RJL 2022/258?",
    "Vilka beslut fattade nämnden om besöksnäringen 2022?",
    "Vad handlar internkontrollplanen om?",
    "Vem ansvarar för uppföljningen av internkontrollen?",
    "Hur ofta ska kontrollerna genomföras?",
    "Vilka risker lyfts fram i internkontrollplanen?",
    "Vad sades om kollektivtrafiken i verksamhetsplanen?",
    "Hur såg det ekonomiska resultatet ut i årsredovisningen?",
    "Vilka ärenden behandlades på sammanträdet i februari?",
    "Beviljades bidrag till kulturverksamhet?",
    "Vad kostar en ny simhall i Göteborg?",
    "Vilka mål finns för folkhälsan?",
    "Vad beslutade regionstyrelsen om budgeten?",
    "Hur hanteras leverantörsfakturor?",
    "Which decisions were made about tourism in 2022?",
)
WEIGHTS = {"ask": 3, "search": 3, "stream": 2, "health": 2}
"""How often each client picks each kind of request."""

STOP_TIMEOUT = 120.0
STREAM = "/api/ask/stream"
ABORTED = "/api/ask/stream (aborted)"

_BOOT = (
    "import locust, json, sys\n"  # first: gevent patches the standard library before anything else is imported
    "from assistant.load import _run_options\n"
    "sys.exit(_run_options(json.loads(sys.argv[1])))\n"
)


@dataclass(frozen=True)
class EndpointStats:
    """One endpoint's figures over the run (times in milliseconds)."""

    name: str
    method: str
    requests: int
    errors: int
    per_second: float
    p50: float
    p95: float
    p99: float
    max: float


@dataclass(frozen=True)
class Memory:
    """The server's resident set size in MiB."""

    pid: int
    start: float
    end: float
    peak: float


@dataclass
class LoadReport:
    host: str
    users: int
    seconds: float
    abort_share: float
    endpoints: list[EndpointStats] = field(default_factory=list)
    total: EndpointStats | None = None
    errors: dict[str, int] = field(default_factory=dict)
    memory: Memory | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def format(self) -> str:
        lines = [
            f"arkiv load: {self.users} clients for {self.seconds:.0f} s against {self.host} "
            f"({self.abort_share:.0%} of streams hung up after the first event)",
            "",
            f"{'endpoint':<32} {'requests':>8} {'errors':>6} {'req/s':>7} {'p50 ms':>7} {'p95 ms':>7} "
            f"{'p99 ms':>7} {'max ms':>7}",
        ]
        rows = [*self.endpoints, *([self.total] if self.total else [])]
        for e in rows:
            label = f"{e.method} {e.name}" if e.name != "total" else "total"
            lines.append(
                f"{label:<32} {e.requests:>8} {e.errors:>6} {e.per_second:>7.1f} {e.p50:>7.0f} {e.p95:>7.0f} "
                f"{e.p99:>7.0f} {e.max:>7.0f}"
            )
        lines.append("")
        if self.errors:
            lines.append("errors:")
            lines.extend(f"  {n} × {what}" for what, n in sorted(self.errors.items(), key=lambda x: -x[1]))
        else:
            lines.append("errors: none")
        if self.memory:
            m = self.memory
            change = (m.end - m.start) / m.start if m.start else 0.0
            lines.append(
                f"server memory (pid {m.pid}): start {m.start:.1f} MiB, end {m.end:.1f} MiB ({change:+.1%}), "
                f"peak {m.peak:.1f} MiB"
            )
        return "\n".join(lines)


def check_host(host: str) -> str:
    """The base URL, if it is plain HTTP on 127.0.0.1; ValueError otherwise."""
    parts = urlsplit(host)
    if parts.scheme != "http" or parts.hostname not in ALLOWED_HOSTS or parts.path not in ("", "/"):
        raise ValueError(f"arkiv load drives only a server at http://127.0.0.1:<port>, not {host!r}.")
    return f"http://{parts.hostname}:{parts.port or 80}"


def _rss_mib(pid: int) -> float:
    import psutil  # a dependency of locust

    return float(psutil.Process(pid).memory_info().rss) / 2**20


def run_load(
    host: str,
    users: int,
    seconds: float,
    *,
    abort_share: float = 0.5,
    max_requests: int = 1_000_000,
    questions: tuple[str, ...] = QUESTIONS,
    pid: int | None = None,
    seed: int | None = None,
) -> LoadReport:
    """Run the load and return the figures. Only in a process that imported locust before anything else."""
    import gevent
    import gevent.event
    from locust import FastHttpUser, constant, task
    from locust.env import Environment

    base = check_host(host)
    if not 1 <= users <= MAX_USERS:
        raise ValueError(f"users must be 1..{MAX_USERS}")
    if not 0 < seconds <= MAX_SECONDS:
        raise ValueError(f"seconds must be within (0, {MAX_SECONDS:.0f}]")
    rng = random.Random(seed)
    parts = urlsplit(base)

    def stream_once(user: Any, abort: bool) -> None:
        """POST /api/ask/stream over its own connection: read every event, or hang up after the first."""
        import http.client

        name = ABORTED if abort else STREAM
        started = time.perf_counter()
        length = 0
        error: Exception | None = None
        conn = http.client.HTTPConnection(str(parts.hostname), parts.port, timeout=120)
        try:
            body = json.dumps({"question": rng.choice(questions)}, ensure_ascii=False).encode()
            conn.request("POST", STREAM, body=body, headers={"Content-Type": "application/json"})
            response = conn.getresponse()
            if response.status != 200:
                raise RuntimeError(f"HTTP {response.status}")
            events = []
            for raw in response:
                length += len(raw)
                line = raw.decode("utf-8", "replace").strip()
                if line.startswith("event:"):
                    events.append(line.split(":", 1)[1].strip())
                    if events[-1] == "error":
                        raise RuntimeError("the stream ended in an error event")
                if abort and line == "" and events:
                    break  # the first event is in: hang up
                if events and events[-1] == "done" and line == "":
                    break
            else:
                if not abort and "done" not in events:
                    raise RuntimeError("the stream ended without its done event")
        except Exception as ex:  # noqa: BLE001 - every failure is counted and named in the report
            error = ex
        finally:
            conn.close()
        user.environment.events.request.fire(
            request_type="POST",
            name=name,
            response_time=(time.perf_counter() - started) * 1000,
            response_length=length,
            exception=error,
            context={},
            response=None,
            url=STREAM,
        )

    class ArkivClient(FastHttpUser):
        """One person at the web page or a script: one request after another, no pause between them."""

        wait_time = constant(0)
        network_timeout = 120.0
        connection_timeout = 10.0

        @task(WEIGHTS["ask"])
        def ask(self) -> None:
            self.client.post("/api/ask", json={"question": rng.choice(questions)})

        @task(WEIGHTS["search"])
        def search(self) -> None:
            self.client.post("/api/search", json={"query": rng.choice(questions), "k": 10})

        @task(WEIGHTS["stream"])
        def stream(self) -> None:
            stream_once(self, rng.random() < abort_share)

        @task(WEIGHTS["health"])
        def health(self) -> None:
            self.client.get("/api/health")

    if seed is not None:
        random.seed(seed)  # locust picks each client's next task with the random module
    # At the end, each client finishes the request it is waiting for (at most STOP_TIMEOUT s), so that slow
    # answers are counted rather than cut off; the throughput is over the whole time, that tail included.
    env = Environment(user_classes=[ArkivClient], host=base, stop_timeout=STOP_TIMEOUT)
    runner = env.create_local_runner()
    count = [0]
    enough = gevent.event.Event()

    def on_request(**kwargs: Any) -> None:
        count[0] += 1
        if count[0] >= max_requests and not enough.is_set():
            logger.warning("load: %d requests reached; stopping early", max_requests)
            enough.set()

    env.events.request.add_listener(on_request)  # type: ignore[no-untyped-call]
    memory: dict[str, float] = {}
    if pid is not None:
        memory["start"] = memory["peak"] = _rss_mib(pid)

        def sample() -> None:
            while True:
                gevent.sleep(1.0)
                memory["peak"] = max(memory["peak"], _rss_mib(pid))

        sampler = gevent.spawn(sample)
    started = time.monotonic()
    runner.start(users, spawn_rate=max(users, 1))  # everyone at once: the load starts at full strength
    enough.wait(timeout=seconds)
    runner.quit()  # waits for each client's request in flight (stop_timeout)
    elapsed = max(time.monotonic() - started, 1e-9)
    report = LoadReport(host=base, users=users, seconds=elapsed, abort_share=abort_share)
    if pid is not None:
        sampler.kill()
        end = _rss_mib(pid)
        report.memory = Memory(pid, memory["start"], end, max(memory["peak"], end))

    def figures(entry: Any, name: str, method: str) -> EndpointStats:
        pct = entry.get_response_time_percentile
        has = entry.num_requests > 0
        return EndpointStats(
            name=name,
            method=method,
            requests=entry.num_requests,
            errors=entry.num_failures,
            per_second=entry.num_requests / elapsed,
            p50=float(pct(0.5)) if has else 0.0,
            p95=float(pct(0.95)) if has else 0.0,
            p99=float(pct(0.99)) if has else 0.0,
            max=float(entry.max_response_time or 0) if has else 0.0,
        )

    for (name, method), entry in sorted(env.stats.entries.items()):
        report.endpoints.append(figures(entry, name, method))
    report.total = figures(env.stats.total, "total", "")
    for error in env.stats.errors.values():
        report.errors[f"{error.method} {error.name}: {error.error}"] = error.occurrences
    return report


def _run_options(options: dict[str, Any]) -> int:
    """The fresh interpreter's side: run, print, write --json; exit status 1 when any request failed."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    questions: tuple[str, ...] = QUESTIONS
    if options.get("questions"):
        lines = Path(options["questions"]).read_text(encoding="utf-8").splitlines()
        questions = tuple(q.strip() for q in lines if q.strip()) or QUESTIONS
    report = run_load(
        options["host"],
        options["users"],
        options["seconds"],
        abort_share=options["abort_share"],
        max_requests=options["max_requests"],
        questions=questions,
        pid=options.get("pid"),
        seed=options.get("seed"),
    )
    print(report.format())  # noqa: T201 - the command's output
    if options.get("json"):
        Path(options["json"]).write_text(json.dumps(report.to_dict(), indent=2, ensure_ascii=False), encoding="utf-8")
    return 1 if report.total is None or report.total.errors else 0


@click.command("load")
@click.option("--host", default="http://127.0.0.1:8000", show_default=True, help="The server (127.0.0.1 only).")
@click.option(
    "-u", "--users", default=10, show_default=True, type=click.IntRange(1, MAX_USERS), help="Simultaneous clients."
)
@click.option(
    "-s", "--seconds", default=30.0, show_default=True, type=click.FloatRange(1, MAX_SECONDS), help="How long to run."
)
@click.option(
    "--abort-share",
    default=0.5,
    show_default=True,
    type=click.FloatRange(0, 1),
    help="Share of streamed answers hung up after the first event.",
)
@click.option(
    "--max-requests",
    default=1_000_000,
    show_default=True,
    type=click.IntRange(1),
    help="Stop after this many requests.",
)
@click.option("--pid", type=int, default=None, help="The server's process id: report its memory.")
@click.option(
    "--questions",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="A file of questions, one a line (default: a built-in Swedish set).",
)
@click.option("--seed", type=int, default=None, help="Seed for the choice of questions.")
@click.option(
    "--json",
    "json_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Also write the figures to this JSON file.",
)
def load(
    host: str,
    users: int,
    seconds: float,
    abort_share: float,
    max_requests: int,
    pid: int | None,
    questions: str | None,
    seed: int | None,
    json_path: str | None,
) -> None:
    """Drive N clients for S seconds against a running server and print throughput, p50/p95/p99 and errors.

    Each client asks (/api/ask), searches (/api/search), streams answers (/api/ask/stream, a share of them hung up
    after the first event) and checks /api/health, one request after another. Exit status 1 when any failed.

    Example: arkiv load --users 50 --seconds 60 --pid "$(pgrep -f 'arkiv serve')"
    """
    try:
        host = check_host(host)
    except ValueError as ex:
        raise click.UsageError(str(ex)) from ex
    if pid is not None:
        try:
            _rss_mib(pid)
        except Exception as ex:  # noqa: BLE001 - psutil's errors become one clear message
            raise click.UsageError(f"no process {pid} to measure ({type(ex).__name__})") from ex
    options = {
        "host": host,
        "users": users,
        "seconds": seconds,
        "abort_share": abort_share,
        "max_requests": max_requests,
        "pid": pid,
        "questions": questions,
        "seed": seed,
        "json": json_path,
    }
    done = subprocess.run([sys.executable, "-c", _BOOT, json.dumps(options)], check=False)
    if done.returncode:
        raise SystemExit(done.returncode)
