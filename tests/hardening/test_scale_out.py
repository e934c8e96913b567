"""Scale-out: two server processes on different ports share one database and one Redis.

Whatever one process hands out (tokens, pagination keys, certificate links) works on the other,
the rate limit is one budget for both, and writes through both add up.
"""

from __future__ import annotations

import asyncio
import time
import uuid

import httpx2
import pytest

from tests.hardening.harness import (
    CLIENT_TIMEOUT,
    Cluster,
    bearer,
    call,
    describe,
    gather,
    get_token,
    run,
    start_cluster,
    statuses,
)


def tag() -> str:
    return uuid.uuid4().hex[:8]


async def ok(client: httpx2.AsyncClient, method: str, url: str, expected=(200, 201), **kwargs):
    outcome = await call(client, method, url, **kwargs)
    assert outcome.status in expected, describe([outcome])
    return outcome.body


def test_a_token_from_one_process_works_on_the_other(shared_cluster: Cluster):
    first, second = shared_cluster.servers
    for issuer, other in ((first, second), (second, first)):
        token = get_token(issuer.url, shared_cluster.deployment)
        response = httpx2.get(
            f"{other.url}/api/v2/users?limit=1", headers=bearer(token), timeout=CLIENT_TIMEOUT
        )
        assert response.status_code == 200, response.text


def test_a_pagination_key_from_one_process_works_on_the_other(shared_cluster: Cluster):
    """Pages of ten (the servers' page size), each fetched from the other process than the last."""
    marker = tag()
    wanted = [f"{marker}-{i:02}" for i in range(35)]

    async def scenario():
        async with shared_cluster.client() as client:
            for user in wanted:
                await ok(
                    client,
                    "PUT",
                    f"{shared_cluster.base(0)}/api/v2/users",
                    json={"identifier": user, "firstName": user},
                )
            seen: list[str] = []
            key = None
            for page in range(1, 5):
                params = {"firstNameSubstring": marker, **({"paginationKey": key} if key else {})}
                body = await ok(client, "GET", f"{shared_cluster.base(page)}/api/v3/users", params=params)
                assert (body["currentPage"], body["totalPages"]) == (page, 4), body
                seen += [u["identifier"] for u in body["items"]]
                key = body["paginationKey"]
            assert key is None
            assert seen == wanted

    run(scenario())


def test_a_certificate_pdf_link_from_one_process_opens_on_the_other(shared_cluster: Cluster):
    marker = tag()
    channel, user, certificate = f"{marker}-course", f"{marker}-learner", f"{marker}-cert"

    async def scenario():
        base = shared_cluster.base(0)
        async with shared_cluster.client() as client:
            await ok(
                client, "PUT", f"{base}/api/v1/channels", json={"identifier": channel, "name": "Forklift"}
            )
            await ok(
                client,
                "PUT",
                f"{base}/api/admin/v1/channels/{channel}/contentItems",
                json={"identifier": "item", "name": "Driving"},
            )
            await ok(
                client,
                "PUT",
                f"{base}/api/v2/users",
                json={"identifier": user, "firstName": "Ana", "lastName": "Souza"},
            )
            await ok(client, "POST", f"{base}/api/v2/channels/{channel}/users/{user}")
            await ok(
                client,
                "PUT",
                f"{base}/api/admin/v1/certificates",
                json={
                    "externalCertificateId": certificate,
                    "name": "Forklift safety",
                    "courseIds": [channel],
                },
            )
            await ok(client, "POST", f"{base}/api/v4/channels/forceComplete/channel/{channel}/user/{user}")
            for issuer, opener in ((0, 1), (1, 0)):
                states = await ok(
                    client, "GET", f"{shared_cluster.base(issuer)}/api/v1/certificates/users/{user}"
                )
                (state,) = [s for s in states if s["externalCertificateId"] == certificate]
                assert state["state"] == "CERTIFIED", state
                link = state["pdfUrl"]
                issuer_url, opener_url = shared_cluster.base(issuer), shared_cluster.base(opener)
                # The link names the public base URL of the process that made it: open it on the other.
                assert link.startswith(f"{issuer_url}/api/v1/certificates/pdf/"), link
                async with httpx2.AsyncClient(timeout=CLIENT_TIMEOUT) as anonymous:
                    response = await anonymous.get(opener_url + link.removeprefix(issuer_url))
                assert response.status_code == 200, response.text
                assert response.headers["content-type"] == "application/pdf"
                assert response.content.startswith(b"%PDF")

    run(scenario())


RATE, BURST = 2, 5


def test_the_rate_limit_is_one_budget_for_both_processes(shared_deployment, servers, redis_url):
    """Four clients hammer both processes for about 1.5 s: together they get no more than the
    burst plus the refill over that time, where two separate limits would let through twice as much."""
    if redis_url is None:
        pytest.skip("no Redis at 127.0.0.1:6379: limits are shared only through Redis")
    deployment = shared_deployment.with_new_client()
    cluster = start_cluster(
        servers, deployment, count=2, redis_url=redis_url, rate_limit=RATE, rate_limit_burst=BURST
    )

    async def hammer(client: httpx2.AsyncClient, i: int, until: float):
        outcomes = []
        while time.monotonic() < until:
            outcomes.append(await call(client, "GET", f"{cluster.base(i)}/api/v2/users/nobody", server=i % 2))
        return outcomes

    async def scenario():
        async with cluster.client() as client:
            until = time.monotonic() + 1.5
            results = await asyncio.gather(*(hammer(client, i, until) for i in range(4)))
        return [o for outcomes in results for o in outcomes]

    outcomes = run(scenario())
    assert set(statuses(outcomes)) <= {404, 429}, describe(o for o in outcomes if o.status not in (404, 429))
    allowed = [o for o in outcomes if o.status != 429]
    span = max(o.started + o.elapsed for o in outcomes) - min(o.started for o in outcomes)
    assert len(allowed) <= BURST + RATE * span + 1, (len(allowed), span, statuses(outcomes))
    # Both processes refused some: each one saw the budget the other had used up.
    assert {o.server for o in outcomes if o.status == 429} == {0, 1}
    refused = next(o for o in outcomes if o.status == 429)
    assert refused.body["error"] == "access_denied"


def test_writes_through_both_processes_add_up(shared_cluster: Cluster):
    marker = tag()

    async def scenario():
        async with shared_cluster.client() as client:
            users = [f"{marker}-{i:03}" for i in range(200)]
            outcomes = await gather(
                call(
                    client,
                    "PUT",
                    f"{shared_cluster.base(i)}/api/v2/users",
                    json={"identifier": u, "firstName": u},
                )
                for i, u in enumerate(users)
            )
            assert statuses(outcomes) == {201: 200}, describe(o for o in outcomes if o.status != 201)
            for i in range(2):
                found = await ok(
                    client,
                    "GET",
                    f"{shared_cluster.base(i)}/api/v2/users?firstNameSubstring={marker}&limit=200",
                )
                assert sorted(u["identifier"] for u in found) == users

            same = f"{marker}-same"
            outcomes = await gather(
                call(client, "PUT", f"{shared_cluster.base(i)}/api/v2/users", json={"identifier": same})
                for i in range(40)
            )
            assert statuses(outcomes) == {201: 1, 200: 39}, describe(outcomes)

    run(scenario())
