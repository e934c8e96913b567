"""Faults: the database going away under load, and the server killed in the middle of writes.

What a client was told is what holds: every write answered 2xx is there afterwards, requests
during an outage answer 503 within the database timeout instead of hanging, and the server
recovers by itself once the database is back.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import random
import signal
import time
import uuid
from pathlib import Path

import httpx2
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from enabley.db.engine import make_engine
from tests.hardening.harness import (
    Outcome,
    bearer,
    call,
    describe,
    gather,
    get_token,
    provision,
    run,
)

DB_TIMEOUT = 2.0
"""ENABLEY_DB_TIMEOUT_SECONDS of the servers here: how long a request may wait for the database."""
ANSWER_BOUND = DB_TIMEOUT + 2.0
"""Every request is answered within this, outage or not (the timeout plus room for a busy machine)."""
RECOVERY_BOUND = 5.0
"""Once the database is back, requests succeed again within this, without restarting the server."""


def tag() -> str:
    return uuid.uuid4().hex[:8]


async def acknowledged_users(client: httpx2.AsyncClient, base: str, marker: str) -> dict[str, dict]:
    """identifier -> user, of every user whose first name holds ``marker`` (paged by 200)."""
    found: dict[str, dict] = {}
    for start in itertools.count(0, 200):
        outcome = await call(
            client, "GET", f"{base}/api/v2/users?firstNameSubstring={marker}&limit=200&start={start}"
        )
        assert outcome.status == 200, describe([outcome])
        found.update({u["identifier"]: u for u in outcome.body})
        if len(outcome.body) < 200:
            return found
    raise AssertionError("unreachable")


# --- database outage -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "backend",
    [
        pytest.param(
            "sqlite",
            marks=pytest.mark.skip(
                reason="SQLite is a file the server process opens itself: there is no database server "
                "to stop under it (an outage is a PostgreSQL scenario)"
            ),
        ),
        "postgresql",
    ],
)
def test_a_database_outage_answers_503_in_bounded_time_and_heals_without_restart(
    backend, throwaway_postgres, servers
):
    cluster = throwaway_postgres
    deployment = provision(cluster.create_database(), "postgresql")
    (server,) = servers.launch(deployment.url, db_timeout_seconds=DB_TIMEOUT)
    token = get_token(server.url, deployment)
    marker = tag()
    seed = f"{marker}-seed"
    events: dict[str, float] = {}
    written: list[str] = []
    outcomes: list[Outcome] = []
    counter = itertools.count()

    def write(client: httpx2.AsyncClient):
        identifier = f"{marker}-{next(counter)}"
        return call(
            client,
            "PUT",
            f"{server.url}/api/v2/users",
            json={"identifier": identifier, "firstName": identifier},
        )

    def read(client: httpx2.AsyncClient):
        identifier = random.choice(written) if written else seed
        return call(client, "GET", f"{server.url}/api/v2/users/{identifier}")

    def issue_token(client: httpx2.AsyncClient):
        params = {"clientKey": deployment.client_key, "secret": deployment.secret}
        return call(client, "POST", f"{server.url}/api/v1/token", params=params)

    async def load(client: httpx2.AsyncClient, request, until: asyncio.Event) -> None:
        while not until.is_set():
            outcome = await request(client)
            outcomes.append(outcome)
            if outcome.request["method"] == "PUT" and outcome.status in (200, 201):
                written.append(outcome.request["json"]["identifier"])

    def recovered() -> bool:
        """Every request started in the last second, and at least a second after the restart, succeeded."""
        now = time.monotonic()
        recent = [o for o in outcomes if o.started >= max(events["up"], now - 1.0)]
        return now - events["up"] >= 1.0 and len(recent) >= 10 and all(o.status in (200, 201) for o in recent)

    async def scenario() -> None:
        # The client waits well past the bound: a request that hangs shows as slow, not as lost.
        timeout = httpx2.Timeout(ANSWER_BOUND + 6.0)
        async with httpx2.AsyncClient(headers=bearer(token), timeout=timeout) as client:
            first = await call(client, "PUT", f"{server.url}/api/v2/users", json={"identifier": seed})
            assert first.status == 201, describe([first])
            until = asyncio.Event()
            requests = [write, write, write, read, read, issue_token]
            tasks = [asyncio.create_task(load(client, request, until)) for request in requests]
            try:
                await asyncio.sleep(1.0)
                await asyncio.to_thread(cluster.stop, "immediate")
                events["down"] = time.monotonic()
                await asyncio.sleep(DB_TIMEOUT + 1.5)
                events["starting"] = time.monotonic()
                await asyncio.to_thread(cluster.start)
                events["up"] = time.monotonic()
                for _ in range(int((RECOVERY_BOUND + 1.5) / 0.2)):
                    if recovered():
                        break
                    await asyncio.sleep(0.2)
            finally:
                until.set()
                await asyncio.gather(*tasks)

    run(scenario())

    hung = [o for o in outcomes if o.status is None]
    assert not hung, describe(hung)
    slow = [o for o in outcomes if o.elapsed > ANSWER_BOUND]
    assert not slow, f"answered after more than {ANSWER_BOUND} s:\n" + "\n".join(
        f"{o.elapsed:.2f}s {o.status} {o.request['method']} {o.request['url']}" for o in slow
    )
    others = [o for o in outcomes if o.status not in (200, 201, 503)]
    assert not others, describe(others)
    unavailable = [o for o in outcomes if o.status == 503]
    assert all(o.body["error"] == "service_unavailable" for o in unavailable), describe(unavailable)
    during = [
        o for o in outcomes if o.started >= events["down"] and o.started + o.elapsed <= events["starting"]
    ]
    assert len(during) >= 5, f"only {len(during)} requests during the outage"
    assert {o.status for o in during} == {503}, describe(during)
    late = [o for o in outcomes if o.started >= events["up"] + RECOVERY_BOUND and o.status not in (200, 201)]
    assert not late, f"still failing {RECOVERY_BOUND} s after the database came back:\n" + describe(late)
    assert recovered(), describe(o for o in outcomes if o.started >= events["up"])

    async def stored_users() -> dict[str, dict]:
        async with httpx2.AsyncClient(headers=bearer(token), timeout=30) as client:
            return await acknowledged_users(client, server.url, marker)

    stored = run(stored_users())
    missing = sorted(set(written) - set(stored))
    assert not missing, f"{len(missing)} of {len(written)} acknowledged writes lost: {missing[:10]}"
    assert len(written) >= 10


def test_after_a_database_restart_the_first_requests_are_served(throwaway_postgres, servers):
    """PostgreSQL restarts between two bursts: the connections the server pooled are dead, yet the
    first token, lookup, search and write after the restart all succeed (a read, or a unit of work
    whose first statement never reached the server, is retried once on a fresh connection)."""
    cluster = throwaway_postgres
    deployment = provision(cluster.create_database(), "postgresql")
    (server,) = servers.launch(deployment.url, db_timeout_seconds=DB_TIMEOUT)
    token = get_token(server.url, deployment)
    marker = tag()
    params = {"clientKey": deployment.client_key, "secret": deployment.secret}

    async def burst(client: httpx2.AsyncClient, round_: str) -> list[Outcome]:
        """Concurrent writes (each its own pooled connection), then one of every kind in turn."""
        writes = [
            call(client, "PUT", f"{server.url}/api/v2/users", json={"identifier": f"{marker}-{round_}-{i}"})
            for i in range(8)
        ]
        outcomes = await gather(writes)
        for i in range(8):
            outcomes += [
                await call(client, "POST", f"{server.url}/api/v1/token", params=params),
                await call(client, "GET", f"{server.url}/api/v2/users/{marker}-{round_}-{i}"),
                await call(client, "GET", f"{server.url}/api/v3/users?firstNameSubstring={marker}"),
                await call(
                    client,
                    "PUT",
                    f"{server.url}/api/v2/users",
                    json={"identifier": f"{marker}-{round_}-{i}", "firstName": "again"},
                ),
            ]
        return outcomes

    async def scenario() -> tuple[list[Outcome], list[Outcome]]:
        async with httpx2.AsyncClient(headers=bearer(token), timeout=ANSWER_BOUND + 6.0) as client:
            before = await burst(client, "before")
            await asyncio.to_thread(cluster.stop, "fast")
            await asyncio.to_thread(cluster.start)
            return before, await burst(client, "after")

    before, after = run(scenario())
    assert all(o.status in (200, 201) for o in before), describe(before)
    assert all(o.status in (200, 201) for o in after), describe(after)


def _cluster_pids(cluster) -> list[int]:
    """The throwaway cluster's postmaster, then every process it started."""
    postmaster = int((cluster.data / "postmaster.pid").read_text().split()[0])
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == postmaster:
            children.append(int(stat.parent.name))
    return [postmaster, *children]


def _signal_all(pids: list[int], signum: int) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signum)


def test_a_frozen_database_stalls_only_the_requests_waiting_on_it(throwaway_postgres, servers):
    """PostgreSQL stops answering without closing its connections (SIGSTOP of the whole cluster, as
    a network partition would look): the kernel still acknowledges what the server is sent, so no
    timeout of the driver or of TCP ever fires. Meanwhile the server keeps answering what needs no
    database at once, every request that needs it answers 503 within the database timeout (plus
    room for a busy machine), and once the database answers again so does the server."""
    cluster = throwaway_postgres
    deployment = provision(cluster.create_database(), "postgresql")
    (server,) = servers.launch(deployment.url, db_timeout_seconds=DB_TIMEOUT)
    token = get_token(server.url, deployment)
    marker = tag()
    params = {"clientKey": deployment.client_key, "secret": deployment.secret}
    events: dict[str, float] = {}
    outcomes: list[Outcome] = []
    probes: list[Outcome] = []
    counter = itertools.count()

    def requests(client: httpx2.AsyncClient) -> list:
        n = next(counter)
        return [
            lambda: call(client, "PUT", f"{server.url}/api/v2/users", json={"identifier": f"{marker}-{n}"}),
            lambda: call(client, "GET", f"{server.url}/api/v2/users/{marker}-seed"),
            lambda: call(client, "GET", f"{server.url}/api/v3/users?lastNameSubstring=x"),
            lambda: call(client, "POST", f"{server.url}/api/v1/token", params=params),
        ]

    async def load(client: httpx2.AsyncClient, kind: int, until: asyncio.Event) -> None:
        while not until.is_set():
            outcomes.append(await requests(client)[kind]())

    async def healthz(client: httpx2.AsyncClient, until: asyncio.Event) -> None:
        while not until.is_set():
            probes.append(await call(client, "GET", f"{server.url}/healthz"))
            await asyncio.sleep(0.1)

    def recovered() -> bool:
        now = time.monotonic()
        recent = [o for o in outcomes if o.started >= max(events["thawed"], now - 1.0)]
        return len(recent) >= 8 and all(o.status in (200, 201) for o in recent)

    async def scenario() -> None:
        async with httpx2.AsyncClient(headers=bearer(token), timeout=ANSWER_BOUND + 20.0) as client:
            first = await call(
                client, "PUT", f"{server.url}/api/v2/users", json={"identifier": f"{marker}-seed"}
            )
            assert first.status == 201, describe([first])
            until = asyncio.Event()
            tasks = [asyncio.create_task(load(client, kind, until)) for kind in (0, 0, 1, 1, 2, 3)]
            tasks.append(asyncio.create_task(healthz(client, until)))
            await asyncio.sleep(1.0)
            # The postmaster first, so that it starts nothing more; then every process it started.
            pids = _cluster_pids(cluster)
            try:
                _signal_all(pids[:1], signal.SIGSTOP)
                pids = _cluster_pids(cluster)
                _signal_all(pids, signal.SIGSTOP)
                events["frozen"] = time.monotonic()
                await asyncio.sleep(DB_TIMEOUT + 4.0)
                events["thawing"] = time.monotonic()
            finally:
                _signal_all(pids, signal.SIGCONT)
            events["thawed"] = time.monotonic()
            try:
                for _ in range(int((RECOVERY_BOUND + 1.5) / 0.2)):
                    if recovered():
                        break
                    await asyncio.sleep(0.2)
            finally:
                until.set()
                await asyncio.gather(*tasks)

    run(scenario())

    hung = [o for o in outcomes if o.status is None]
    assert not hung, describe(hung)
    slow = [o for o in outcomes if o.elapsed > ANSWER_BOUND]
    assert not slow, f"answered after more than {ANSWER_BOUND} s:\n" + "\n".join(
        f"{o.elapsed:.2f}s {o.status} {o.request['method']} {o.request['url']}" for o in slow
    )
    assert {o.status for o in outcomes} <= {200, 201, 503}, describe(o for o in outcomes if o.status != 200)
    during = [
        o
        for o in outcomes
        if o.started >= events["frozen"] + 0.2 and o.started + o.elapsed <= events["thawing"]
    ]
    assert len(during) >= 6, f"only {len(during)} requests answered while the database was frozen"
    assert {o.status for o in during} == {503}, describe(during)
    assert all(o.body["error"] == "service_unavailable" for o in during), describe(during)
    frozen_probes = [o for o in probes if events["frozen"] <= o.started <= events["thawing"]]
    assert len(frozen_probes) >= 10, f"only {len(frozen_probes)} health probes while frozen"
    assert all(o.status == 200 and o.elapsed < 1.0 for o in frozen_probes), describe(frozen_probes)
    assert recovered(), describe(o for o in outcomes if o.started >= events["thawed"])


# --- crashes ---------------------------------------------------------------------------------


def test_writes_answered_2xx_survive_a_sigkill_of_the_server(crash_site):
    """Eight clients write users (each with its sub-account, in the same transaction) and group
    memberships; the server is SIGKILLed mid-burst. After a restart on the same database every
    acknowledged write is there, and no user is half-written."""
    deployment, server = crash_site
    token = get_token(server.url, deployment)
    marker = tag()
    group = f"{marker}-group"
    users: list[str] = []
    members: list[str] = []
    attempted = itertools.count()

    async def writer(client: httpx2.AsyncClient, n: int) -> None:
        while True:
            identifier = f"{marker}-{n}-{next(attempted)}"
            body = {"identifier": identifier, "firstName": identifier, "subAccountName": "EU"}
            outcome = await call(client, "PUT", f"{server.url}/api/v2/users", json=body)
            if outcome.status is None:
                return
            assert outcome.status == 201, describe([outcome])
            users.append(identifier)
            outcome = await call(client, "POST", f"{server.url}/api/v1/groups/{group}/users/{identifier}")
            if outcome.status is None:
                return
            assert outcome.status == 200, describe([outcome])
            members.append(identifier)

    async def killer() -> None:
        for _ in range(600):
            if len(members) >= 80:
                break
            await asyncio.sleep(0.05)
        await asyncio.to_thread(server.kill)

    async def burst() -> None:
        async with httpx2.AsyncClient(headers=bearer(token), timeout=30) as client:
            outcome = await call(
                client, "PUT", f"{server.url}/api/v1/groups", json={"identifier": group, "name": "g"}
            )
            assert outcome.status == 201, describe([outcome])
            await asyncio.gather(killer(), *(writer(client, n) for n in range(8)))

    run(burst())
    assert len(members) >= 80, f"the server died before the burst got going:\n{server.log()}"
    server.start().wait_ready()

    async def read_back() -> tuple[dict[str, dict], list[list[str]]]:
        async with httpx2.AsyncClient(headers=bearer(token), timeout=30) as client:
            stored = await acknowledged_users(client, server.url, marker)
            groups = await gather(
                call(client, "GET", f"{server.url}/api/v1/users/{u}/groups") for u in members
            )
            return stored, [[g["identifier"] for g in o.body] for o in groups if o.status == 200]

    stored, groups_of_members = run(read_back())
    missing = sorted(set(users) - set(stored))
    assert not missing, f"{len(missing)} of {len(users)} acknowledged users lost: {missing[:10]}"
    # At most one write per client was in flight when the server died.
    assert len(stored) - len(users) <= 8
    assert all(u["userSubAccountNames"] == ["EU"] for u in stored.values()), "a user without its sub-account"
    assert groups_of_members == [[group]] * len(members), "an acknowledged membership was lost"


UPLOAD_ROWS = 20_000
KILL_AFTER_BYTES = 1024 * 1024
"""The upload is killed once it has written this much: several of its chunks of rows, a good
part of the whole (some 5 MB), never all of it."""


class WriteWatcher:
    """How far a transaction has got writing users before it commits, in bytes of storage.

    PostgreSQL: how much the ``users`` table grew (an INSERT extends the table before its commit).
    SQLite: how much the write-ahead log grew (a writer spills pages there before its commit once
    its cache is full). Watching from outside, so the server's code is not involved.
    """

    def __init__(self, url: str) -> None:
        self.engine = make_engine(url, pool_size=1) if url.startswith("postgresql") else None
        self.wal = Path(f"{make_url(url).database}-wal") if self.engine is None else None
        self.baseline = self._size()

    def _size(self) -> int:
        if self.engine is not None:
            with self.engine.connect() as conn:
                return int(conn.execute(text("SELECT pg_relation_size('users')")).scalar_one())
        assert self.wal is not None
        return self.wal.stat().st_size if self.wal.exists() else 0

    def written(self) -> int:
        return self._size() - self.baseline

    def close(self) -> None:
        if self.engine is not None:
            self.engine.dispose()


def count_rows(url: str, marker: str) -> tuple[int, int]:
    """(users, their sub-account links) whose identifier starts with ``marker``, read straight
    from the database."""
    engine = make_engine(url, pool_size=1)
    try:
        with engine.connect() as conn:
            users = conn.execute(
                text("SELECT count(*) FROM users WHERE external_id LIKE :p"), {"p": f"{marker}-%"}
            ).scalar()
            links = conn.execute(
                text(
                    "SELECT count(*) FROM user_sub_accounts s JOIN users u ON u.id = s.user_id "
                    "WHERE u.external_id LIKE :p"
                ),
                {"p": f"{marker}-%"},
            ).scalar()
    finally:
        engine.dispose()
    return int(users or 0), int(links or 0)


def test_a_bulk_upload_killed_midway_is_wholly_applied_or_wholly_absent(crash_site):
    """A users.csv of 20,000 rows; the server is SIGKILLed once the upload has written about a
    fifth of it. After a restart the upload's users (and their sub-account links) are all there
    or none is."""
    deployment, server = crash_site
    token = get_token(server.url, deployment)
    probe = httpx2.post(
        f"{server.url}/api/v1/uploads/org", json={"files": []}, headers=bearer(token), timeout=30
    )
    if probe.status_code == 404:
        pytest.skip("POST /api/v1/uploads/org answers 404: the bulk upload endpoint is not there")
    marker = tag()
    rows = "".join(f"{marker}-{i:05},{marker}-{i:05},EU\n" for i in range(UPLOAD_ROWS))
    content = "identifier,firstName,subAccountName\n" + rows
    upload = {"files": [{"fileName": "users.csv", "content": content}]}
    watcher = WriteWatcher(deployment.url)
    caught: list[int] = []

    async def kill_mid_write() -> Outcome:
        async with httpx2.AsyncClient(headers=bearer(token), timeout=300) as client:
            sending = asyncio.create_task(
                call(client, "POST", f"{server.url}/api/v1/uploads/org", json=upload)
            )
            try:
                while not sending.done():
                    written = await asyncio.to_thread(watcher.written)
                    if written >= KILL_AFTER_BYTES:
                        caught.append(written)
                        await asyncio.to_thread(server.kill)
                        break
                    await asyncio.sleep(0.01)
                return await sending
            finally:
                sending.cancel()

    try:
        outcome = run(kill_mid_write())
    finally:
        watcher.close()
    assert caught, (
        f"the upload finished before it had written {KILL_AFTER_BYTES} bytes: {describe([outcome])}"
    )
    assert outcome.status is None, describe([outcome])
    server.start().wait_ready()
    users, links = count_rows(deployment.url, marker)
    assert (users, links) in ((0, 0), (UPLOAD_ROWS, UPLOAD_ROWS)), (users, links)
