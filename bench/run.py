"""`make bench`: every hot path against its ceiling, at 10k, 100k and 1M users, on both databases.

Throughput figures are ratios to a bare ASGI endpoint served with the same uvicorn settings in the
same run, loaded by wrk from a separate process on loopback. Latency figures are medians of
sequential requests on one keep-alive connection, as an integrator's script sends them. The data
comes from `bench/scale_data.py` (built once per size and database, then cached).

Four scenarios, each selectable alone with ``--scenario`` (default: all of them):

- ``hot``: every hot path at every size, against the bare endpoint;
- ``ceiling``: the lookup loaded in turn with the same lookup written as a raw ASGI app on
  ``sqlite3`` (``bench/raw_lookup.py``), at every size (SQLite);
- ``stall``: lookups alone, then beside one other client of the same account looping on a slow
  request (a search no index serves, page 1 of a 100,000-learner channel's performance), at
  100,000 users on each database;
- ``remote``: one worker on PostgreSQL behind ``bench/latency_proxy.py`` at 0 ms and at 1 ms of
  added round trip (lookup, token, PUT), at 20,000 users.

`--quick` (`make bench-quick`) is the two-minute subset: SQLite, 10,000 users, short loads.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path[:0] = [str(Path(__file__).parent.parent / "src"), str(Path(__file__).parent.parent)]
from sqlalchemy import text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.exc import OperationalError  # noqa: E402

from bench import harness, scale_data  # noqa: E402
from bench.harness import Client, Load, lua_rotating, wrk, wrk_latency, wrk_staggered  # noqa: E402
from enabley.db.engine import make_engine  # noqa: E402

RESULTS = harness.HERE / "results"
SIZES = (10_000, 100_000, 1_000_000)
BARE = ["bench.bare:app"]
RAW = ["bench.raw_lookup:app"]
APP = ["--factory", "enabley.main:create_app"]
SCENARIOS = ("hot", "ceiling", "stall", "remote")
# The stall scenario: lookups from this many connections, beside one client of the same account
# looping on a slow request, at this size (10,000 in --quick).
STALL_CONNECTIONS = 8
STALL_USERS = 100_000
# The remote-database scenario: PostgreSQL behind bench/latency_proxy.py, one worker.
REMOTE_USERS = 20_000
REMOTE_DELAY_MS = 1.0
REMOTE_CONNECTIONS = 16
# Pages of the walk measured against page 1 (the reference's page 5,000 of a 1M-user walk).
DEEP_PAGE = 5_000


@dataclass
class Figure:
    backend: str
    users: int
    name: str
    value: float
    unit: str
    target: str = ""
    met: bool | None = None
    load_average: float = field(default_factory=lambda: round(os.getloadavg()[0], 2))
    """The machine's 1-minute load average when the figure was taken: a busy machine shows."""

    def row(self) -> str:
        verdict = "" if self.met is None else ("met" if self.met else "MISSED")
        return (
            f"{self.backend:<11}{self.users:>10,}  {self.name:<46}{self.value:>10.3f} {self.unit:<8}"
            f"{self.target:>12}  {verdict:<6}  load {self.load_average:.1f}"
        )


class Bench:
    def __init__(self, opts: argparse.Namespace) -> None:
        self.opts = opts
        self.figures: list[Figure] = []
        self.peak_rss_mb = 0.0

    def record(self, figure: Figure) -> Figure:
        self.figures.append(figure)
        print(figure.row(), flush=True)
        return figure

    def ratio(
        self, ds: scale_data.Dataset, name: str, rate: float, bare: float, floor: float | None
    ) -> Figure:
        ratio = rate / bare
        target = f">= {floor:.2f}" if floor is not None else ""
        self.record(Figure(ds.backend, ds.users, f"{name} req/s", rate, "req/s"))
        return self.record(
            Figure(
                ds.backend,
                ds.users,
                f"{name} ratio",
                ratio,
                "x bare",
                target,
                None if floor is None else ratio >= floor,
            )
        )

    def alternating(self, *loads: Load, connections: int | None = None) -> list[float]:
        """Loads meant to be compared, in turn, at least twice each (the best of each kept): a
        drift in the machine's speed weighs on all of them alike."""
        connections = connections or self.opts.connections
        for load in loads:
            wrk(load, 1, connections)
        best = [0.0] * len(loads)
        for _ in range(max(2, self.opts.rounds)):
            for i, load in enumerate(loads):
                best[i] = max(best[i], wrk(load, self.opts.seconds, connections))
        return best

    def load(self, load: Load) -> float:
        wrk(load, 1, self.opts.connections)  # warm-up: the first requests open connections, fill caches
        return max(wrk(load, self.opts.seconds, self.opts.connections) for _ in range(self.opts.rounds))


def _auth(token: str) -> tuple[tuple[str, ...], dict[str, str]]:
    return (f"Authorization: Bearer {token}",), {"Authorization": f"Bearer {token}"}


def _put_lua(body: str) -> str:
    """PUT /api/v2/users with a body built per request from a counter ``n`` (Lua expression)."""
    return (
        'wrk.headers["Content-Type"] = "application/json"\nlocal n = 0\n'
        "request = function()\n  n = n + 1\n"
        f'  return wrk.format("PUT", "/api/v2/users", nil, {body})\nend\n'
    )


def _sample_update_lua(identifiers: tuple[str, ...]) -> str:
    items = ",".join(json.dumps(i) for i in identifiers)
    return f"local ids = {{{items}}}\n" + _put_lua(
        """'{"identifier":"' .. ids[n % #ids + 1] .. '","firstName":"Changed ' .. n .. '"}'"""
    )


def _create_lua(prefix: str) -> str:
    return _put_lua(
        f"""'{{"identifier":"{prefix}' .. n .. '","email":"{prefix}' .. n .. '@example.com",'"""
        """ .. '"firstName":"New","lastName":"Learner"}'"""
    )


def _remove_created(ds: scale_data.Dataset, prefix: str) -> None:
    """The write scenarios leave the cached data as they found it (once the server has answered
    the last requests wrk left in flight)."""
    engine = make_engine(ds.url)
    try:
        for attempt in range(60):
            try:
                with engine.begin() as conn:
                    conn.execute(text("DELETE FROM users WHERE external_id LIKE :p"), {"p": f"{prefix}%"})
                return
            except OperationalError:
                if attempt == 59:
                    raise
                time.sleep(0.5)
    finally:
        engine.dispose()


def _walk(client: Client, path: str, **params: Any) -> tuple[float, list[str]]:
    """Every page, in order: the seconds it took and the keys (``keys[n - 2]`` opens page n)."""
    keys: list[str] = []
    start = time.perf_counter()
    while True:
        key = client.get(path, paginationKey=keys[-1] if keys else None, **params).get("paginationKey")
        if not key:
            return time.perf_counter() - start, keys
        keys.append(key)


def _raw_keyset_seconds(ds: scale_data.Dataset, page_size: int) -> tuple[int, float]:
    """The same walk in raw SQL: the users' columns, by id, one page of ``page_size`` at a time."""
    engine = make_engine(ds.url)
    try:
        with engine.connect() as conn:
            account = conn.execute(text("SELECT id FROM accounts WHERE name = 'bench'")).scalar_one()
            sql = text(
                "SELECT id, external_id, email, first_name, last_name, username, phone, address, "
                "is_active, possible_roles, custom_attributes, created_at, modified_at FROM users "
                "WHERE account_id = :a AND id > :after ORDER BY id LIMIT :n"
            )
            after, rows, start = -1, 0, time.perf_counter()
            while True:
                page = conn.execute(sql, {"a": account, "after": after, "n": page_size}).all()
                rows += len(page)
                if len(page) < page_size:
                    return rows, time.perf_counter() - start
                after = page[-1][0]
    finally:
        engine.dispose()


def run_size(bench: Bench, ds: scale_data.Dataset, *, largest: bool, hot: bool, ceiling: bool) -> None:
    """The lookup against the bare endpoint (and, ``ceiling``, against the raw lookup), then with
    ``hot`` every other hot path at the largest size."""
    opts = bench.opts
    env = harness.server_env(ds.url)
    with ExitStack() as servers:
        app = servers.enter_context(harness.serve(APP, env))
        bare_server = servers.enter_context(harness.serve(BARE, env))
        hdrs, auth = _auth(harness.token(app.base, ds.client_key, ds.secret))
        lookup_paths = [f"/api/v2/users/{i}" for i in ds.sample_users]
        lookup_floor = 0.12 if ds.backend == "sqlite" else 0.08
        loads = [Load(f"{bare_server.base}/"), Load(app.base, hdrs, lua=lua_rotating(lookup_paths))]
        if ceiling:
            raw = servers.enter_context(harness.serve(RAW, env))
            raw_hdrs, _ = _auth(harness.token(raw.base, ds.client_key, ds.secret))
            loads.append(Load(raw.base, raw_hdrs, lua=lua_rotating(lookup_paths)))
        bare, lookup, *raw_rate = bench.alternating(*loads)
        bench.record(Figure(ds.backend, ds.users, "bare ASGI endpoint req/s", bare, "req/s"))
        bench.ratio(ds, "GET /api/v2/users/{identifier}", lookup, bare, lookup_floor)
        if raw_rate:
            bench.ratio(ds, "raw ASGI + sqlite3 lookup", raw_rate[0], bare, None)
            share = lookup / raw_rate[0]
            bench.record(Figure(ds.backend, ds.users, "lookup / raw ceiling", share, "x"))
        if not hot:
            return
        if largest:
            run_largest(bench, ds, app, bare, hdrs, auth)
        bench.peak_rss_mb = max(bench.peak_rss_mb, app.peak_rss_mb)
        bench.record(
            Figure(
                ds.backend, ds.users, "server peak RSS", app.peak_rss_mb, "MB", "< 300", app.peak_rss_mb < 300
            )
        )
    if largest and not opts.quick:
        run_workers(bench, ds)


def run_largest(
    bench: Bench,
    ds: scale_data.Dataset,
    app: harness.Server,
    bare: float,
    hdrs: tuple[str, ...],
    auth: dict[str, str],
) -> None:
    opts = bench.opts
    record = bench.record
    creds = f"clientKey={ds.client_key}&secret={ds.secret}"
    rate = bench.load(Load(f"{app.base}/api/v1/token?{creds}", method="POST"))
    bench.ratio(ds, "POST /api/v1/token", rate, bare, 0.15)

    rate = bench.load(Load(app.base, hdrs, lua=_sample_update_lua(ds.sample_users)))
    bench.ratio(ds, "PUT /api/v2/users (update)", rate, bare, 0.06)
    prefix = f"bench-new-{uuid.uuid4().hex[:8]}-"
    try:
        rate = bench.load(Load(app.base, hdrs, lua=_create_lua(prefix)))
        bench.ratio(ds, "PUT /api/v2/users (create)", rate, bare, 0.05)
    finally:
        _remove_created(ds, prefix)

    client = Client(app.base, auth)
    try:
        # The walk: every user through the API, page by page, against the same keyset scan in raw SQL.
        seconds, keys = _walk(client, "/api/v3/users")
        # Page 5,000 of a 1M-user walk; in a shorter walk, its middle (the last page is not full).
        page = min(DEEP_PAGE, max(2, (len(keys) + 1) // 2))
        raw_rows, raw_seconds = _raw_keyset_seconds(ds, 100)
        api_rate, raw_rate = ds.users / seconds, raw_rows / raw_seconds
        record(Figure(ds.backend, ds.users, "GET /api/v3/users walk, users/s", api_rate, "users/s"))
        record(Figure(ds.backend, ds.users, "raw SQL keyset scan, users/s", raw_rate, "users/s"))
        share = api_rate / raw_rate
        record(
            Figure(
                ds.backend,
                ds.users,
                "walk through the API / raw keyset",
                share,
                "x",
                ">= 0.25",
                share >= 0.25,
            )
        )
        # Two figures compared with each other: loaded in turn, twice each, the best of each kept.
        first, deep = bench.alternating(
            Load(f"{app.base}/api/v3/users", hdrs),
            Load(f"{app.base}/api/v3/users?paginationKey={keys[page - 2]}", hdrs),
        )
        record(Figure(ds.backend, ds.users, "GET /api/v3/users page 1 req/s", first, "req/s"))
        record(Figure(ds.backend, ds.users, f"GET /api/v3/users page {page:,} req/s", deep, "req/s"))
        spread = max(first, deep) / min(first, deep)
        record(
            Figure(
                ds.backend, ds.users, f"page 1 vs page {page:,} cost", spread, "x", "<= 1.20", spread <= 1.2
            )
        )

        for name, params in (
            ("emailSubstring", {"emailSubstring": ds.email_substring}),
            ("lastNameSubstring", {"lastNameSubstring": ds.last_name_substring}),
        ):
            for path in ("/api/v2/users", "/api/v3/users"):
                ms = client.latency_ms(path, opts.samples, **params)
                record(Figure(ds.backend, ds.users, f"GET {path}?{name}= p50", ms, "ms", "< 50", ms < 50))

        ms = client.latency_ms(f"/api/v2/channels/channels/{ds.tree_channel}/members/count", opts.samples)
        record(
            Figure(
                ds.backend,
                ds.users,
                f"members/count, {ds.tree_channel_learners:,} learners by group tree, p50",
                ms,
                "ms",
                "< 50",
                ms < 50,
            )
        )
        perf = "/api/v2/performance"
        seconds, keys = _walk(client, perf, channelIdentifier=ds.perf_channel)
        pages = len(keys) + 1
        record(
            Figure(
                ds.backend,
                ds.users,
                f"performance walk, {pages:,} pages, ms/page",
                seconds * 1000 / pages,
                "ms",
            )
        )
        # Page 1 carries the walk's total (the channel's learners, counted through the group tree:
        # the members/count cost); from page 2 on, a page costs the same however deep it is.
        deep_perf = max(3, pages * 3 // 4)
        params = {"channelIdentifier": ds.perf_channel}
        p1 = client.latency_ms(perf, opts.samples, **params)
        p2 = client.latency_ms(perf, opts.samples, **params, paginationKey=keys[0])
        pd = client.latency_ms(perf, opts.samples, **params, paginationKey=keys[deep_perf - 2])
        record(Figure(ds.backend, ds.users, "performance page 1 (with the total) p50", p1, "ms"))
        record(Figure(ds.backend, ds.users, "performance page 2 p50", p2, "ms"))
        record(Figure(ds.backend, ds.users, f"performance page {deep_perf:,} p50", pd, "ms"))
        spread = max(p2, pd) / min(p2, pd)
        record(
            Figure(
                ds.backend,
                ds.users,
                f"performance page 2 vs page {deep_perf:,}",
                spread,
                "x",
                "<= 1.20",
                spread <= 1.2,
            )
        )
    finally:
        client.close()


def run_workers(bench: Bench, ds: scale_data.Dataset) -> None:
    """Read scenarios with one worker and with two, on the same two cores the load generator uses.

    Both servers run side by side and are loaded in turn, twice each (the best kept), so a drift
    in the machine's speed during the run weighs on both alike. The load connects in two waves
    (``harness.wrk_staggered``) for both.
    """
    opts = bench.opts
    env = harness.server_env(ds.url)
    rates: dict[int, dict[str, float]] = {1: {}, 2: {}}
    with harness.serve(APP, env, workers=1) as one, harness.serve(APP, env, workers=2) as two:
        loads: dict[str, dict[int, Load]] = {}
        for workers, app in ((1, one), (2, two)):
            hdrs, _ = _auth(harness.token(app.base, ds.client_key, ds.secret))
            paths = [f"/api/v2/users/{i}" for i in ds.sample_users]
            loads.setdefault("GET /api/v2/users/{identifier}", {})[workers] = Load(
                app.base, hdrs, lua=lua_rotating(paths)
            )
            loads.setdefault("GET /api/v3/users page 1", {})[workers] = Load(f"{app.base}/api/v3/users", hdrs)
        for name, by_workers in loads.items():
            for load in by_workers.values():
                wrk_staggered(load, 1, opts.connections)  # warm-up, and every worker's connections
            for _ in range(max(2, opts.rounds)):
                for workers, load in by_workers.items():
                    rate = wrk_staggered(load, opts.seconds, opts.connections)
                    rates[workers][name] = max(rate, rates[workers].get(name, 0.0))
        bench.peak_rss_mb = max(bench.peak_rss_mb, one.peak_rss_mb, two.peak_rss_mb)
    for name in rates[1]:
        gain = rates[2][name] / rates[1][name]
        bench.record(
            Figure(ds.backend, ds.users, f"{name}: 2 workers / 1", gain, "x", ">= 1.60", gain >= 1.6)
        )


class SlowClient:
    """Another client of the same account looping on one slow request, sequentially on one
    keep-alive connection, for as long as the block runs: ``finished`` holds when each of its
    requests was answered and how long it took (ms)."""

    def __init__(self, base: str, headers: dict[str, str], path: str, params: dict[str, Any]) -> None:
        self._args = (base, headers, path, params)
        self._stop = threading.Event()
        self._warm = threading.Event()
        self.finished: list[tuple[float, float]] = []
        self.error: BaseException | None = None

    def _loop(self) -> None:
        base, headers, path, params = self._args
        client = Client(base, headers)
        try:
            while not self._stop.is_set():
                start = time.perf_counter()
                client.get(path, **params)
                end = time.perf_counter()
                self.finished.append((end, (end - start) * 1000))
                self._warm.set()
        except BaseException as exc:
            self.error = exc
            self._warm.set()
        finally:
            client.close()

    @contextmanager
    def running(self) -> Iterator[None]:
        thread = threading.Thread(target=self._loop, daemon=True)
        thread.start()
        try:
            self._warm.wait(120)  # its first request answered: it loops at its own pace from now
            yield
        finally:
            self._stop.set()
            thread.join(130)
            self._stop.clear()
            self._warm.clear()
        if self.error is not None:
            raise RuntimeError(f"the slow client failed: {self.error}") from self.error

    def between(self, start: float, end: float) -> list[float]:
        return [ms for at, ms in self.finished if start <= at <= end]


def _stall_kinds(ds: scale_data.Dataset) -> list[tuple[str, str, dict[str, Any]]]:
    """The slow requests a lookup is measured beside: a legitimate search no index can serve (a
    one-letter pattern), and page 1 of a channel's performance (its learners counted through the
    group tree for the total)."""
    return [
        ("search", "/api/v3/users", {"lastNameSubstring": "q"}),
        ("perf page 1", "/api/v2/performance", {"channelIdentifier": ds.perf_channel}),
    ]


def run_stall(bench: Bench, ds: scale_data.Dataset) -> None:
    """Lookups (``STALL_CONNECTIONS`` connections) alone, then beside one other client of the same
    account looping on a slow request, loaded in turn, twice each: for each condition the best
    throughput and the best p99 are kept (the same rule for both)."""
    opts = bench.opts
    env = harness.server_env(ds.url)
    learners = scale_data.tree_size(ds.users)
    with harness.serve(APP, env) as app:
        hdrs, auth = _auth(harness.token(app.base, ds.client_key, ds.secret))
        lookups = Load(app.base, hdrs, lua=lua_rotating([f"/api/v2/users/{i}" for i in ds.sample_users]))
        client = Client(app.base, auth)
        try:
            page = client.get("/api/v2/performance", channelIdentifier=ds.perf_channel)
            if page["totalPages"] * page["pageSize"] < learners:
                raise RuntimeError(f"{ds.perf_channel} has fewer than {learners:,} learners")
            bench.record(Figure(ds.backend, ds.users, "stall (perf page 1): learners", learners, "users"))
            alone = {
                kind: client.latency_ms(path, max(5, opts.samples // 10), **params)
                for kind, path, params in _stall_kinds(ds)
            }
        finally:
            client.close()
        for kind, path, params in _stall_kinds(ds):
            slow = SlowClient(app.base, auth, path, params)
            wrk_latency(lookups, 1, STALL_CONNECTIONS)  # warm-up
            solo_rate = with_rate = 0.0
            solo_p99 = with_p99 = float("inf")
            beside: list[float] = []
            window = 0.0
            for _ in range(max(2, opts.rounds)):
                rate, p99 = wrk_latency(lookups, opts.seconds, STALL_CONNECTIONS)
                solo_rate, solo_p99 = max(solo_rate, rate), min(solo_p99, p99)
                with slow.running():
                    start = time.perf_counter()
                    rate, p99 = wrk_latency(lookups, opts.seconds, STALL_CONNECTIONS)
                    end = time.perf_counter()
                with_rate, with_p99 = max(with_rate, rate), min(with_p99, p99)
                beside += slow.between(start, end)
                window += end - start
            throughput, latency = with_rate / solo_rate, with_p99 / solo_p99
            slow_p50 = statistics.median(beside) if beside else float("nan")
            for name, value, unit in (
                ("the slow request alone, p50", alone[kind], "ms"),
                ("the slow request beside, p50", slow_p50, "ms"),
                ("the slow request beside, req/s", len(beside) / window, "req/s"),
                ("lookups alone req/s", solo_rate, "req/s"),
                ("lookups beside req/s", with_rate, "req/s"),
                ("lookups alone p99", solo_p99, "ms"),
                ("lookups beside p99", with_p99, "ms"),
            ):
                bench.record(Figure(ds.backend, ds.users, f"stall ({kind}): {name}", value, unit))
            bench.record(
                Figure(
                    ds.backend,
                    ds.users,
                    f"stall ({kind}): lookup req/s beside / alone",
                    throughput,
                    "x",
                    ">= 0.60",
                    throughput >= 0.6,
                )
            )
            bench.record(
                Figure(
                    ds.backend,
                    ds.users,
                    f"stall ({kind}): lookup p99 beside / alone",
                    latency,
                    "x",
                    "<= 3.00",
                    latency <= 3.0,
                )
            )
        bench.peak_rss_mb = max(bench.peak_rss_mb, app.peak_rss_mb)


LOOKUP, TOKEN, UPDATE = "GET /api/v2/users/{identifier}", "POST /api/v1/token", "PUT /api/v2/users (update)"


def run_remote(bench: Bench, ds: scale_data.Dataset) -> None:
    """One worker on PostgreSQL through ``bench/latency_proxy.py`` at 0 ms and at
    ``--remote-delay-ms`` of added round trip (a server per proxy), and straight to the database
    for what the proxy itself costs: each load on the three servers in turn, twice each, the best
    kept."""
    delay = f"{bench.opts.remote_delay_ms:g} ms"
    target = make_url(ds.url)
    creds = f"clientKey={ds.client_key}&secret={ds.secret}"
    paths = [f"/api/v2/users/{i}" for i in ds.sample_users]
    with ExitStack() as stack:
        servers: dict[str, harness.Server] = {}
        for label, delay_ms in (("0 ms", 0.0), (delay, bench.opts.remote_delay_ms)):
            port = stack.enter_context(
                harness.latency_proxy(target.host or "127.0.0.1", target.port or 5432, delay_ms)
            )
            url = target.set(host="127.0.0.1", port=port).render_as_string(hide_password=False)
            servers[label] = stack.enter_context(harness.serve(APP, harness.server_env(url)))
        servers["direct"] = stack.enter_context(harness.serve(APP, harness.server_env(ds.url)))
        loads: dict[str, dict[str, Load]] = {}
        auths: dict[str, dict[str, str]] = {}
        for label, app in servers.items():
            hdrs, auths[label] = _auth(harness.token(app.base, ds.client_key, ds.secret))
            loads[label] = {
                LOOKUP: Load(app.base, hdrs, lua=lua_rotating(paths)),
                TOKEN: Load(f"{app.base}/api/v1/token?{creds}", method="POST"),
                UPDATE: Load(app.base, hdrs, lua=_sample_update_lua(ds.sample_users)),
            }
        # What the proxy adds, seen from a client: one lookup at a time, through each server.
        for label, app in servers.items():
            client = Client(app.base, auths[label])
            try:
                ms = client.latency_ms(f"/api/v2/users/{ds.sample_users[0]}", bench.opts.samples)
            finally:
                client.close()
            bench.record(Figure(ds.backend, ds.users, f"{LOOKUP}, {label}, one at a time p50", ms, "ms"))
        for name, floor in ((LOOKUP, 0.5), (TOKEN, None), (UPDATE, 0.4)):
            rates = dict(
                zip(
                    servers,
                    bench.alternating(
                        *(loads[label][name] for label in servers), connections=REMOTE_CONNECTIONS
                    ),
                    strict=True,
                )
            )
            for label, rate in rates.items():
                bench.record(Figure(ds.backend, ds.users, f"{name}, {label} req/s", rate, "req/s"))
            share = rates[delay] / rates["0 ms"]
            bench.record(
                Figure(
                    ds.backend,
                    ds.users,
                    f"{name}, {delay} / 0 ms",
                    share,
                    "x",
                    f">= {floor:.2f}" if floor is not None else "",
                    None if floor is None else share >= floor,
                )
            )
            bench.record(
                Figure(
                    ds.backend, ds.users, f"{name}, proxy 0 ms / direct", rates["0 ms"] / rates["direct"], "x"
                )
            )
        for app in servers.values():
            bench.peak_rss_mb = max(bench.peak_rss_mb, app.peak_rss_mb)


def flatness(bench: Bench, backend: str) -> None:
    name = "GET /api/v2/users/{identifier} req/s"
    by_size = {f.users: f.value for f in bench.figures if f.backend == backend and f.name == name}
    if len(by_size) < 2:
        return
    smallest, largest = min(by_size), max(by_size)
    spread = by_size[smallest] / by_size[largest]
    bench.record(
        Figure(
            backend,
            largest,
            f"lookup at {smallest:,} / at {largest:,} users",
            spread,
            "x",
            "<= 1.50",
            spread <= 1.5,
        )
    )


def _postgres_reason(url: str | None) -> str | None:
    """Why the PostgreSQL half can't run, or None when it can."""
    if not url:
        return "ENABLEY_BENCH_POSTGRES_URL is not set"
    engine = make_engine(url)
    try:
        with engine.connect():
            return None
    except Exception as exc:
        return f"cannot connect to {url}: {exc.__class__.__name__}"
    finally:
        engine.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="SQLite, 10,000 users, short loads")
    parser.add_argument("--sizes", help="comma-separated user counts (default 10000,100000,1000000)")
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], action="append")
    parser.add_argument("--seconds", type=int, default=5, help="length of each wrk load")
    parser.add_argument("--rounds", type=int, default=1, help="loads per scenario; the best is kept")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--samples", type=int, default=100, help="sequential requests per latency figure")
    parser.add_argument(
        "--scenario",
        help=f"comma-separated, of {', '.join(SCENARIOS)} (default: all): hot = every hot path at "
        "every size; ceiling = the lookup beside a raw ASGI + sqlite3 lookup (SQLite); stall = lookups "
        "beside a slow client; remote = PostgreSQL behind a latency proxy",
    )
    parser.add_argument(
        "--stall-users", type=int, help=f"size of the stall scenario (default {STALL_USERS}; 10000 quick)"
    )
    parser.add_argument("--remote-users", type=int, default=REMOTE_USERS, help="size of the remote scenario")
    parser.add_argument(
        "--remote-delay-ms", type=float, default=REMOTE_DELAY_MS, help="round trip the proxy adds"
    )
    opts = parser.parse_args()
    scenarios = set(opts.scenario.split(",")) if opts.scenario else set(SCENARIOS)
    if unknown := scenarios - set(SCENARIOS):
        parser.error(f"unknown scenario {', '.join(sorted(unknown))}: choose from {', '.join(SCENARIOS)}")
    if shutil.which("wrk") is None:
        print("wrk is not installed (Debian: apt-get install wrk)", file=sys.stderr)
        return 2
    if opts.quick:
        opts.seconds, opts.samples = min(opts.seconds, 2), min(opts.samples, 30)
    sizes = (
        [int(s) for s in opts.sizes.split(",")] if opts.sizes else ([10_000] if opts.quick else list(SIZES))
    )
    pg_url = os.environ.get("ENABLEY_BENCH_POSTGRES_URL")
    backends = opts.backend or (["sqlite"] if opts.quick else ["sqlite", "postgresql"])
    if "postgresql" in backends and (reason := _postgres_reason(pg_url)):
        print(f"PostgreSQL half skipped: {reason}", file=sys.stderr)
        backends = [b for b in backends if b != "postgresql"]

    bench = Bench(opts)
    started = time.monotonic()
    print(f"{'database':<11}{'users':>10}  {'figure':<46}{'value':>10} {'unit':<8}{'target':>12}", flush=True)
    print(f"load average at the start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    datasets: Callable[[str, int], scale_data.Dataset] = lambda backend, users: scale_data.dataset(  # noqa: E731
        backend, users, postgres_url=pg_url
    )
    stall_users = opts.stall_users or (10_000 if opts.quick else STALL_USERS)
    for backend in backends:
        hot, ceiling = "hot" in scenarios, "ceiling" in scenarios and backend == "sqlite"
        if hot or ceiling:
            for users in sorted(sizes):
                run_size(
                    bench, datasets(backend, users), largest=users == max(sizes), hot=hot, ceiling=ceiling
                )
        if hot:
            flatness(bench, backend)
        if "stall" in scenarios:
            run_stall(bench, datasets(backend, stall_users))
    if "remote" in scenarios:
        if "postgresql" in backends:
            run_remote(bench, datasets("postgresql", opts.remote_users))
        else:
            print("remote-database scenario skipped: it runs on PostgreSQL only", file=sys.stderr)

    report = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": harness.machine(),
        "seconds": round(time.monotonic() - started),
        "scenarios": sorted(scenarios),
        "figures": [f.__dict__ for f in bench.figures],
    }
    RESULTS.mkdir(exist_ok=True)
    subset = "" if scenarios == set(SCENARIOS) else "-" + "-".join(sorted(scenarios))
    out = RESULTS / (f"quick-latest{subset}.json" if opts.quick else f"latest{subset}.json")
    out.write_text(json.dumps(report, indent=2))
    missed = [f for f in bench.figures if f.met is False]
    print(f"\n{len(missed)} of {sum(f.met is not None for f in bench.figures)} targets missed")
    print(f"machine: {report['machine']}; {report['seconds']} s; results in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
