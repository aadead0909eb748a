"""The benchmark harness: our service against Datasette and a bare ASGI ceiling, side by side.

Builds the content database (a fresh SQLite file via ``ldn-kb load-content``), then, each round, starts
on loopback our service (``ldn-kb serve``, as in production), Datasette (``datasette serve`` on the same
file) and a bare ASGI app returning constant bodies of our responses' sizes (``bench/bare_asgi.py``
under uvicorn with our flags), and loads each endpoint on each server back to back with ``wrk`` (32
connections, 2 threads, a warm-up, then a fixed duration with ``--latency``), one server loaded at a
time. Ratios are taken per round (runs seconds apart) and their median quoted; the order rotates. The Markdown table goes to stdout and to
``bench/results/latest.md``. Not part of the test suite. See bench/README.md.

    .venv/bin/python -m bench                 # full: 3 rounds x 5 s
    .venv/bin/python -m bench --quick         # 1 round x 3 s
    .venv/bin/python -m bench --workers 2     # our service (and the ceiling) with 2 workers
    .venv/bin/python -m bench --scale 50      # adds the paging-versus-table-size section
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import http.client
import json
import os
import platform
import random
import re
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
if not __package__:  # run as a script (python bench/run.py): make `app` and `bench` importable
    sys.path.insert(0, str(ROOT))
BENCH = ROOT / "bench"
RESULTS = BENCH / "results"
BENCH_VENV = BENCH / ".venv"
BIN = Path(sys.executable).parent
HOST = "127.0.0.1"

OURS, DATASETTE, BARE = "ldn-kb", "datasette", "bare ASGI"
#: Our service with the response cache off (every answer computed), and with two workers.
OURS_OFF, OURS_2W = "ldn-kb (cache off)", "ldn-kb (2 workers)"
#: The bare ceiling with two workers: what this machine allows two workers beside wrk (the same two cores).
BARE_2W = "bare ASGI (2 workers)"
#: The bare ceiling given our median CPU time a request on the random POST rows, under the same wrk script:
#: the p99 that such a service time allows on this machine at 32 connections.
BARE_BUSY = "bare ASGI (busy)"
#: The POST rows whose requests a wrk script makes new each time (their % of bare is of the plain ceiling).
RANDOM_POSTS = ("dose-rand", "cds-rand")
#: The distinct-query-string memory run: this many requests, each with a query string not sent before.
DISTINCT_REQUESTS = 4200
DB_NAME = "kb"  # Datasette names the database after the file's stem

# The request bodies: the dose-check schema's own first example, and a CDS Hooks order-sign call whose
# draft order names the drug by text only (no code is sent, none is invented).
DOSE_CHECK_BODY = {"amount": 4.5, "unit": "mg", "frequency": "daily", "route": "oral"}


def cds_body(hook: str) -> dict[str, Any]:
    order = {
        "resourceType": "MedicationRequest",
        "id": "bench-1",
        "status": "draft",
        "intent": "order",
        "medicationCodeableConcept": {"text": "naltrexone 4.5 mg oral"},
        "subject": {"reference": "Patient/example"},
        "dosageInstruction": [
            {
                "text": "naltrexone 4.5 mg oral daily",
                "timing": {"repeat": {"frequency": 1, "period": 1, "periodUnit": "d"}},
                "route": {"text": "Oral route"},
                "doseAndRate": [
                    {"doseQuantity": {"value": 4.5, "unit": "mg", "system": "http://unitsofmeasure.org", "code": "mg"}}
                ],
            }
        ],
    }
    body: dict[str, Any] = {
        "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
        "fhirServer": "https://fhir.example.org",
        "hook": hook,
        "context": {
            "userId": "PractitionerRole/123",
            "patientId": "1288992",
            "encounterId": "89284",
            "draftOrders": {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": order}]},
        },
    }
    if hook == "order-select":
        body["context"]["selections"] = ["MedicationRequest/bench-1"]
    return body


# ----------------------------------------------------------------------------------------- tools


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def ensure_wrk(install: bool) -> str:
    found = shutil.which("wrk")
    if found:
        return found
    if install and os.geteuid() == 0 and shutil.which("apt-get"):
        log("wrk is missing: apt-get install -y wrk")
        subprocess.run(["apt-get", "update", "-qq"], check=False)
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True)
        found = shutil.which("wrk")
        if found:
            return found
    sys.exit("bench: wrk is missing. Install it: `sudo apt-get install -y wrk` (Debian/Ubuntu), `brew install wrk`.")


def _venv_tool(name: str) -> str | None:
    for candidate in (BENCH_VENV / "bin" / name, BIN / name):
        if candidate.exists():
            return str(candidate)
    return shutil.which(name)


def ensure_datasette(install: bool) -> str | None:
    found = _venv_tool("datasette")
    if found or not install:
        return found
    log(f"datasette is missing: creating {BENCH_VENV} and installing it with pip")
    subprocess.run([sys.executable, "-m", "venv", str(BENCH_VENV)], check=True)
    pip = [str(BENCH_VENV / "bin" / "python"), "-m", "pip", "install", "-q"]
    subprocess.run([*pip, "datasette>=0.65", "uvicorn[standard]>=0.30", "py-spy>=0.3"], check=True)
    return _venv_tool("datasette")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


# ------------------------------------------------------------------------------------ processes


def _ppid(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[1])


def descendants(pid: int) -> list[int]:
    parents: dict[int, list[int]] = defaultdict(list)
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            parent = _ppid(int(entry.name))
            if parent is not None:
                parents[parent].append(int(entry.name))
    out, todo = [], [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def rss_mb(pid: int) -> float:
    """Resident set size (VmRSS) of one process, in MB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_ticks() -> dict[int, int]:
    """utime + stime of every process, by pid."""
    out = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            out[int(entry.name)] = int(fields[11]) + int(fields[12])
    return out


def foreign_cpu(before: dict[int, int], after: dict[int, int], seconds: float) -> float:
    """Share (0–1) of the machine's CPU used by processes other than this harness and its children (the
    server under test, wrk) between two snapshots: other work on the machine skews the numbers."""
    ours = {os.getpid(), *descendants(os.getpid())}
    used = sum(t - before.get(pid, 0) for pid, t in after.items() if pid not in ours)
    return max(0.0, used / CLOCK_TICKS / (seconds * (os.cpu_count() or 1)))


@dataclass
class Running:
    name: str
    proc: subprocess.Popen[bytes]
    port: int
    workers: int
    ttfr: float
    log_path: Path

    def worker_pids(self) -> list[int]:
        """The processes that serve requests: the process itself, or uvicorn's worker children."""
        if self.workers <= 1:
            return [self.proc.pid]
        children = [p for p in descendants(self.proc.pid) if rss_mb(p) > 20]  # not the resource tracker
        return children or [self.proc.pid]

    def rss_per_worker(self) -> float:
        return max(rss_mb(pid) for pid in self.worker_pids())


def _get_status(port: int, path: str) -> int:
    conn = http.client.HTTPConnection(HOST, port, timeout=2)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def start_server(
    name: str,
    argv: list[str],
    *,
    env: dict[str, str],
    cwd: Path,
    port: int,
    ready_path: str,
    log_path: Path,
    workers: int = 1,
    timeout: float = 60.0,
) -> Running:
    """Start the process and poll ``ready_path`` until it answers 200: the time to that first success
    (from just before the process is spawned) is the time to first response."""
    out: TextIO = log_path.open("w")
    started = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    out.close()
    while True:
        if proc.poll() is not None:
            tail = log_path.read_text(errors="replace")[-3000:]
            sys.exit(f"bench: {name} exited with {proc.returncode} before answering; its log:\n{tail}")
        with contextlib.suppress(OSError, http.client.HTTPException):
            if _get_status(port, ready_path) == 200:
                return Running(name, proc, port, workers, time.perf_counter() - started, log_path)
        if time.perf_counter() - started > timeout:
            stop_server_proc(proc)
            sys.exit(f"bench: {name} did not answer {ready_path} within {timeout:.0f} s (log: {log_path})")
        time.sleep(0.005)


def stop_server_proc(proc: subprocess.Popen[bytes]) -> None:
    """Stop a process this harness started, with its own process group (its uvicorn workers)."""
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGINT)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)


# ------------------------------------------------------------------------------------------ HTTP


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class Client:
    """One keep-alive connection for probes and walks (not for load: wrk does that)."""

    def __init__(self, port: int) -> None:
        self.conn = http.client.HTTPConnection(HOST, port, timeout=30)

    def request(
        self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
    ) -> Reply:
        hdrs = dict(headers or {})
        if body is not None:
            hdrs.setdefault("Content-Type", "application/json")
        self.conn.request(method, path, body=body, headers=hdrs)
        response = self.conn.getresponse()
        data = response.read()
        return Reply(response.status, {k.lower(): v for k, v in response.getheaders()}, data)

    def close(self) -> None:
        self.conn.close()


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def pages(client: Client, first: str) -> Iterator[tuple[str, Any]]:
    """Every page of a list endpoint, following ``links.next``: (request path, body)."""
    path: str | None = first
    while path is not None:
        reply = client.request("GET", path)
        if reply.status != 200:
            raise RuntimeError(f"GET {path}: {reply.status} {reply.body[:300]!r}")
        body = reply.json()
        yield path, body
        following = (body.get("links") or {}).get("next")
        path = path_of(following) if following else None


LIST_KINDS = ("drugs", "regimens", "targets", "mechanisms", "conditions", "indications", "sources")


def walk_everything(port: int) -> int:
    """GET every page of every list and every record's detail (fills the response cache with the whole
    content, so RSS is read with the full content loaded). Returns the number of requests."""
    client = Client(port)
    count = 0
    try:
        for kind in LIST_KINDS:
            slugs = []
            for _path, body in pages(client, f"/v1/{kind}?limit=100"):
                count += 1
                slugs += [item["slug"] for item in body.get("data", []) if "slug" in item]
            for slug in slugs:
                client.request("GET", f"/v1/{kind}/{slug}")
                count += 1
    finally:
        client.close()
    return count


# ------------------------------------------------------------------------------------------- wrk


@dataclass(frozen=True)
class WrkResult:
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    non_2xx_3xx: int
    socket_errors: int
    foreign_cpu: float = 0.0
    #: CPU time (user + system) the server's processes spent per request in the run, in µs: what an answer
    #: costs the server whatever the load generator takes of the same cores (nan when not known).
    server_cpu_us: float = float("nan")


_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def parse_wrk(text: str) -> WrkResult:
    rps = re.search(r"Requests/sec:\s+([\d.]+)", text)
    if rps is None:
        raise RuntimeError(f"cannot parse wrk output:\n{text}")
    dist = {
        int(m.group(1)): float(m.group(2)) * _UNIT_MS[m.group(3)]
        for m in re.finditer(r"^\s+(\d+)%\s+([\d.]+)(us|ms|s|m)\s*$", text, re.M)
    }
    total = re.search(r"(\d+) requests in", text)
    non = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    return WrkResult(
        rps=float(rps.group(1)),
        p50_ms=dist.get(50, float("nan")),
        p99_ms=dist.get(99, float("nan")),
        requests=int(total.group(1)) if total else 0,
        non_2xx_3xx=int(non.group(1)) if non else 0,
        socket_errors=sum(int(x) for x in sock.groups()) if sock else 0,
    )


@dataclass(frozen=True)
class Endpoint:
    group: str  # the comparison row: list, list2, detail, 304, dose-check, cds
    path: str
    method: str = "GET"
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes | None = None
    expect: int = 200
    lua: str | None = None  # a wrk script of its own (a new request per call: random queries, bodies)
    note: str = ""  # shown after the request in the table (what the script varies)


@dataclass
class Options:
    wrk: str
    connections: int
    threads: int
    duration: int
    warmup: int
    work: Path
    wait_idle: float = 0.0


def wait_until_idle(budget: float, threshold: float = 0.10) -> None:
    """Wait (at most ``budget`` seconds) until other processes use under ``threshold`` of the CPU."""
    deadline = time.perf_counter() + budget
    while True:
        before, began = cpu_ticks(), time.perf_counter()
        time.sleep(0.5)
        busy = foreign_cpu(before, cpu_ticks(), time.perf_counter() - began)
        if busy < threshold or time.perf_counter() >= deadline:
            if busy >= threshold:
                log(f"  machine still busy ({100 * busy:.0f} % other CPU): measuring anyway")
            return


def lua_script(endpoint: Endpoint, work: Path) -> Path | None:
    if endpoint.lua is not None:
        path = work / f"wrk-{endpoint.group}.lua"
        path.write_text(endpoint.lua)
        return path
    if endpoint.body is None and endpoint.method == "GET":
        return None
    path = work / f"wrk-{endpoint.group}.lua"
    body = (endpoint.body or b"").decode()
    lines = [f'wrk.method = "{endpoint.method}"', f"wrk.body = [==[{body}]==]"]
    if endpoint.body is not None:
        lines.append('wrk.headers["Content-Type"] = "application/json"')
    path.write_text("\n".join(lines) + "\n")
    return path


def server_cpu_us(before: dict[int, int], after: dict[int, int], pids: Sequence[int], requests: int) -> float:
    """CPU time (µs) the processes ``pids`` used between two snapshots, per request; nan without both."""
    if not pids or requests <= 0:
        return float("nan")
    ticks = sum(after.get(pid, 0) - before.get(pid, 0) for pid in pids)
    return ticks / CLOCK_TICKS * 1e6 / requests


def run_wrk(opts: Options, port: int, endpoint: Endpoint, pids: Sequence[int] = ()) -> WrkResult:
    """One measured wrk run (after the warm-up); ``pids``: the server's processes, whose CPU per request
    the result carries."""
    argv = [opts.wrk, f"-t{opts.threads}", f"-c{opts.connections}"]
    for name, value in endpoint.headers:
        argv += ["-H", f"{name}: {value}"]
    script = lua_script(endpoint, opts.work)
    if script is not None:
        argv += ["-s", str(script)]
    url = f"http://{HOST}:{port}{endpoint.path}"
    if opts.wait_idle > 0:
        wait_until_idle(opts.wait_idle)
    if opts.warmup > 0:
        subprocess.run([*argv, f"-d{opts.warmup}s", url], capture_output=True, check=True)
    before, began = cpu_ticks(), time.perf_counter()
    done = subprocess.run([*argv, f"-d{opts.duration}s", "--latency", url], capture_output=True, text=True, check=True)
    after = cpu_ticks()
    result = parse_wrk(done.stdout)
    result = dataclasses.replace(
        result,
        foreign_cpu=foreign_cpu(before, after, time.perf_counter() - began),
        server_cpu_us=server_cpu_us(before, after, pids, result.requests),
    )
    if result.non_2xx_3xx:
        log(f"  warning: {result.non_2xx_3xx} responses outside 2xx/3xx on {endpoint.path}")
    return result


# ------------------------------------------------------------------------------- random requests

_LUA_SEED = """
local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
end
function init(args)
  math.randomseed(os.time() * 1000 + (id or 0) * 7919)
end
"""


def search_words(db: Path) -> list[str]:
    """Alphabetic words of four letters or more from the content's search documents (what people type)."""
    with contextlib.closing(sqlite3.connect(db)) as conn:
        rows = conn.execute("SELECT terms FROM search_document").fetchall()
    found = {w for (terms,) in rows for w in str(terms).split() if w.isalpha() and len(w) >= 4}
    return sorted(found) or ["naltrexone"]


def search_lua(words: Sequence[str]) -> str:
    """A new search per request, as people type: a random word's random prefix (3 letters or more), one
    letter changed in a third of the prefixes of five letters or more (a typo); the default page (10)."""
    table = ",".join(f'"{w}"' for w in words)
    return (
        _LUA_SEED
        + f"""
local words = {{{table}}}
local letters = "abcdefghijklmnopqrstuvwxyz"
request = function()
  local w = words[math.random(#words)]
  local n = math.random(math.min(3, #w), #w)
  local q = string.sub(w, 1, n)
  if n >= 5 and math.random(3) == 1 then
    local i = math.random(n)
    local c = math.random(26)
    q = string.sub(q, 1, i - 1) .. string.sub(letters, c, c) .. string.sub(q, i + 1)
  end
  return wrk.format("GET", "/v1/search?q=" .. q)
end
"""
    )


def dose_lua(path: str) -> str:
    """A new dose-check body per request: a random amount from 0.01 to 500 mg, daily, oral."""
    return (
        _LUA_SEED
        + f"""
request = function()
  local amount = math.random(1, 50000) / 100
  local body = string.format('{{"amount": %.2f, "unit": "mg", "frequency": "daily", "route": "oral"}}', amount)
  return wrk.format("POST", "{path}", {{["Content-Type"] = "application/json"}}, body)
end
"""
    )


def cds_lua(path: str, body: bytes) -> str:
    """A new dose per CDS call: the order's ``doseQuantity.value`` a random 0.01–500 mg."""
    template = body.decode().replace("\\", "\\\\").replace("'", "\\'")
    return (
        _LUA_SEED
        + f"""
local template = '{template}'
request = function()
  local amount = string.format("%.2f", math.random(1, 50000) / 100)
  local body = string.gsub(template, '"value": 4%.5', '"value": ' .. amount)
  return wrk.format("POST", "{path}", {{["Content-Type"] = "application/json"}}, body)
end
"""
    )


def fhir_lua() -> str:
    return (
        _LUA_SEED
        + """
request = function()
  return wrk.format("GET", "/fhir/R4/MedicationKnowledge?_count=" .. math.random(100))
end
"""
    )


def distinct_queries(port: int, words: Sequence[str], n: int = DISTINCT_REQUESTS) -> int:
    """``n`` requests, each with a query string not sent before: a third the FHIR search with ``_count``
    zero-padded ever longer (issue 13 row 2: one answer of ~0.5 MB, thousands of spellings), then list pages
    with every limit and sort (large answers) and searches of every word with every limit and kind filter;
    every other one asking for gzip. Returns the number of distinct query strings sent."""
    client = Client(port)
    sent: set[str] = set()
    kinds = ("drugs", "conditions", "regimens", "targets", "mechanisms", "indications", "sources")
    sorts = ("slug", "-slug", "updated_at", "-updated_at")
    try:
        for i in range(n):
            j = i // 3
            if i % 3 == 0:
                path = "/fhir/R4/MedicationKnowledge?_count=" + "0" * j + "100"
            elif i % 3 == 1 and j < 400:
                path = f"/v1/indications?limit={1 + j % 100}&sort={sorts[j // 100]}"
            else:
                k = j if i % 3 == 2 else j + 1400
                word = words[k % len(words)]
                path = f"/v1/search?q={word}&limit={1 + k // len(words) % 50}&kind={kinds[k % 7]}"
            headers = {"Accept-Encoding": "gzip"} if i % 2 else {}
            reply = client.request("GET", path, headers=headers)
            if reply.status >= 500:
                raise RuntimeError(f"GET {path}: {reply.status}")
            sent.add(path)
    finally:
        client.close()
    return len(sent)


# -------------------------------------------------------------------------------------- the plan


@dataclass
class Probe:
    """What the first start of our service tells: endpoints, bodies' sizes, ETags, what is missing."""

    endpoints: list[Endpoint]
    sizes: dict[str, int]
    detail_slug: str | None
    notes: list[str]
    records: dict[str, int]


def probe_ours(port: int, words: Sequence[str]) -> Probe:
    client = Client(port)
    notes: list[str] = []
    endpoints: list[Endpoint] = []
    sizes: dict[str, int] = {}
    try:
        lst = client.request("GET", "/v1/indications?limit=20")
        if lst.status != 200:
            sys.exit(f"bench: GET /v1/indications?limit=20 answered {lst.status}")
        endpoints.append(Endpoint("list", "/v1/indications?limit=20"))
        sizes["list"] = len(lst.body)
        rows = lst.json().get("data", [])
        records = {"indications": int(lst.json().get("meta", {}).get("total", len(rows)))}
        reg = client.request("GET", "/v1/regimens?limit=20")
        if reg.status == 200:
            endpoints.append(Endpoint("list2", "/v1/regimens?limit=20"))
            sizes["list2"] = len(reg.body)
            records["regimens"] = int(reg.json().get("meta", {}).get("total", 0))
        slug = rows[0]["slug"] if rows else None
        if slug is None:
            notes.append("detail: skipped, the indications table is empty")
        else:
            detail = client.request("GET", f"/v1/indications/{slug}")
            if detail.status == 200:
                endpoints.append(Endpoint("detail", f"/v1/indications/{slug}"))
                sizes["detail"] = len(detail.body)
            else:
                notes.append(f"detail: skipped, GET /v1/indications/{slug} answered {detail.status}")
        etag = lst.headers.get("etag")
        if etag:
            cond = client.request("GET", "/v1/indications?limit=20", headers={"If-None-Match": etag})
            endpoints.append(
                Endpoint("304", "/v1/indications?limit=20", headers=(("If-None-Match", etag),), expect=304)
            )
            if cond.status != 304:
                notes.append(f"304: If-None-Match with the list's ETag answered {cond.status}, not 304")
        else:
            notes.append("304: skipped, the list response has no ETag")
        search = client.request("GET", "/v1/search?q=naltrexone&limit=10")
        if search.status == 200:
            note = "(a wrk script: a new q per request, typos included)"
            endpoints.append(Endpoint("search", "/v1/search", lua=search_lua(words), note=note))
            sizes["search"] = len(search.body)
        fhir = client.request("GET", "/fhir/R4/MedicationKnowledge?_count=50")
        if fhir.status == 200:
            endpoints.append(
                Endpoint("fhir", "/fhir/R4/MedicationKnowledge", lua=fhir_lua(), note="(_count=1–100 at random)")
            )
            sizes["fhir"] = len(fhir.body)
        compressed = client.request("GET", "/v1/indications?limit=100", headers={"Accept-Encoding": "br"})
        if compressed.status == 200 and compressed.headers.get("content-encoding") == "br":
            endpoints.append(Endpoint("list-br", "/v1/indications?limit=100", headers=(("Accept-Encoding", "br"),)))
            sizes["list-br"] = len(compressed.body)
        else:
            notes.append("list-br: skipped, the list answered no brotli body")
        body = json.dumps(DOSE_CHECK_BODY).encode()
        dose = client.request("POST", "/v1/dose-check", body=body)
        if dose.status == 404:
            notes.append("POST /v1/dose-check: skipped, 404 (not there yet)")
        else:
            endpoints.append(Endpoint("dose-check", "/v1/dose-check", method="POST", body=body))
            sizes["dose-check"] = len(dose.body)
            endpoints.append(
                Endpoint(
                    "dose-rand",
                    "/v1/dose-check",
                    method="POST",
                    body=body,
                    lua=dose_lua("/v1/dose-check"),
                    note="(a wrk script: a random amount, 0.01–500 mg, per request)",
                )
            )
            sizes["dose-rand"] = len(dose.body)
            if dose.status != 200:
                notes.append(f"POST /v1/dose-check answered {dose.status}: {dose.body[:200]!r}")
        discovery = client.request("GET", "/cds-services")
        services = discovery.json().get("services", []) if discovery.status == 200 else []
        chosen = next((s for s in services if s.get("hook") == "order-sign"), services[0] if services else None)
        if chosen is None:
            notes.append(f"CDS Hooks: skipped, GET /cds-services answered {discovery.status} with no service")
        else:
            path = f"/cds-services/{chosen['id']}"
            cds = json.dumps(cds_body(chosen["hook"])).encode()
            reply = client.request("POST", path, body=cds)
            if reply.status == 404:
                notes.append(f"CDS Hooks: skipped, POST {path} answered 404")
            else:
                endpoints.append(Endpoint("cds", path, method="POST", body=cds))
                sizes["cds"] = len(reply.body)
                endpoints.append(
                    Endpoint(
                        "cds-rand",
                        path,
                        method="POST",
                        body=cds,
                        lua=cds_lua(path, cds),
                        note="(a wrk script: the order's dose a random 0.01–500 mg per call)",
                    )
                )
                sizes["cds-rand"] = len(reply.body)
                if reply.status != 200:
                    notes.append(f"CDS Hooks: POST {path} answered {reply.status}: {reply.body[:200]!r}")
        rng = random.Random(12)
        for endpoint in endpoints:  # timed in the access log: the bare ceiling is given the same work
            if endpoint.method == "POST" and endpoint.body is not None:
                for n in range(POST_SAMPLES):
                    body = endpoint.body
                    if endpoint.group in RANDOM_POSTS:  # a random amount, as the wrk script sends it
                        amount = f"{rng.randint(1, 50000) / 100:.2f}"
                        body = re.sub(rb'"(amount|value)": 4\.5', rb'"\1": ' + amount.encode(), body)
                    client.request(
                        "POST", endpoint.path, body=body, headers={"X-Request-ID": f"bench-{endpoint.group}-{n}"}
                    )
    finally:
        client.close()
    return Probe(endpoints, sizes, slug, notes, records)


POST_SAMPLES = 300


def in_app_micros(log_path: Path, endpoints: Sequence[Endpoint]) -> dict[str, float]:
    """Our median time per request inside the app (the access log's duration_ms), per POST endpoint: the
    probe's requests, told apart by their request ids (``bench-{group}-{n}``)."""
    durations: dict[str, list[float]] = defaultdict(list)
    for line in log_path.read_text(errors="replace").splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        found = re.fullmatch(r"bench-(.+)-\d+", str(record.get("request_id", "")))
        if record.get("message") == "request" and record.get("method") == "POST" and found:
            durations[found[1]].append(float(record.get("duration_ms", 0)))
    return {e.group: 1000 * med(durations[e.group]) for e in endpoints if durations.get(e.group)}


def datasette_endpoints(db: Path, slug: str | None) -> list[Endpoint]:
    out = [
        Endpoint("list", f"/{DB_NAME}/indication.json?_size=20&_shape=objects"),
        Endpoint("list2", f"/{DB_NAME}/regimen.json?_size=20&_shape=objects"),
    ]
    if slug is not None:
        with contextlib.closing(sqlite3.connect(db)) as conn:
            row = conn.execute("SELECT id FROM indication WHERE slug = ?", (slug,)).fetchone()
        if row is not None:
            out.append(Endpoint("detail", f"/{DB_NAME}/indication/{row[0]}.json?_shape=objects"))
    return out


def bare_endpoints(sizes: dict[str, int], ours: Sequence[Endpoint], busy: dict[str, float]) -> list[Endpoint]:
    """The GETs, and each POST our probe timed, with our request body (the ceiling reads it)."""
    out = [
        Endpoint(group, f"/{group}")
        for group in ("list", "list2", "detail", "search", "fhir", "list-br")
        if group in sizes
    ]
    out += [
        Endpoint(e.group, f"/{e.group}", method="POST", body=e.body)
        for e in ours
        if e.method == "POST" and e.group in busy and e.group not in RANDOM_POSTS
    ]
    # The random dose-checks are compared with the plain ceiling (constant bytes, no work), as issue 12 asks.
    out += [
        Endpoint(e.group, f"/{e.group}", method="POST", body=e.body)
        for e in ours
        if e.group in ("dose-rand", "cds-rand")
    ]
    return out


@dataclass
class ServerSpec:
    name: str
    argv: list[str]
    env: dict[str, str]
    ready_path: str
    endpoints: list[Endpoint]
    workers: int = 1
    walk: bool = False  # GET all content before reading RSS, then the distinct-query-string run
    words: tuple[str, ...] = ()  # for the distinct-query-string run's searches
    #: (database, dataset folder): after the distinct run, load an edited dataset (a new content version)
    #: into the server's store and read RSS again once it serves the new version (the content-reload row).
    reload: tuple[Path, Path] | None = None


@dataclass
class Samples:
    wrk: dict[tuple[str, str], list[WrkResult]] = field(default_factory=lambda: defaultdict(list))
    #: (group, server) -> round number -> req/s, for ratios of runs taken back to back in one round.
    by_round: dict[tuple[str, str], dict[int, float]] = field(default_factory=lambda: defaultdict(dict))
    paths: dict[tuple[str, str], str] = field(default_factory=dict)
    ttfr: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    rss: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    rss_walk: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    #: RSS per worker after the distinct-query-string run, and how many distinct query strings it sent.
    rss_distinct: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    distinct: int = 0
    #: RSS per worker (before, after) a content reload, both with the whole content and a full cache.
    rss_reload: dict[str, list[tuple[float, float]]] = field(default_factory=lambda: defaultdict(list))
    walked: int = 0
    failures: list[str] = field(default_factory=list)
    #: Our median in-app time per POST group (µs), which the bare ceiling spends per request too.
    busy_us: dict[str, float] = field(default_factory=dict)


def conditional(port: int, endpoint: Endpoint) -> Endpoint:
    """``endpoint`` with the ETag this server gives its path now. Links in our bodies are absolute, so the
    ETag depends on the port: one taken from another start of the server would not match, and the "304"
    load would silently measure full 200 answers."""
    client = Client(port)
    try:
        etag = client.request("GET", endpoint.path).headers.get("etag", "")
        check = client.request("GET", endpoint.path, headers={"If-None-Match": etag})
    finally:
        client.close()
    if check.status != endpoint.expect:
        raise RuntimeError(f"If-None-Match on {endpoint.path} answered {check.status}, not {endpoint.expect}")
    headers = tuple((k, v) for k, v in endpoint.headers if k.lower() != "if-none-match")
    return dataclasses.replace(endpoint, headers=(*headers, ("If-None-Match", etag)))


def run_one(
    spec: ServerSpec, opts: Options, samples: Samples, server: Running, endpoint: Endpoint, round_no: int
) -> None:
    port = server.port
    if endpoint.expect == 304:
        try:
            endpoint = conditional(port, endpoint)
        except (OSError, RuntimeError, http.client.HTTPException) as exc:
            samples.failures.append(f"{spec.name} {endpoint.group}: not measured: {exc}")
            return
    result = run_wrk(opts, port, endpoint, [server.proc.pid, *descendants(server.proc.pid)])
    samples.wrk[(endpoint.group, spec.name)].append(result)
    samples.by_round[(endpoint.group, spec.name)][round_no] = result.rps
    shown = f"{endpoint.method} {endpoint.path}" + "".join(
        f" -H '{k}: {v}'" for k, v in endpoint.headers if k != "If-None-Match"
    )
    samples.paths[(endpoint.group, spec.name)] = f"`{shown}`" + (f" {endpoint.note}" if endpoint.note else "")
    errors = (
        f"  errors {result.non_2xx_3xx + result.socket_errors}" if result.non_2xx_3xx or result.socket_errors else ""
    )
    log(
        f"  {spec.name:10} {endpoint.group:10} {result.rps:9.0f} req/s  "
        f"p50 {result.p50_ms:6.2f} ms  p99 {result.p99_ms:6.2f} ms  server CPU {result.server_cpu_us:5.0f} µs/req  "
        f"other CPU {100 * result.foreign_cpu:.0f} %{errors}"
    )


def measure_round(specs: list[ServerSpec], opts: Options, samples: Samples, round_no: int) -> None:
    """One round: start every server (one after another, each timed to its first answer), then load each
    endpoint on each server back to back, so that the runs a ratio compares are seconds apart (this kind of
    machine changes speed by tens of per cent from one minute to the next); then our walk and POSTs."""
    running: list[tuple[ServerSpec, Running]] = []
    try:
        for spec in specs:
            port = free_port()
            server = start_server(
                spec.name,
                [a.replace("{port}", str(port)) for a in spec.argv],
                env=spec.env,
                cwd=opts.work,
                port=port,
                ready_path=spec.ready_path,
                log_path=opts.work / f"{spec.name.replace(' ', '-')}-{round_no}.log",
                workers=spec.workers,
            )
            log(f"round {round_no}: {spec.name} up in {server.ttfr * 1000:.0f} ms (pid {server.proc.pid})")
            samples.ttfr[spec.name].append(server.ttfr)
            running.append((spec, server))
        for group in GET_GROUPS:
            if group in LOADED_BESIDE:
                continue
            for spec, server in running:
                for endpoint in spec.endpoints:
                    if endpoint.method == "GET" and LOADED_BESIDE.get(endpoint.group, endpoint.group) == group:
                        run_one(spec, opts, samples, server, endpoint, round_no)
        for spec, server in running:
            if spec.walk:  # before the POSTs: a POST that exhausts the pool must not spoil the walk
                try:
                    samples.walked = walk_everything(server.port)
                    samples.rss_walk[spec.name].append(server.rss_per_worker())
                except (OSError, RuntimeError, http.client.HTTPException) as exc:
                    samples.failures.append(f"round {round_no}: GET of every record failed: {exc!r}")
        for group in POST_GROUPS:
            for spec, server in running:
                for endpoint in spec.endpoints:
                    if endpoint.method != "GET" and endpoint.group == group:
                        run_one(spec, opts, samples, server, endpoint, round_no)
        for spec, server in running:
            samples.rss[spec.name].append(server.rss_per_worker())
        for spec, server in running:  # last: it fills the response cache to its bound
            if spec.walk:
                try:
                    began = time.perf_counter()
                    samples.distinct = distinct_queries(server.port, spec.words or ("naltrexone",))
                    samples.rss_distinct[spec.name].append(server.rss_per_worker())
                    log(
                        f"  {spec.name:10} {samples.distinct:,} distinct query strings in "
                        f"{time.perf_counter() - began:.1f} s: RSS {samples.rss_distinct[spec.name][-1]:.0f} MB"
                    )
                except (OSError, RuntimeError, http.client.HTTPException) as exc:
                    samples.failures.append(f"round {round_no}: the distinct-query-string run failed: {exc!r}")
            if spec.reload is not None:
                try:
                    samples.rss_reload[spec.name].append(reload_and_measure(spec, server, round_no))
                    before, after = samples.rss_reload[spec.name][-1]
                    log(f"  {spec.name:10} content reload: RSS {before:.0f} MB before, {after:.0f} MB after")
                except (OSError, RuntimeError, http.client.HTTPException) as exc:
                    samples.failures.append(f"round {round_no}: the content-reload run failed: {exc!r}")
    finally:
        for _spec, server in running:
            stop_server_proc(server.proc)


def load_edited_content(db: Path, folder: Path, mark: str) -> int:
    """Load the dataset of ``folder`` with ``mark`` appended to every regimen's clinical summary into ``db``
    (as an editor's change would arrive); returns the new content version."""
    from sqlmodel import Session, create_engine

    from app.content.files import read_dataset
    from app.content.loader import load_dataset

    dataset = read_dataset(folder)
    edited = dataset.model_copy(
        update={
            "regimens": [r.model_copy(update={"clinical_summary": r.clinical_summary + mark}) for r in dataset.regimens]
        }
    )
    engine = create_engine(f"sqlite:///{db}")
    try:
        with Session(engine) as session:
            return load_dataset(session, edited).content_version
    finally:
        engine.dispose()


def served_version(port: int) -> int:
    client = Client(port)
    try:
        reply = client.request("GET", "/v1/regimens?limit=1")
    finally:
        client.close()
    return int(reply.json()["meta"]["dataset_version"])


def reload_and_measure(spec: ServerSpec, server: Running, round_no: int) -> tuple[float, float]:
    """RSS per worker before a content reload (the whole content served, the cache full after the distinct
    run) and after it, in the same state: the new version served, every record read, the distinct run again."""
    assert spec.reload is not None
    db, folder = spec.reload
    before = server.rss_per_worker()
    version = load_edited_content(db, folder, f" [bench reload {round_no}]")
    deadline = time.perf_counter() + 30
    while served_version(server.port) != version:
        if time.perf_counter() > deadline:
            raise RuntimeError(f"content version {version} not served 30 s after the reload")
        time.sleep(0.2)
    walk_everything(server.port)
    distinct_queries(server.port, spec.words or ("naltrexone",))
    return before, server.rss_per_worker()


# ---------------------------------------------------------------------------------------- report

GROUP_TITLES = {
    "list": "list: indications, 20 a page",
    "list-off": "list: indications, 20 a page, response cache off",
    "list-2w": "list: indications, 20 a page, 2 workers",
    "list2": "list: regimens, 20 a page",
    "detail": "detail: one indication",
    "detail-off": "detail: one indication, response cache off",
    "304": "conditional GET (If-None-Match, 304)",
    "search": "search, a new query on every request (cache off: every answer computed)",
    "fhir": "FHIR search (MedicationKnowledge)",
    "list-br": "list: indications, 100 a page, brotli, cached",
    "dose-check": "POST /v1/dose-check",
    "dose-rand": "POST /v1/dose-check, random amounts",
    "cds": "CDS Hooks order-sign call",
    "cds-rand": "CDS Hooks order-sign call, random doses",
}
GET_GROUPS = ("list", "list-off", "list-2w", "list2", "detail", "detail-off", "304", "search", "fhir", "list-br")
POST_GROUPS = ("dose-check", "dose-rand", "cds", "cds-rand")
#: Rows loaded in another row's turn, beside the run they are compared with: the 304 and the cache-off list
#: beside the bare list's 200, the cache-off detail beside the bare detail, two workers beside one.
LOADED_BESIDE = {"304": "list", "list-off": "list", "list-2w": "list", "detail-off": "detail"}
#: The bare row each of our rows is compared with (its own group when not listed).
BARE_OF = {"304": "list", "list-off": "list", "detail-off": "detail"}
#: Our servers (the service as deployed, with the cache off, with two workers).
OUR_SERVERS = (OURS, OURS_OFF, OURS_2W)


def med(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def spread(values: Sequence[float], fmt: str = "{:,.0f}") -> str:
    if len(values) <= 1:
        return "–"
    return f"{fmt.format(min(values))}–{fmt.format(max(values))}"


def fmt_ms(value: float) -> str:
    return "–" if value != value else f"{value:.2f}"


def fmt_us(value: float) -> str:
    return "–" if value != value else f"{value:.0f}"


def errors_of(results: Sequence[WrkResult]) -> str:
    """Responses outside 2xx/3xx and socket errors (timeouts included), summed over the rounds, of all."""
    bad = sum(r.non_2xx_3xx + r.socket_errors for r in results)
    total = sum(r.requests for r in results)
    return "0" if bad == 0 else f"**{bad:,} of {total:,}**"


def rps_of(samples: Samples, group: str, server: str) -> float:
    return med([r.rps for r in samples.wrk.get((group, server), [])])


def ratio_of(samples: Samples, group: str, other_group: str, other: str, server: str = OURS) -> float:
    """``server``'s req/s over ``other``'s, per round (the two runs were back to back), median over the rounds."""
    ours, theirs = samples.by_round.get((group, server), {}), samples.by_round.get((other_group, other), {})
    return med([ours[r] / theirs[r] for r in ours if theirs.get(r)])


def render_main(samples: Samples, args: argparse.Namespace) -> list[str]:
    servers = [*OUR_SERVERS, DATASETTE, BARE, BARE_2W, BARE_BUSY]
    lines = [
        "| endpoint | server | request | req/s (median) | req/s (min–max) | p50 ms | p99 ms | errors | RSS MB | "
        "server CPU µs/req | × Datasette | % of bare | other CPU % |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for group, title in GROUP_TITLES.items():
        for server in servers:
            results = samples.wrk.get((group, server))
            if not results:
                continue
            rps = med([r.rps for r in results])
            vs_ds = vs_bare = ""
            if server in (OURS_2W, BARE_2W):
                one = ratio_of(samples, group, "list", OURS if server == OURS_2W else BARE, server=server)
                vs_ds = f"{one:.2f}× one worker" if one == one else ""
            elif server in OUR_SERVERS:
                ds = ratio_of(samples, group, group, DATASETTE, server=server)
                bare = ratio_of(samples, group, BARE_OF.get(group, group), BARE, server=server)
                vs_ds = f"{ds:.1f}×" if ds == ds else ""
                vs_bare = f"{100 * bare:.0f} %" if bare == bare else ""
            lines.append(
                f"| {title} | {server} | {samples.paths[(group, server)]} | {rps:,.0f} | "
                f"{spread([r.rps for r in results])} | {fmt_ms(med([r.p50_ms for r in results]))} | "
                f"{fmt_ms(med([r.p99_ms for r in results]))} | {errors_of(results)} | "
                f"{med(samples.rss.get(server, [])):.0f} | {fmt_us(med([r.server_cpu_us for r in results]))} | "
                f"{vs_ds} | {vs_bare} | "
                f"{100 * max(r.foreign_cpu for r in results):.0f} |"
            )
    lines += [
        "",
        "| server | workers | first successful response after start, ms (median, min–max) | RSS MB per worker after the run | RSS MB after GET of every record |",
        "|---|---:|---:|---:|---:|",
    ]
    for server in servers:
        if server not in samples.ttfr:
            continue
        ttfr = [t * 1000 for t in samples.ttfr[server]]
        walk = samples.rss_walk.get(server)
        workers = 1 if server == DATASETTE else 2 if server in (OURS_2W, BARE_2W) else args.workers
        lines.append(
            f"| {server} | {workers} | {med(ttfr):,.0f} ({spread(ttfr)}) | "
            f"{med(samples.rss[server]):.0f} ({spread(samples.rss[server], '{:.0f}')}) | "
            f"{f'{med(walk):.0f} ({samples.walked} requests)' if walk else '–'} |"
        )
    distinct = samples.rss_distinct.get(OURS)
    if distinct:
        lines += [
            "",
            f"Memory: after {samples.distinct:,} requests with distinct query strings (FHIR `_count` zero-padded "
            f"ever longer, list pages with every limit and sort, searches of every word with every limit and "
            f"kind; half asking for gzip), run last, RSS per worker {med(distinct):.0f} MB "
            f"({spread(distinct, '{:.0f}')}); before it, after every other run, "
            f"{med(samples.rss.get(OURS, [float('nan')])):.0f} MB.",
        ]
    reloads = samples.rss_reload.get(OURS)
    if reloads:
        growth = [after / before - 1 for before, after in reloads]
        lines += [
            "",
            f"Content reload: an edited dataset loaded into the store while serving (a new content version); "
            f"RSS per worker before {med([b for b, _ in reloads]):.0f} MB, after {med([a for _, a in reloads]):.0f} MB "
            f"(both with every record read and the distinct-query run done), change {100 * med(growth):+.1f} % "
            f"({spread([100 * g for g in growth], '{:+.1f}')} %).",
        ]
    if samples.failures:
        lines += ["", *[f"Failure: {f}" for f in samples.failures]]
    return lines


def verdicts(samples: Samples) -> list[str]:
    out: list[str] = []
    busy = max((r.foreign_cpu for rs in samples.wrk.values() for r in rs), default=0.0)
    if busy > 0.05:
        out.append(
            f"- **warning**: other processes took up to {100 * busy:.0f} % of the CPU during the runs (column "
            "'other CPU %'): these figures are skewed; rerun on an idle machine (`--wait-idle 30` helps)."
        )

    def line(ok: bool, text: str) -> None:
        out.append(f"- **{'holds' if ok else 'misses'}**: {text}")

    for group in ("list", "list2", "detail"):
        ours, ds, bare = (rps_of(samples, group, s) for s in (OURS, DATASETTE, BARE))
        if ours != ours:
            continue
        title = GROUP_TITLES[group]
        vs_ds, vs_bare = ratio_of(samples, group, group, DATASETTE), ratio_of(samples, group, group, BARE)
        if vs_ds == vs_ds:
            line(
                vs_ds >= 15,
                f"{title} ≥ 15× Datasette: {vs_ds:.1f}× (median of the rounds' back-to-back ratios; "
                f"medians {ours:,.0f} vs {ds:,.0f} req/s)",
            )
        if vs_bare == vs_bare:
            line(
                vs_bare >= 0.5,
                f"{title} ≥ 50 % of the bare ceiling: {100 * vs_bare:.0f} % (median of the rounds' ratios; "
                f"medians {ours:,.0f} vs {bare:,.0f} req/s)",
            )
    cond, bare = rps_of(samples, "304", OURS), rps_of(samples, "list", BARE)
    vs_bare = ratio_of(samples, "304", "list", BARE)
    if vs_bare == vs_bare:
        line(
            vs_bare >= 0.7,
            f"304 ≥ 70 % of the bare ceiling (its 200 of the list): {100 * vs_bare:.0f} % (median of the rounds' "
            f"ratios; medians {cond:,.0f} vs {bare:,.0f} req/s)",
        )
    server_of = {"list-off": OURS_OFF, "detail-off": OURS_OFF, "search": OURS_OFF, "list-2w": OURS_2W}
    shares = (  # issue 12 and issue 15 targets: our row as a share of its bare row
        ("list-off", 0.25),
        ("detail-off", 0.30),
        ("search", 0.15),
        ("dose-rand", 0.08),
        ("cds-rand", 0.08),
        ("list-br", 0.45),
    )
    for group, share in shares:
        server = server_of.get(group, OURS)
        ratio = ratio_of(samples, group, BARE_OF.get(group, group), BARE, server=server)
        if ratio == ratio:
            line(
                ratio >= share,
                f"{GROUP_TITLES[group]} ≥ {100 * share:.0f} % of the bare ceiling: {100 * ratio:.0f} % (median of the "
                f"rounds' ratios; medians {rps_of(samples, group, server):,.0f} vs "
                f"{rps_of(samples, BARE_OF.get(group, group), BARE):,.0f} req/s)",
            )
    two = ratio_of(samples, "list-2w", "list", OURS, server=OURS_2W)
    if two == two:
        bare_two = ratio_of(samples, "list-2w", "list", BARE, server=BARE_2W)
        machine = (
            f" (the bare ceiling's own two workers in the same run: {bare_two:.2f}× its one: wrk shares the cores)"
            if bare_two == bare_two
            else ""
        )
        cpu_one = med([r.server_cpu_us for r in samples.wrk.get(("list", OURS), [])])
        cpu_two = med([r.server_cpu_us for r in samples.wrk.get(("list-2w", OURS_2W), [])])
        if cpu_one == cpu_one and cpu_two == cpu_two:
            machine += (
                f"; the service's CPU per answer: {cpu_one:.0f} µs with one worker, {cpu_two:.0f} µs with two "
                f"({cpu_two / cpu_one:.2f}×: what a second worker costs each answer)"
            )
        line(two >= 1.7, f"two workers serve ≥ 1.7× one worker on the cached list: {two:.2f}×{machine}")
    distinct = samples.rss_distinct.get(OURS)
    if distinct:
        line(
            med(distinct) < 200,
            f"RSS < 200 MB per worker after {samples.distinct:,} distinct query strings: {med(distinct):.0f} MB",
        )
    reloads = samples.rss_reload.get(OURS)
    if reloads:
        growth = med([after / before - 1 for before, after in reloads])
        line(abs(growth) <= 0.10, f"RSS after a content reload within 10 % of before: {100 * growth:+.1f} %")
    limits = {
        "search": 30,
        "list-off": 20,
        "detail-off": 20,
        "dose-rand": 25,
        "cds-rand": 25,
        "dose-check": 50,
        "cds": 50,
    }
    for groups, default in ((GET_GROUPS, 15), (POST_GROUPS, 50)):
        for group in groups:
            limit = limits.get(group, default)
            results = samples.wrk.get((group, server_of.get(group, OURS)))
            if not results:
                continue
            p99 = med([r.p99_ms for r in results])
            bad = sum(r.non_2xx_3xx + r.socket_errors for r in results)
            # wrk leaves timed-out requests out of its latency distribution: errors void the p99.
            caveat = f" — but {errors_of(results).strip('*')} requests failed or timed out" if bad else ""
            ceiling = samples.wrk.get((group, BARE_BUSY)) or samples.wrk.get((group, BARE))
            if ceiling and group in samples.busy_us:
                caveat += (
                    f" (the bare ceiling, busy {samples.busy_us[group]:.0f} µs a request like our median in the app, "
                    f"under the same load: p99 {med([r.p99_ms for r in ceiling]):.2f} ms)"
                )
            line(
                p99 < limit and not bad,
                f"{GROUP_TITLES[group]} p99 < {limit} ms at 32 connections: {p99:.2f} ms{caveat}",
            )
    rss = [max(pair) for pair in zip(samples.rss_walk.get(OURS, []), samples.rss.get(OURS, []), strict=False)]
    rss = rss or samples.rss.get(OURS, [])
    if rss:
        line(med(rss) < 120, f"RSS < 120 MB per worker with the full content loaded: {med(rss):.0f} MB")
    ttfr = samples.ttfr.get(OURS)
    if ttfr:
        line(med(ttfr) < 2, f"first successful response < 2 s after start: {med(ttfr) * 1000:,.0f} ms")
    return out


# ------------------------------------------------------------------------------------------ scale


def load_content(db: Path, folder: Path | None, work: Path) -> None:
    env = {**os.environ, "LDNKB_DATABASE_URL": f"sqlite:///{db}"}
    argv = [str(BIN / "ldn-kb"), "load-content"] + (["--folder", str(folder)] if folder else [])
    done = subprocess.run(argv, env=env, cwd=work, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"bench: ldn-kb load-content failed:\n{done.stdout}\n{done.stderr}")


def count_rows(db: Path, table: str) -> int:
    with contextlib.closing(sqlite3.connect(db)) as conn:
        count: int = conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        return count


def deep_page(port: int) -> tuple[str, int, int]:
    """The path of the page at about 90 % depth of the indications list (20 a page), its number, and the
    number of pages."""
    client = Client(port)
    try:
        paths = [path for path, _body in pages(client, "/v1/indications?limit=20")]
    finally:
        client.close()
    index = min(len(paths) - 1, max(1, int(len(paths) * 0.9))) if len(paths) > 1 else 0
    return paths[index], index + 1, len(paths)


def scale_section(
    args: argparse.Namespace, opts: Options, base_db: Path, base_folder: Path | None, env: dict[str, str]
) -> list[str]:
    from app.content import DATA_DIR
    from bench.synthetic import build

    folder = opts.work / f"content-x{args.scale}"
    plan = build(folder, args.scale, base_folder or DATA_DIR)
    scaled_db = opts.work / f"kb-x{args.scale}.sqlite3"
    started = time.perf_counter()
    load_content(scaled_db, folder, opts.work)
    log(f"scale: {plan.indications} indications loaded in {time.perf_counter() - started:.1f} s")
    rows = [
        "| indications in table | response cache | page | request | req/s (median) | req/s (min–max) | p50 ms | p99 ms |",
        "|---:|---|---|---|---:|---:|---:|---:|",
    ]
    found: dict[tuple[int, str, str], list[WrkResult]] = defaultdict(list)
    paths: dict[tuple[int, str, str], tuple[str, str]] = {}
    for cache in ("on", "off"):
        # Both table sizes are served at once and loaded back to back, page by page, round by round: the
        # runs compared are seconds apart (this kind of machine drifts by tens of per cent in a minute).
        running: list[tuple[int, Running]] = []
        try:
            for db in (base_db, scaled_db):
                size = count_rows(db, "indication")
                server_env = {**env, "LDNKB_DATABASE_URL": f"sqlite:///{db}"}
                if cache == "off":
                    server_env["LDNKB_RESPONSE_CACHE_BYTES"] = "0"
                port = free_port()
                server = start_server(
                    f"{OURS} x{size} cache {cache}",
                    [str(BIN / "ldn-kb"), "serve", "--port", str(port), "--workers", str(args.workers)],
                    env=server_env,
                    cwd=opts.work,
                    port=port,
                    ready_path="/v1/indications?limit=20",
                    log_path=opts.work / f"scale-{size}-{cache}.log",
                    workers=args.workers,
                )
                running.append((size, server))
                deep, number, total = deep_page(port)
                paths[(size, cache, "first")] = ("first", "/v1/indications?limit=20")
                paths[(size, cache, "deep")] = (f"deep ({number} of {total})", deep)
            for _ in range(args.rounds):
                for page in ("first", "deep"):
                    for size, server in running:
                        path = paths[(size, cache, page)][1]
                        found[(size, cache, page)].append(run_wrk(opts, server.port, Endpoint("scale", path)))
        finally:
            for _size, server in running:
                stop_server_proc(server.proc)
        for size, _server in running:
            for page in ("first", "deep"):
                label, path = paths[(size, cache, page)]
                results = found[(size, cache, page)]
                rps = [r.rps for r in results]
                shown = path if len(path) < 60 else path[:57] + "…"
                rows.append(
                    f"| {size:,} | {cache} | {label} | `GET {shown}` | {med(rps):,.0f} | {spread(rps)} | "
                    f"{fmt_ms(med([r.p50_ms for r in results]))} | {fmt_ms(med([r.p99_ms for r in results]))} |"
                )
                log(f"  scale x{size} cache {cache} {label}: {med(rps):,.0f} req/s")
    sizes = sorted({k[0] for k in found})
    rows.append("")
    if len(sizes) == 2:
        # Every page is compared with the small table's first page: both hold a full page of rows, while
        # the small table's deep page is its last one and may hold only a few.
        small, big = sizes
        for cache in ("off", "on"):
            for page in ("first", "deep"):
                a, b = found.get((small, cache, "first")), found.get((big, cache, page))
                if not a or not b:
                    continue
                ra, rb = med([r.rps for r in a]), med([r.rps for r in b])
                pa, pb = med([r.p50_ms for r in a]), med([r.p50_ms for r in b])
                ratio = med([y.rps / x.rps for x, y in zip(a, b, strict=False) if x.rps > 0])  # back to back
                rows.append(
                    f"- **{'holds' if ratio >= 0.67 else 'misses'}** (cache {cache}): the {page} page at {big:,} rows "
                    f"runs at {100 * ratio:.0f} % of the first page at {small:,} rows (median of the rounds' "
                    f"back-to-back ratios; medians {rb:,.0f} vs {ra:,.0f} req/s; p50 {pb:.2f} vs {pa:.2f} ms)"
                )
    return rows


# ------------------------------------------------------------------------------------------ main


def profile(args: argparse.Namespace, opts: Options, env: dict[str, str], endpoints: list[Endpoint]) -> list[str]:
    """py-spy on our worker during each endpoint's run: the top frames by own samples."""
    spy = _venv_tool("py-spy")
    if spy is None:
        return ["py-spy is missing: `bench/.venv/bin/pip install py-spy`"]
    port = free_port()
    server = start_server(
        OURS,
        [str(BIN / "ldn-kb"), "serve", "--port", str(port)],
        env=env,
        cwd=opts.work,
        port=port,
        ready_path="/v1/indications?limit=20",
        log_path=opts.work / "profile.log",
    )
    out = []
    try:
        for endpoint in endpoints:
            raw = RESULTS / f"profile-{endpoint.group}.txt"
            spy_proc = subprocess.Popen(
                [
                    spy,
                    "record",
                    "--pid",
                    str(server.proc.pid),
                    "--duration",
                    str(opts.duration + opts.warmup),
                    "--rate",
                    "250",
                    "--format",
                    "raw",
                    "--output",
                    str(raw),
                    "--nonblocking",
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            time.sleep(0.3)
            run_wrk(opts, port, endpoint)
            spy_proc.wait(timeout=60)
            out += [
                f"#### {GROUP_TITLES[endpoint.group]} (`{raw.relative_to(ROOT)}`)",
                "",
                "```",
                *top_frames(raw),
                "```",
                "",
            ]
    finally:
        stop_server_proc(server.proc)
    return out


def top_frames(raw: Path, n: int = 15) -> list[str]:
    """From py-spy's raw (collapsed) output: the functions with the most samples of their own (self), then
    the middleware and app frames with the most samples including their callees (inclusive; a frame
    counted once per stack). Shares are of all samples but those of idle threadpool workers."""
    if not raw.exists():
        return ["(no profile written)"]
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit() or not stack:
            continue
        weight = int(count)
        frames = [re.sub(r" \((?:.*/)?([^/]+:\d+)\)$", r" (\1)", f) for f in stack.split(";")]
        if frames[-1].startswith(("Condition.wait", "Event.wait")):  # idle threadpool workers
            continue
        total += weight
        own[re.sub(r":\d+\)$", ")", frames[-1])] += weight
        for frame in {re.sub(r":\d+\)$", ")", f) for f in frames}:
            if "Middleware" in frame or ("(main.py)" not in frame and re.search(r"\((?!_)\w+\.py\)", frame)):
                inclusive[frame] += weight
    if not total:
        return ["(no samples)"]
    lines = ["self:"] + [f"  {100 * c / total:5.1f} %  {f}" for f, c in own.most_common(n)]
    lines += ["inclusive:"] + [f"  {100 * c / total:5.1f} %  {f}" for f, c in inclusive.most_common(n + 10)]
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3, help="rounds alternating the servers (default 3)")
    parser.add_argument("--duration", type=int, default=5, help="seconds of load per endpoint (default 5)")
    parser.add_argument("--warmup", type=int, default=1, help="seconds of warm-up per endpoint (default 1)")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--workers", type=int, default=1, help="uvicorn workers for ours and the bare ceiling")
    parser.add_argument("--quick", action="store_true", help="1 round of 3 s, for iteration")
    parser.add_argument("--scale", type=int, default=0, help="add the paging section with N× synthetic content")
    parser.add_argument("--content", type=Path, default=None, help="dataset folder (default: app/content/data)")
    parser.add_argument("--no-datasette", action="store_true", help="skip Datasette")
    parser.add_argument("--no-install", action="store_true", help="never install wrk or Datasette")
    parser.add_argument(
        "--wait-idle",
        type=float,
        default=0,
        metavar="S",
        help="before each measurement wait up to S seconds for other processes to use < 10 %% CPU",
    )
    parser.add_argument("--profile", action="store_true", help="py-spy our worker per endpoint afterwards")
    parser.add_argument("--output", type=Path, default=RESULTS / "latest.md")
    args = parser.parse_args(argv)
    if args.quick:
        args.rounds, args.duration = 1, 2

    wrk = ensure_wrk(not args.no_install)
    datasette = None if args.no_datasette else ensure_datasette(not args.no_install)
    RESULTS.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="ldnkb-bench-"))
    opts = Options(wrk, args.connections, args.threads, args.duration, args.warmup, work, args.wait_idle)
    notes: list[str] = []
    began = time.perf_counter()

    # The content database: the real dataset, or (when it has no indication yet) a synthetic base.
    from app.content import DATA_DIR
    from app.content.files import read_dataset

    content = args.content or DATA_DIR
    if not read_dataset(content).indications:
        from bench.synthetic import build

        synthetic = work / "content-synthetic-base"
        base = build(synthetic, 1, content)
        notes.append(
            f"The dataset in {content} has no indication yet: measured on a synthetic base instead "
            f"({base.indications} synthetic indications, {base.conditions} conditions; bench/synthetic.py)."
        )
        content = synthetic
    db = work / f"{DB_NAME}.sqlite3"
    load_content(db, content, work)
    log(f"content database {db}: {count_rows(db, 'indication')} indications")

    env = {k: v for k, v in os.environ.items() if not k.startswith("LDNKB_")}
    env["LDNKB_DATABASE_URL"] = f"sqlite:///{db}"
    ours_argv = [str(BIN / "ldn-kb"), "serve", "--port", "{port}", "--workers", str(args.workers)]

    # Probe our service once: which endpoints exist, the sizes of their bodies, the ETag.
    port = free_port()
    first = start_server(
        OURS,
        [a.replace("{port}", str(port)) for a in ours_argv],
        env=env,
        cwd=work,
        port=port,
        ready_path="/v1/indications?limit=20",
        log_path=work / "probe.log",
        workers=args.workers,
    )
    words = search_words(db)
    try:
        probe = probe_ours(port, words)
    finally:
        stop_server_proc(first.proc)  # shutdown writes the access lines still waiting in the batch
    notes += probe.notes
    busy = in_app_micros(first.log_path, probe.endpoints)

    ready = "/v1/indications?limit=20"
    # The search row runs on the cache-off server: every answer computed, even when a random query repeats.
    cached = [e for e in probe.endpoints if e.group != "search"]
    specs = [
        ServerSpec(
            OURS, ours_argv, env, ready, cached, args.workers, walk=True, words=tuple(words), reload=(db, content)
        )
    ]
    by_group = {e.group: e for e in probe.endpoints}
    off = [dataclasses.replace(by_group[g], group=f"{g}-off") for g in ("list", "detail") if g in by_group]
    off += [by_group["search"]] if "search" in by_group else []
    if off:
        specs.append(
            ServerSpec(OURS_OFF, ours_argv, {**env, "LDNKB_RESPONSE_CACHE_BYTES": "0"}, ready, off, args.workers)
        )
    if args.workers == 1 and "list" in by_group:
        two_argv = [*ours_argv[:-1], "2"]  # the last argument is the worker count
        two = [dataclasses.replace(by_group["list"], group="list-2w")]
        specs.append(ServerSpec(OURS_2W, two_argv, env, ready, two, 2))
    if datasette is not None:
        ds_endpoints = datasette_endpoints(db, probe.detail_slug)
        ds_argv = [datasette, "serve", str(db), "--host", HOST, "--port", "{port}"]
        specs.append(ServerSpec(DATASETTE, ds_argv, dict(os.environ), ds_endpoints[0].path, ds_endpoints))
    else:
        notes.append("Datasette: skipped (--no-datasette, or not installed)")
    bare_env = {**os.environ, "BENCH_BODY_SIZES": ",".join(f"/{g}={s}" for g, s in probe.sizes.items())}
    bare_env["PYTHONPATH"] = str(ROOT)
    bare_env["BENCH_BUSY_US"] = ",".join(f"/{g}={us:.0f}" for g, us in busy.items() if g not in RANDOM_POSTS)
    bare_argv = [
        sys.executable,
        "-m",
        "uvicorn",
        "bench.bare_asgi:app",
        "--host",
        HOST,
        "--port",
        "{port}",
        "--workers",
        str(args.workers),
        "--no-access-log",
        "--proxy-headers",
        "--timeout-graceful-shutdown",
        "20",
    ]
    specs.append(
        ServerSpec(BARE, bare_argv, bare_env, "/list", bare_endpoints(probe.sizes, probe.endpoints, busy), args.workers)
    )
    busy_random = [e for e in probe.endpoints if e.group in RANDOM_POSTS and e.group in busy and e.lua is not None]
    if busy_random:  # the p99 a service as busy as ours allows here, under the same random requests
        busy_env = {**bare_env, "BENCH_BUSY_US": ",".join(f"/{e.group}={busy[e.group]:.0f}" for e in busy_random)}
        busy_endpoints = [
            dataclasses.replace(
                e,
                path=f"/{e.group}",
                lua=e.lua.replace(e.path, f"/{e.group}"),
                note=f"(the same wrk script; busy {busy[e.group]:.0f} µs a request, our median in the app)",
            )
            for e in busy_random
            if e.lua is not None
        ]
        specs.append(ServerSpec(BARE_BUSY, bare_argv, busy_env, "/list", busy_endpoints, args.workers))
    if args.workers == 1 and "list" in probe.sizes:  # the machine's own two-worker ratio, beside ours
        bare_two = [*bare_argv[: bare_argv.index("--workers") + 1], "2", *bare_argv[bare_argv.index("--workers") + 2 :]]
        specs.append(ServerSpec(BARE_2W, bare_two, bare_env, "/list", [Endpoint("list-2w", "/list")], 2))

    samples = Samples(busy_us=busy)
    for round_no in range(args.rounds):
        shift = round_no % len(specs)  # who starts, and who is loaded first, rotates from round to round
        measure_round(specs[shift:] + specs[:shift], opts, samples, round_no + 1)

    scale_rows = scale_section(args, opts, db, content, env) if args.scale > 1 else []
    profile_rows = profile(args, opts, env, probe.endpoints) if args.profile else []

    dataset = ", ".join(f"{n} {k}" for k, n in probe.records.items())
    header = [
        f"## Benchmark {time.strftime('%Y-%m-%d %H:%M')} — {args.rounds} round(s) × {args.duration} s "
        f"(+{args.warmup} s warm-up), wrk -t{args.threads} -c{args.connections}, {args.workers} worker(s)",
        "",
        f"Machine: {os.cpu_count()} CPUs, Python {platform.python_version()}, {platform.system()} "
        f"{platform.release()}; content: {dataset}. Medians of the rounds; spread is min–max.",
        "",
    ]
    body = header + render_main(samples, args)
    if notes:
        body += ["", *[f"Note: {n}" for n in notes]]
    body += ["", "### Targets", "", *verdicts(samples)]
    if scale_rows:
        body += ["", f"### Paging versus table size (--scale {args.scale}, synthetic records)", "", *scale_rows]
    if profile_rows:
        body += ["", "### Profiles (py-spy, inclusive share of samples)", "", *profile_rows]
    body += ["", f"Run took {time.perf_counter() - began:.0f} s; server logs in {work}."]
    text = "\n".join(body) + "\n"
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
