"""Upload jobs (`?async=true`) and `?validateOnly=true`: what they answer, and that a job answers
what the synchronous upload answers, once, whatever happens to the worker running it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update

from enabley.db.columns import utcnow
from enabley.models import Event, UploadJob, UploadJobPart
from enabley.uploads import jobs
from tests import factories
from tests.uploads.helpers import URL, body, counts, json_headers, snapshot, to_csv

GROUPS = to_csv(["identifier", "name", "parentIdentifier"], ["eu", "Europe", ""], ["fr", "France", "eu"])
USERS = to_csv(
    ["identifier", "email", "firstName", "groups"],
    ["u-1", "ana@example.com", "Ana", "fr"],
    ["u-2", "bo@example.com", "Bo", "eu;fr"],
    ["u-3", "cy@example.com", "Cy", ""],
)
BAD_USERS = to_csv(
    ["identifier", "email", "firstName", "groups"],
    ["u-1", "not an address", "Ana", "fr"],
    ["u-2", "bo@example.com", "Bo", "nowhere"],
    ["u-1", "ana@example.com", "Ana", ""],
)


def submit(client, headers, params: dict[str, str] | None = None, **files: str) -> dict[str, Any]:
    response = client.post(
        URL, params={"async": "true", **(params or {})}, json=body(**files), headers=headers
    )
    assert response.status_code == 202, response.text
    accepted = response.json()
    assert response.headers["Location"] == accepted["statusUrl"]
    return accepted


def status(client, headers, job_id: str) -> dict[str, Any]:
    response = client.get(f"{URL}/jobs/{job_id}", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def run_all(context, now=None) -> int:
    ran = 0
    while jobs.run_upload_jobs(context, now or utcnow()):
        ran += 1
    return ran


def test_async_upload_answers_202_with_a_queued_job(client, headers):
    accepted = submit(client, headers, users=USERS)
    assert set(accepted) == {"jobId", "status", "statusUrl"}
    assert accepted["status"] == "queued"
    assert accepted["statusUrl"] == f"https://lms.example.test/api/v1/uploads/org/jobs/{accepted['jobId']}"
    job = status(client, headers, accepted["jobId"])
    assert job["status"] == "queued"
    assert job["progress"] == {"done": 0, "total": None}
    assert (job["attempts"], job["started"], job["finished"], job["result"]) == (0, None, None, None)


def test_a_job_goes_from_queued_to_running_to_succeeded(client, headers, context, db):
    job_id = submit(client, headers, groups=GROUPS, users=USERS)["jobId"]
    claim = jobs._claim(context.db, utcnow())
    assert claim is not None and claim.job_key == job_id
    running = status(client, headers, job_id)
    assert (running["status"], running["attempts"]) == ("running", 1)
    assert running["started"] is not None and running["finished"] is None
    jobs._run(context.db, claim)
    done = status(client, headers, job_id)
    assert done["status"] == "succeeded"
    assert done["progress"] == {"done": 5, "total": 5}
    assert done["resultStatus"] == 200
    assert done["result"]["created"] == {"groups": 2, "users": 3}
    assert done["finished"] is not None
    # The body is deleted once the job has ended.
    assert db.scalar(select(func.count()).select_from(UploadJobPart)) == 0


@pytest.mark.parametrize(
    ("files", "expected_status"),
    [({"groups": GROUPS, "users": USERS}, 200), ({"groups": GROUPS, "users": BAD_USERS}, 400)],
    ids=["good rows", "bad rows"],
)
def test_the_result_is_the_synchronous_answer(client, auth, db, context, files, expected_status):
    sync_headers = auth(factories.make_account(db))
    job_headers = auth(factories.make_account(db))
    sync = client.post(URL, json=body(**files), headers=sync_headers)
    assert sync.status_code == expected_status
    job_id = submit(client, job_headers, **files)["jobId"]
    assert run_all(context) == 1
    job = status(client, job_headers, job_id)
    assert job["status"] == ("succeeded" if expected_status == 200 else "failed")
    assert (job["resultStatus"], job["result"]) == (sync.status_code, sync.json())
    assert job["progress"] == {"done": 5, "total": 5}


def test_a_malformed_body_fails_the_job_with_the_synchronous_answer(client, headers, context):
    raw = b'{"files": [{"fileName": "users.csv", "content": "identifier\\nu-1\\n"}'
    sync = client.post(URL, content=raw, headers=json_headers(headers))
    response = client.post(URL, params={"async": "true"}, content=raw, headers=json_headers(headers))
    assert (sync.status_code, response.status_code) == (400, 202)
    run_all(context)
    job = status(client, headers, response.json()["jobId"])
    assert (job["status"], job["resultStatus"], job["result"]) == ("failed", 400, sync.json())


def test_validate_only_writes_nothing_and_answers_what_the_upload_would(
    client, headers, account, db, context
):
    before = snapshot(db, account)
    checked = client.post(
        URL, params={"validateOnly": "true"}, json=body(groups=GROUPS, users=USERS), headers=headers
    )
    assert checked.status_code == 200, checked.text
    assert checked.json() == {"filesProcessed": 2, **counts(created=(2, 3))}
    job_id = submit(client, headers, {"validateOnly": "true"}, groups=GROUPS, users=USERS)["jobId"]
    run_all(context)
    job = status(client, headers, job_id)
    assert (job["status"], job["validateOnly"], job["result"]) == ("succeeded", True, checked.json())
    assert snapshot(db, account) == before
    applied = client.post(URL, json=body(groups=GROUPS, users=USERS), headers=headers)
    assert applied.json() == checked.json()


def test_validate_only_reports_every_bad_row(client, headers, account, db):
    before = snapshot(db, account)
    sync = client.post(URL, json=body(groups=GROUPS, users=BAD_USERS), headers=headers)
    checked = client.post(
        URL, params={"validateOnly": "true"}, json=body(groups=GROUPS, users=BAD_USERS), headers=headers
    )
    assert (checked.status_code, checked.json()) == (400, sync.json())
    assert len(checked.json()["errors"]) == 3
    assert snapshot(db, account) == before


def test_a_job_left_by_a_killed_worker_runs_again_once_its_lease_ends(client, headers, account, db, context):
    job_id = submit(client, headers, groups=GROUPS, users=USERS)["jobId"]
    now = utcnow()
    lost = jobs._claim(context.db, now)  # a worker claims it, then dies without a word
    assert lost is not None
    assert jobs.run_upload_jobs(context, now + timedelta(seconds=1)) == 0  # its lease holds
    later = now + jobs.LEASE[context.db.dialect] + timedelta(seconds=1)
    assert jobs.run_upload_jobs(context, later) == 1
    job = status(client, headers, job_id)
    assert (job["status"], job["attempts"]) == ("succeeded", 2)
    assert job["result"]["created"] == {"groups": 2, "users": 3}
    applied = snapshot(db, account)
    # The first worker was only frozen: when it wakes and runs the job, nothing is applied twice.
    jobs._run(context.db, lost)
    assert status(client, headers, job_id) == job
    assert snapshot(db, account) == applied


def test_a_job_whose_workers_keep_dying_ends_failed(client, headers, context):
    job_id = submit(client, headers, users=USERS)["jobId"]
    now = utcnow()
    for attempt in range(jobs.MAX_ATTEMPTS):
        assert jobs._claim(context.db, now + jobs.LEASE[context.db.dialect] * 2 * attempt) is not None
    assert jobs.run_upload_jobs(context, now + jobs.LEASE[context.db.dialect] * 2 * jobs.MAX_ATTEMPTS) == 1
    job = status(client, headers, job_id)
    assert (job["status"], job["resultStatus"], job["result"]["error"]) == ("failed", 500, "general_error")


def test_progress_is_counted_as_rows_are_checked(client, headers, context, monkeypatch):
    monkeypatch.setattr("enabley.uploads.csvfiles.COUNT_EVERY", 1)
    seen: list[tuple[int, int]] = []
    record = jobs.LIVE.set
    monkeypatch.setattr(
        jobs.LIVE, "set", lambda job, done, total: (seen.append((done, total)), record(job, done, total))
    )
    submit(client, headers, groups=GROUPS, users=USERS)
    run_all(context)
    assert seen == [(0, 5), (1, 5), (2, 5), (3, 5), (4, 5), (5, 5)]


def test_the_job_of_another_account_is_not_found(client, headers, auth, db):
    job_id = submit(client, headers, users=USERS)["jobId"]
    other = auth(factories.make_account(db))
    response = client.get(f"{URL}/jobs/{job_id}", headers=other)
    assert (response.status_code, response.json()["error"]) == (404, "not_found")
    assert client.get(f"{URL}/jobs/nothing-here", headers=headers).status_code == 404


def test_ended_jobs_are_purged_after_a_week(client, headers, db, context):
    old, recent, queued = (submit(client, headers, groups=GROUPS, users=USERS)["jobId"] for _ in range(3))
    assert jobs.run_upload_jobs(context, utcnow()) == 1
    assert jobs.run_upload_jobs(context, utcnow()) == 1
    db.execute(update(UploadJob).where(UploadJob.job_key == old).values(finished_at=utcnow() - jobs.KEEP * 2))
    assert jobs.purge_upload_jobs(context, utcnow()) == 1
    assert client.get(f"{URL}/jobs/{old}", headers=headers).status_code == 404
    assert status(client, headers, recent)["status"] == "succeeded"
    assert status(client, headers, queued)["status"] == "queued"


def test_the_end_of_a_job_is_an_event_in_its_transaction(client, headers, account, db, context):
    good = submit(client, headers, groups=GROUPS, users=USERS)["jobId"]
    bad = submit(client, headers, users=BAD_USERS)["jobId"]
    run_all(context)
    events = db.execute(
        select(Event.type, Event.data)
        .where(Event.account_id == account.id, Event.type.like("upload.%"))
        .order_by(Event.id)
    ).all()
    assert [(type_, data["jobId"], data["resultStatus"]) for type_, data in events] == [
        ("upload.completed", good, 200),
        ("upload.failed", bad, 400),
    ]
    assert events[0].data["result"] == status(client, headers, good)["result"]


def test_a_worker_runs_one_job_at_a_time_on_a_thread_of_its_own(client, headers, context):
    first, second = (submit(client, headers, groups=GROUPS, users=USERS)["jobId"] for _ in range(2))
    runner = jobs.BackgroundUploads()
    assert runner(context, utcnow()) == 1
    running = runner._running
    assert running is not None
    assert runner(context, utcnow()) == 0 or not running.is_alive()
    running.join(timeout=60)
    assert status(client, headers, first)["status"] == "succeeded"
    assert runner(context, utcnow()) == 1
    assert runner._running is not None
    runner._running.join(timeout=60)
    assert status(client, headers, second)["status"] == "succeeded"
    assert runner(context, utcnow()) == 0
