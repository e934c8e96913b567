"""Concurrent writes through two server processes on one database.

Each scenario fires its requests at once, spread over both processes, and then checks that what
the API reads back is a state some serial order of the same requests could have produced.

A burst of many requests keeps both processes busy, but their transactions then meet at random
moments. So each scenario also runs many "paired" rounds: two requests that race, one to each
idle process at the same instant, so that both run the same statements at nearly the same time;
that is where a check-then-write race shows.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import Iterable

import httpx2
import pytest

from tests.hardening.harness import Cluster, Outcome, call, describe, gather, run, statuses

PAIRED_ROUNDS = 30


@pytest.fixture
def cluster(shared_cluster) -> Cluster:
    return shared_cluster


def tag() -> str:
    return uuid.uuid4().hex[:8]


def assert_no_server_errors(outcomes: Iterable[Outcome]) -> None:
    bad = [o for o in outcomes if o.status is None or o.status >= 500]
    assert not bad, describe(bad)


async def ok(client: httpx2.AsyncClient, method: str, url: str, expected=(200, 201), **kwargs):
    outcome = await call(client, method, url, **kwargs)
    assert outcome.status in expected, describe([outcome])
    return outcome.body


# --- users -----------------------------------------------------------------------------------


def test_concurrent_puts_of_one_new_user_create_exactly_one(cluster):
    def put(client, i, identifier):
        body = {"identifier": identifier, "firstName": f"Writer {i}"}
        return call(client, "PUT", f"{cluster.base(i)}/api/v2/users", json=body)

    async def scenario():
        async with cluster.client() as client:
            for rounds, size in ((2, 50), (PAIRED_ROUNDS, 2)):
                for _ in range(rounds):
                    identifier = f"race-{tag()}"
                    outcomes = await gather(put(client, i, identifier) for i in range(size))
                    assert statuses(outcomes) == {201: 1, 200: size - 1}, describe(outcomes)
                    assert {o.body["identifier"] for o in outcomes} == {identifier}
                    found = await ok(client, "GET", f"{cluster.base(1)}/api/v2/users?identifier={identifier}")
                    assert len(found) == 1, found

    run(scenario())


def test_concurrent_claims_of_one_username_let_exactly_one_through(cluster):
    """Usernames are unique per account too: two new users, or two existing ones, given the same
    username at once on both processes: one succeeds, the other is refused with 409."""

    async def scenario():
        async with cluster.client() as client:
            for _ in range(PAIRED_ROUNDS // 2):
                marker = tag()
                for existing in (False, True):
                    users = [f"{marker}-{existing}-{i}" for i in range(2)]
                    if existing:
                        for user in users:
                            await ok(
                                client, "PUT", f"{cluster.base(0)}/api/v2/users", json={"identifier": user}
                            )
                    username = f"{marker}-{existing}-name"
                    outcomes = await gather(
                        call(
                            client,
                            "PUT",
                            f"{cluster.base(i)}/api/v2/users",
                            json={"identifier": user, "username": username},
                        )
                        for i, user in enumerate(users)
                    )
                    assert statuses(outcomes) == {200 if existing else 201: 1, 409: 1}, describe(outcomes)
                    (refused,) = [o for o in outcomes if o.status == 409]
                    assert refused.body["error"] == "item_exists"
                    holders = await ok(
                        client, "GET", f"{cluster.base(1)}/api/v2/users?usernameSubstring={username}"
                    )
                    assert len(holders) == 1, holders

    run(scenario())


# --- groups ----------------------------------------------------------------------------------


def parents_of(groups: list[dict]) -> dict[str, str | None]:
    return {g["identifier"]: g["parentIdentifier"] for g in groups}


def find_cycle(parents: dict[str, str | None]) -> list[str] | None:
    for start in parents:
        seen: list[str] = []
        node: str | None = start
        while node is not None:
            if node in seen:
                return [*seen[seen.index(node) :], node]
            seen.append(node)
            node = parents.get(node)
    return None


def test_concurrent_reparenting_never_makes_a_cycle(cluster):
    marker = tag()
    ring = [f"{marker}-ring-{i}" for i in range(4)]
    pair = [f"{marker}-pair-a", f"{marker}-pair-b"]
    everyone = ring + pair

    def put(client, i, identifier, parent):
        body = {"identifier": identifier, "name": identifier, "parentIdentifier": parent}
        return call(client, "PUT", f"{cluster.base(i)}/api/v1/groups", json=body)

    async def scenario():
        rng = random.Random(7)
        async with cluster.client() as client:
            # Each group created by ten requests at once: one creates it, the others update it.
            for identifier in everyone:
                outcomes = await gather(put(client, i, identifier, None) for i in range(10))
                assert statuses(outcomes) == {201: 1, 200: 9}, describe(outcomes)
            for _ in range(3):
                for identifier in everyone:
                    await put(client, 0, identifier, None)
                # Each ring member tries to hang under the next, each of the pair under the other,
                # five times over: a serial order lets all but one ring edge and one pair edge in.
                wanted = [(g, ring[(i + 1) % len(ring)]) for i, g in enumerate(ring)] * 5
                wanted += [(pair[0], pair[1]), (pair[1], pair[0])] * 5
                rng.shuffle(wanted)
                outcomes = await gather(put(client, i, g, p) for i, (g, p) in enumerate(wanted))
                assert_no_server_errors(outcomes)
                assert set(statuses(outcomes)) <= {200, 400}, describe(outcomes)
                refused = [o for o in outcomes if o.status == 400]
                assert all(o.body["error"] == "invalid_request" for o in refused), describe(refused)

                groups = await ok(client, "GET", f"{cluster.base(1)}/api/v1/groups/list")
                parents = parents_of(groups)
                assert find_cycle(parents) is None, f"cycle {find_cycle(parents)} after\n{describe(outcomes)}"
                ring_edges = [g for i, g in enumerate(ring) if parents[g] == ring[(i + 1) % len(ring)]]
                assert len(ring_edges) == len(ring) - 1, parents
                assert [parents[pair[0]], parents[pair[1]]].count(None) == 1, parents

            # Paired: A under B on one process, B under A on the other, at the same instant.
            for _ in range(PAIRED_ROUNDS):
                for identifier in pair:
                    await put(client, 0, identifier, None)
                outcomes = await gather([put(client, 0, pair[0], pair[1]), put(client, 1, pair[1], pair[0])])
                assert statuses(outcomes) == {200: 1, 400: 1}, describe(outcomes)
                parents = parents_of(await ok(client, "GET", f"{cluster.base(1)}/api/v1/groups/list"))
                assert [parents[pair[0]], parents[pair[1]]].count(None) == 1, parents

    run(scenario())


# --- memberships -----------------------------------------------------------------------------


class Memberships:
    """Users, groups and channels whose assignments the test toggles, and how to read them back.

    Two kinds of users keep the read-back unambiguous: "direct" users are only ever assigned to
    channels, "grouped" users only to groups. Each group has a probe member nobody touches, so a
    group's assignment to a channel shows as its probe learning there.
    """

    def __init__(self, cluster: Cluster, prefix: str) -> None:
        self.cluster = cluster
        self.direct = [f"{prefix}-direct-{i}" for i in range(3)]
        self.grouped = [f"{prefix}-grouped-{i}" for i in range(3)]
        self.groups = [f"{prefix}-group-{i}" for i in range(2)]
        self.probes = {g: f"{g}-probe" for g in self.groups}
        self.channels = [f"{prefix}-channel-{i}" for i in range(2)]
        self.pairs = (
            [("group-user", g, u) for g in self.groups for u in self.grouped]
            + [("channel-user", c, u) for c in self.channels for u in self.direct]
            + [("channel-group", c, g) for c in self.channels for g in self.groups]
        )

    async def create(self, client: httpx2.AsyncClient) -> None:
        base = self.cluster.base(0)
        for user in [*self.direct, *self.grouped, *self.probes.values()]:
            await ok(client, "PUT", f"{base}/api/v2/users", json={"identifier": user})
        for group in self.groups:
            await ok(client, "PUT", f"{base}/api/v1/groups", json={"identifier": group, "name": group})
            await ok(client, "POST", f"{base}/api/v1/groups/{group}/users/{self.probes[group]}")
        for channel in self.channels:
            await ok(client, "PUT", f"{base}/api/v1/channels", json={"identifier": channel, "name": channel})

    def request(self, client: httpx2.AsyncClient, i: int, pair: tuple[str, str, str], assign: bool):
        kind, a, b = pair
        base = self.cluster.base(i)
        if kind == "group-user":
            return call(client, "POST" if assign else "DELETE", f"{base}/api/v1/groups/{a}/users/{b}")
        if kind == "channel-user":
            if assign:
                return call(client, "POST", f"{base}/api/v2/channels/{a}/users/{b}")
            return call(client, "DELETE", f"{base}/api/v1/channels/{a}/users/{b}")
        return call(client, "POST" if assign else "DELETE", f"{base}/api/v1/channels/{a}/groups/{b}")

    async def read(self, client: httpx2.AsyncClient, i: int) -> tuple[dict, dict[str, set[str]]]:
        """Each pair's state as the API shows it, checked for consistency; and the learners."""
        base = self.cluster.base(i)
        learners: dict[str, set[str]] = {}
        for channel in self.channels:
            rows = await ok(client, "GET", f"{base}/api/v1/performance?externalChannelId={channel}")
            learners[channel] = {row["externalUserId"] for row in rows}
            assert len(learners[channel]) == len(rows), rows
        groups_of: dict[str, set[str]] = {}
        for user in self.grouped:
            rows = await ok(client, "GET", f"{base}/api/v1/users/{user}/groups")
            groups_of[user] = {row["identifier"] for row in rows}
        state = {}
        for pair in self.pairs:
            kind, a, b = pair
            if kind == "group-user":
                state[pair] = a in groups_of[b]
            elif kind == "channel-user":
                state[pair] = b in learners[a]
            else:
                state[pair] = self.probes[b] in learners[a]
        for channel in self.channels:
            via_groups = {
                u for u in self.grouped if any(state[("channel-group", channel, g)] for g in groups_of[u])
            }
            expected = (
                {u for u in self.direct if state[("channel-user", channel, u)]}
                | via_groups
                | {self.probes[g] for g in self.groups if state[("channel-group", channel, g)]}
            )
            assert learners[channel] == expected, (channel, learners[channel], expected)
            count = await ok(client, "GET", f"{base}/api/v2/channels/channels/{channel}/members/count")
            assert count == {"learners": len(expected)}, (channel, count, expected)
        return state, learners


def test_concurrent_assign_and_unassign_leave_a_serial_state(cluster):
    members = Memberships(cluster, f"m-{tag()}")

    async def scenario():
        rng = random.Random(11)
        async with cluster.client() as client:
            await members.create(client)
            state, _ = await members.read(client, 0)
            assert not any(state.values())

            # Paired: one pair of each kind assigned on both processes at the same instant, then
            # unassigned likewise: every request succeeds and the pair ends as both asked.
            hot = [
                members.pairs[0],
                members.pairs[len(members.grouped) * len(members.groups)],
                members.pairs[-1],
            ]
            assert [pair[0] for pair in hot] == ["group-user", "channel-user", "channel-group"]
            for _ in range(PAIRED_ROUNDS // 2):
                for assign in (True, False):
                    outcomes = await gather(
                        members.request(client, i, pair, assign) for pair in hot for i in range(2)
                    )
                    assert statuses(outcomes) == {200: len(outcomes)}, describe(outcomes)
            state, _ = await members.read(client, 1)
            assert not any(state.values())

            # Bursts: every pair gets a few assigns and unassigns at once. When all of a pair's
            # requests agree, every serial order ends in that state; mixed ones may end in either.
            for round_ in range(2):
                planned: list[tuple[tuple[str, str, str], bool]] = []
                for pair in members.pairs:
                    kind = rng.choice(["assign", "unassign", "mixed", "mixed"])
                    ops = [rng.random() < 0.5 if kind == "mixed" else kind == "assign" for _ in range(3)]
                    planned += [(pair, op) for op in ops]
                rng.shuffle(planned)
                outcomes = await gather(
                    members.request(client, i, pair, op) for i, (pair, op) in enumerate(planned)
                )
                assert statuses(outcomes) == {200: len(planned)}, describe(
                    o for o in outcomes if o.status != 200
                )
                state, _ = await members.read(client, round_)
                for pair in members.pairs:
                    ops = {op for p, op in planned if p == pair}
                    if len(ops) == 1:
                        assert state[pair] == ops.pop(), pair

            # Chains: each pair's requests follow one another, all chains at once: the last
            # request of each chain decides its pair.
            async def chain(i: int, pair, ops: list[bool]) -> list[Outcome]:
                done = []
                for op in ops:
                    done.append(await members.request(client, i + len(done), pair, op))
                return done

            for round_ in range(2):
                plans = {
                    pair: [rng.random() < 0.5 for _ in range(rng.randint(2, 5))] for pair in members.pairs
                }
                results = await asyncio.gather(
                    *(chain(i, pair, ops) for i, (pair, ops) in enumerate(plans.items()))
                )
                outcomes = [o for done in results for o in done]
                assert statuses(outcomes) == {200: len(outcomes)}, describe(
                    o for o in outcomes if o.status != 200
                )
                state, _ = await members.read(client, round_ + 1)
                assert state == {pair: ops[-1] for pair, ops in plans.items()}

    run(scenario())


def test_concurrent_replacing_assignments_leave_the_user_in_one_group(cluster):
    """``replace=true`` removes the user's other groups: two of them at once, to two groups,
    leave the user in one, as either order would."""

    async def scenario():
        async with cluster.client() as client:
            base, marker = cluster.base(0), tag()
            groups = [f"{marker}-g1", f"{marker}-g2"]
            for group in groups:
                await ok(client, "PUT", f"{base}/api/v1/groups", json={"identifier": group, "name": group})
            for n in range(PAIRED_ROUNDS):
                user = f"{marker}-u{n}"
                await ok(client, "PUT", f"{base}/api/v2/users", json={"identifier": user})
                outcomes = await gather(
                    call(client, "POST", f"{cluster.base(i)}/api/v1/groups/{group}/users/{user}?replace=true")
                    for i, group in enumerate(groups)
                )
                assert statuses(outcomes) == {200: 2}, describe(outcomes)
                found = await ok(client, "GET", f"{base}/api/v1/users/{user}/groups")
                assert len(found) == 1, found

    run(scenario())


# --- identity changes ------------------------------------------------------------------------


async def users_tagged(client: httpx2.AsyncClient, base: str, marker: str) -> dict[str, str]:
    """firstName -> identifier of the users whose first name holds ``marker``."""
    rows = await ok(client, "GET", f"{base}/api/v2/users?firstNameSubstring={marker}&limit=200")
    names = [row["firstName"] for row in rows]
    assert len(names) == len(set(names)), rows
    return {row["firstName"]: row["identifier"] for row in rows}


def rename(client, base: str, current: str, new: str):
    body = {"currentUserIdentifier": current, "newUserIdentifier": new}
    return call(client, "PUT", f"{base}/api/v2/users/identityManagement", json=body)


def test_concurrent_renames_to_one_identifier_let_exactly_one_through(cluster):
    async def renames_to_one(client, size):
        marker = tag()
        users = [f"{marker}-{i}" for i in range(size)]
        for user in users:
            await ok(
                client,
                "PUT",
                f"{cluster.base(0)}/api/v2/users",
                json={"identifier": user, "firstName": user},
            )
        target = f"{marker}-target"
        outcomes = await gather(rename(client, cluster.base(i), u, target) for i, u in enumerate(users))
        assert statuses(outcomes) == {200: 1, 409: size - 1}, describe(outcomes)
        assert {o.body["error"] for o in outcomes if o.status == 409} == {"item_exists"}
        (winner,) = [o.body["firstName"] for o in outcomes if o.status == 200]
        found = await ok(client, "GET", f"{cluster.base(1)}/api/v2/users?identifier={target}")
        assert [u["firstName"] for u in found] == [winner]
        assert await users_tagged(client, cluster.base(1), marker) == {
            u: (target if u == winner else u) for u in users
        }

    async def scenario():
        async with cluster.client() as client:
            for rounds, size in ((2, 20), (PAIRED_ROUNDS, 2)):
                for _ in range(rounds):
                    await renames_to_one(client, size)

    run(scenario())


def test_concurrent_rename_chains_and_swaps_keep_identifiers_unique(cluster):
    """Chains (a0 -> a1 -> ... -> a5, the last one free), swaps (b0 <-> b1), and a rename racing a
    create of its target: whatever wins, every user keeps one identifier and no identifier two users."""

    async def scenario():
        rng = random.Random(5)
        async with cluster.client() as client:
            for _ in range(3):
                marker = tag()
                chain = [f"{marker}-a{i}" for i in range(6)]
                swap = [f"{marker}-b0", f"{marker}-b1"]
                racer, contested = f"{marker}-c0", f"{marker}-c1"
                existing = chain[:-1] + swap + [racer]
                for user in existing:
                    await ok(
                        client,
                        "PUT",
                        f"{cluster.base(0)}/api/v2/users",
                        json={"identifier": user, "firstName": user},
                    )
                planned = [(chain[i], chain[i + 1]) for i in range(len(chain) - 1)]
                planned += [(swap[0], swap[1]), (swap[1], swap[0])]
                planned += [(racer, contested)]
                rng.shuffle(planned)
                # The create names its user in lastName: if the rename won, it updates the renamed user.
                created = f"{marker}-created"
                outcomes = await gather(
                    [
                        *(rename(client, cluster.base(i), a, b) for i, (a, b) in enumerate(planned)),
                        call(
                            client,
                            "PUT",
                            f"{cluster.base(1)}/api/v2/users",
                            json={"identifier": contested, "lastName": created},
                        ),
                    ]
                )
                renames, put = outcomes[:-1], outcomes[-1]
                assert_no_server_errors(outcomes)
                assert set(statuses(renames)) <= {200, 409}, describe(renames)
                # Both swap targets exist throughout: neither swap can succeed.
                for o in renames:
                    if o.request["json"]["currentUserIdentifier"] in swap:
                        assert o.status == 409, describe([o])
                (race,) = [o for o in renames if o.request["json"]["currentUserIdentifier"] == racer]
                assert put.status in (200, 201), describe([put])
                assert (race.status == 200) != (put.status == 201), describe([race, put])
                (holder,) = await ok(client, "GET", f"{cluster.base(0)}/api/v2/users?identifier={contested}")
                assert holder["lastName"] == created
                assert holder["firstName"] == (racer if race.status == 200 else None)

                expected = {u: u for u in existing}
                for o in renames:
                    if o.status == 200:
                        assert o.body["identifier"] == o.request["json"]["newUserIdentifier"]
                        expected[o.body["firstName"]] = o.body["identifier"]
                final = await users_tagged(client, cluster.base(1), marker)
                assert final == expected, describe(outcomes)
                assert len(set(final.values())) == len(final)

    run(scenario())


# --- deletes racing writes -------------------------------------------------------------------


async def exists(client: httpx2.AsyncClient, base: str, user: str) -> bool:
    return bool(await ok(client, "GET", f"{base}/api/v2/users?identifier={user}"))


def test_deletes_racing_writes_of_the_same_entity_answer_as_some_serial_order(cluster):
    """A user or group deleted on one process at the instant another process writes something
    that refers to it. In either serial order the write answers 2xx or 404, never 5xx, and
    what is left is what that order leaves."""

    async def scenario():
        async with cluster.client() as client:
            base = cluster.base(0)
            channel = f"del-{tag()}"
            await ok(client, "PUT", f"{base}/api/v1/channels", json={"identifier": channel, "name": channel})

            async def case(name: str, first: tuple, second: tuple) -> tuple[Outcome, Outcome, str, str]:
                marker = tag()
                user, group = f"{marker}-u", f"{marker}-g"
                await ok(client, "PUT", f"{base}/api/v2/users", json={"identifier": user})
                await ok(client, "PUT", f"{base}/api/v1/groups", json={"identifier": group, "name": group})
                requests = []
                for i, (method, path, body) in enumerate((first, second)):
                    url = cluster.base(i) + path.format(u=user, g=group, v=f"{marker}-v", w=f"{marker}-w")
                    if body is not None:
                        body = {
                            k: v.format(u=user, v=f"{marker}-v", w=f"{marker}-w") for k, v in body.items()
                        }
                    requests.append(call(client, method, url, **({"json": body} if body else {})))
                a, b = await gather(requests)
                assert_no_server_errors([a, b])
                return a, b, user, marker

            delete_user = ("DELETE", "/api/v2/users/{u}", None)
            delete_group = ("DELETE", "/api/v1/groups/{g}", None)
            for _ in range(8):
                for name, write in (
                    ("user to channel", ("POST", f"/api/v2/channels/{channel}/users/{{u}}", None)),
                    ("user to group", ("POST", "/api/v1/groups/{g}/users/{u}", None)),
                    ("user status", ("PUT", "/api/v2/users/{u}?isActive=false", None)),
                ):
                    deleted, written, user, _ = await case(name, delete_user, write)
                    assert (deleted.status, written.status) in ((200, 200), (200, 404)), (
                        name,
                        describe([deleted, written]),
                    )
                    assert not await exists(client, base, user)

                for name, write in (
                    ("group to channel", ("POST", f"/api/v1/channels/{channel}/groups/{{g}}", None)),
                    ("user to group", ("POST", "/api/v1/groups/{g}/users/{u}", None)),
                ):
                    deleted, written, user, _ = await case(name, delete_group, write)
                    assert (deleted.status, written.status) in ((200, 200), (200, 404)), (
                        name,
                        describe([deleted, written]),
                    )
                    groups = await ok(client, "GET", f"{base}/api/v1/users/{user}/groups")
                    assert groups == []

                # An update of a user being deleted: either it came first (and the user is gone)
                # or the delete did (and the update created the user anew).
                deleted, upserted, user, _ = await case(
                    "upsert", delete_user, ("PUT", "/api/v2/users", {"identifier": "{u}", "firstName": "{v}"})
                )
                outcome = (deleted.status, upserted.status)
                assert outcome in ((200, 200), (200, 201)), describe([deleted, upserted])
                assert await exists(client, base, user) == (upserted.status == 201)

                rename = (
                    "PUT",
                    "/api/v2/users/identityManagement",
                    {"currentUserIdentifier": "{u}", "newUserIdentifier": "{v}"},
                )
                deleted, renamed, user, marker = await case("rename", delete_user, rename)
                outcome = (deleted.status, renamed.status)
                assert outcome in ((200, 404), (404, 200)), describe([deleted, renamed])
                assert not await exists(client, base, user)
                assert await exists(client, base, f"{marker}-v") == (renamed.status == 200)

                # Two renames of one user: the second finds no user of the old identifier.
                other = (
                    "PUT",
                    "/api/v2/users/identityManagement",
                    {"currentUserIdentifier": "{u}", "newUserIdentifier": "{w}"},
                )
                first, second, user, marker = await case("rename twice", rename, other)
                assert sorted([first.status, second.status]) == [200, 404], describe([first, second])
                assert not await exists(client, base, user)
                assert await exists(client, base, f"{marker}-v") == (first.status == 200)
                assert await exists(client, base, f"{marker}-w") == (second.status == 200)

            count = await ok(client, "GET", f"{base}/api/v2/channels/channels/{channel}/members/count")
            assert count == {"learners": 0}

            # A content item deleted while a learner's progress on it is recorded, or while the
            # course is force-completed for the learner: either way the progress goes with it.
            course, learner = f"{channel}-course", f"{channel}-learner"
            await ok(client, "PUT", f"{base}/api/v1/channels", json={"identifier": course, "name": course})
            await ok(client, "PUT", f"{base}/api/v2/users", json={"identifier": learner})
            await ok(client, "POST", f"{base}/api/v2/channels/{course}/users/{learner}")
            items = f"/api/admin/v1/channels/{course}/contentItems"
            for _ in range(8):
                for kind in ("activity", "force"):
                    item = tag()
                    await ok(client, "PUT", f"{base}{items}", json={"identifier": item, "name": item})
                    if kind == "activity":
                        body = {
                            "userIdentifier": learner,
                            "channelIdentifier": course,
                            "itemIdentifier": item,
                        }
                        write = call(
                            client,
                            "POST",
                            f"{cluster.base(1)}/api/admin/v1/activity",
                            json={**body, "completed": True},
                        )
                    else:
                        path = f"/api/v4/channels/forceComplete/channel/{course}/user/{learner}"
                        write = call(client, "POST", f"{cluster.base(1)}{path}")
                    deleted, written = await gather([call(client, "DELETE", f"{base}{items}/{item}"), write])
                    assert_no_server_errors([deleted, written])
                    allowed = ((200, 200), (200, 404)) if kind == "activity" else ((200, 200),)
                    assert (deleted.status, written.status) in allowed, (kind, describe([deleted, written]))
                    (row,) = await ok(client, "GET", f"{base}/api/v1/performance?externalChannelId={course}")
                    assert (row["externalUserId"], row["progress"]) == (learner, 0), row

    run(scenario())


# --- certificate standings -----------------------------------------------------------------------


def test_concurrent_completions_of_one_course_leave_the_learner_certified(cluster):
    """Two items of one course completed at once, one on each process: each write recomputes the
    learner's stored standing, and the one that commits last must have seen the other's progress
    (a standing computed without it would leave him IN_PROGRESS forever)."""
    marker = tag()
    channel, certificate = f"course-{marker}", f"cert-{marker}"
    JSON = {"Content-Type": "application/json"}

    def complete(client, i, user, item):
        body = {"userIdentifier": user, "channelIdentifier": channel, "itemIdentifier": item}
        body["completed"] = True
        return call(client, "POST", f"{cluster.base(i)}/api/admin/v1/activity", json=body)

    async def scenario():
        async with cluster.client() as client:
            base = cluster.base(0)
            await ok(client, "PUT", f"{base}/api/v1/channels", json={"identifier": channel, "name": "Course"})
            for item in ("i1", "i2"):
                body = {"identifier": item, "name": item}
                await ok(client, "PUT", f"{base}/api/admin/v1/channels/{channel}/contentItems", json=body)
            body = {"externalCertificateId": certificate, "name": "Cert", "courseIds": [channel]}
            await ok(client, "PUT", f"{base}/api/admin/v1/certificates", json=body)
            users = [f"learner-{marker}-{n}" for n in range(PAIRED_ROUNDS)]
            for user in users:
                await ok(client, "PUT", f"{base}/api/v2/users", json={"identifier": user})
                await ok(client, "POST", f"{base}/api/v2/channels/{channel}/users/{user}", headers=JSON)
            for user in users:
                outcomes = await gather([complete(client, 0, user, "i1"), complete(client, 1, user, "i2")])
                assert statuses(outcomes) == {200: 2}, describe(outcomes)
            params = {"certificateId": certificate, "scope": "all"}
            found = await ok(client, "GET", f"{base}/api/admin/v1/compliance/summary", params=params)
            states = {state: n for state, n in found["overall"]["states"].items() if n}
            assert states == {"CERTIFIED": len(users)}

    run(scenario())
