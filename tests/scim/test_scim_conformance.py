"""scim2-tester, the python-scim project's conformance checker, against the app: every check passes."""

from __future__ import annotations

from fastapi.testclient import TestClient
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_tester import Status, check_server

PASSING = {Status.SUCCESS, Status.COMPLIANT, Status.ACCEPTABLE}


def test_every_scim2_tester_check_passes(app_with, scim):
    # The checker sends its hundreds of requests as fast as the app answers: throttling them (the
    # token's budget, ENABLEY_RATE_LIMIT) is not what it checks.
    app = app_with(rate_limit=0).app
    # The links the server writes start with its public base URL: the checker's client calls it.
    base_url = app.state.context.base_url + "/scim/v2"
    results = check_server(SyncSCIMClient(TestClient(app, base_url=base_url, headers=scim)))
    assert len(results) > 50, "the checker ran its resource checks, not only discovery"
    failed = [
        f"{r.title} [{r.resource_type}]: {r.status.name} {r.reason}"
        for r in results
        if r.status not in PASSING
    ]
    assert failed == [], "\n".join(failed)
