"""The console's uploads: a new upload queued as an upload job, its progress, its bad rows."""

from __future__ import annotations

import re

from tests import factories
from tests.uploads.helpers import body, to_csv
from tests.uploads.test_jobs import BAD_USERS, GROUPS, USERS, run_all


def test_an_upload_without_the_csrf_header_is_refused(db, browser, sign_in, account):
    sign_in(account)
    response = browser.post("/console/uploads", json=body(users=USERS))
    assert response.status_code == 403


def test_an_upload_runs_as_a_job_and_its_page_shows_the_counts(
    db, browser, sign_in, context, client, auth, account
):
    csrf = sign_in(account)
    sent = browser.post(
        "/console/uploads", json=body(groups=GROUPS, users=USERS), headers={"X-CSRF-Token": csrf}
    )
    assert sent.status_code == 202, sent.text
    job = sent.json()
    assert browser.get(job["statusUrl"]).json() == {
        "status": "queued",
        "done": 0,
        "total": None,
        "resultStatus": None,
    }
    assert run_all(context) == 1
    assert browser.get(job["statusUrl"]).json() == {
        "status": "succeeded",
        "done": 5,
        "total": 5,
        "resultStatus": 200,
    }
    page = browser.get(job["page"]).text
    api = client.get(f"/api/v1/uploads/org/jobs/{job['jobId']}", headers=auth(account)).json()
    shown = re.findall(r'class="groups">(\d+)<.*?class="users">(\d+)<', page, re.S)
    assert (
        shown[0]
        == (str(api["result"]["created"]["groups"]), str(api["result"]["created"]["users"]))
        == ("2", "3")
    )
    assert job["jobId"][:8] in browser.get("/console/uploads").text


def test_a_refused_upload_lists_every_bad_row(db, browser, sign_in, context, client, auth, account):
    csrf = sign_in(account)
    sent = browser.post("/console/uploads", json=body(users=BAD_USERS), headers={"X-CSRF-Token": csrf}).json()
    run_all(context)
    page = browser.get(sent["page"]).text
    api = client.get(f"/api/v1/uploads/org/jobs/{sent['jobId']}", headers=auth(account)).json()
    assert api["resultStatus"] == 400
    table = page[page.index('id="bad-rows"') :]
    rows = re.findall(r"<tr><td>([^<]*)</td><td>(\d*)</td><td>([^<]*)</td><td>([^<]*)</td></tr>", table)
    assert [(f, int(line), col) for f, line, col, _ in rows] == [
        (e["file"], e["line"], e["column"] or "") for e in api["result"]["errors"]
    ]
    assert len(rows) == 3
    assert "refused: 3 problem(s)" in browser.get("/console/uploads").text


def test_a_check_only_upload_writes_nothing(db, browser, sign_in, context, client, auth, account):
    csrf = sign_in(account)
    sent = browser.post(
        "/console/uploads?validate_only=true",
        json=body(groups=GROUPS, users=USERS),
        headers={"X-CSRF-Token": csrf},
    ).json()
    run_all(context)
    assert "what the upload would do" in browser.get(sent["page"]).text.lower()
    assert client.get("/api/v2/users", headers=auth(account)).json() == []


def test_another_accounts_jobs_are_not_found(db, browser, sign_in, client, auth):
    a, b = factories.make_account(db), factories.make_account(db)
    theirs = client.post(
        "/api/v1/uploads/org",
        params={"async": "true"},
        json=body(users=to_csv(["identifier"], ["x"])),
        headers=auth(b),
    ).json()
    sign_in(a)
    assert browser.get(f"/console/uploads/{theirs['jobId']}").status_code == 404
    assert browser.get(f"/console/uploads/{theirs['jobId']}/status").status_code == 404
    assert theirs["jobId"][:8] not in browser.get("/console/uploads").text
