"""The organisation bulk upload through the SDK and `enabley remote upload`, against the real app."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from enabley.cli import app, remote
from enabley.client import InvalidRequest
from enabley.db.columns import utcnow
from enabley.uploads import jobs

GROUPS = "identifier,name,parentIdentifier,subAccountName\nemea,EMEA,,EU\niberia,Iberia,emea,EU\n"
USERS = "identifier,email,firstName,subAccountName,groups\nana,ana@example.com,Ana,EU,iberia\n"


def test_upload_creates_then_leaves_unchanged(sdk):
    result = sdk.uploads.org([("groups.csv", GROUPS), ("users.csv", USERS)])
    assert result.files_processed == 2
    assert result.created.by_kind() == {"groups": 2, "users": 1}
    assert [g.identifier for g in sdk.groups.of_user("ana")] == ["iberia"]

    again = sdk.uploads.org([("groups.csv", GROUPS), ("users.csv", USERS)])
    assert again.created.by_kind() == {"groups": 0, "users": 0}
    assert again.unchanged.by_kind() == {"groups": 2, "users": 1}


def test_upload_reads_files_from_paths(sdk, tmp_path):
    (tmp_path / "users.csv").write_text(USERS.replace(",EU,iberia", ",EU,"))
    assert sdk.uploads.org([tmp_path / "users.csv"]).created.users == 1
    assert sdk.users.get("ana").first_name == "Ana"


def test_a_refused_upload_lists_each_bad_row(sdk):
    bad = "identifier,email\nbo,not-an-email\nbo,bo@example.com\n"
    with pytest.raises(InvalidRequest) as caught:
        sdk.uploads.org([("users.csv", bad)])
    assert [(e.file, e.line, e.column) for e in caught.value.errors] == [
        ("users.csv", 2, "email"),
        ("users.csv", 3, "identifier"),
    ]
    assert caught.value.more_errors == 0
    assert sdk.users.find() == []


def test_remote_upload_against_the_application(client, credentials, tmp_path):
    (tmp_path / "groups.csv").write_text(GROUPS)
    (tmp_path / "users.csv").write_text("identifier,email\nbo,not-an-email\n")
    env = {
        "ENABLEY_URL": "http://testserver",
        "ENABLEY_CLIENT_KEY": credentials[0],
        "ENABLEY_SECRET": credentials[1],
    }
    with remote.send_through(client):
        refused = CliRunner().invoke(
            app, ["remote", "upload", *(str(tmp_path / f) for f in ("groups.csv", "users.csv"))], env=env
        )
        (tmp_path / "users.csv").write_text(USERS)
        done = CliRunner().invoke(
            app, ["remote", "upload", str(tmp_path / "groups.csv"), str(tmp_path / "users.csv")], env=env
        )
    assert refused.exit_code == 1
    assert refused.stderr.splitlines()[0].startswith("users.csv: line 2, email: ")
    assert refused.stderr.splitlines()[-1].startswith("error: upload refused: 1 bad row")
    assert done.exit_code == 0, done.output
    assert "Files processed: 2" in done.stdout
    assert ["│", "groups", "│", "2", "│", "0", "│", "0", "│"] in [
        line.split() for line in done.stdout.splitlines()
    ]


def test_upload_as_a_job_answers_what_the_upload_answers(sdk, context):
    job = sdk.uploads.submit([("groups.csv", GROUPS), ("users.csv", USERS)])
    assert (job.status, sdk.uploads.job(job.job_id).status) == ("queued", "queued")
    assert jobs.run_upload_jobs(context, utcnow()) == 1
    result = sdk.uploads.wait(job.job_id)
    assert result.created.by_kind() == {"groups": 2, "users": 1}
    assert sdk.uploads.job(job.job_id).progress.done == 3


def test_a_refused_job_raises_what_the_upload_raises(sdk, context):
    job = sdk.uploads.submit([("users.csv", "identifier,email\nbo,not-an-email\n")])
    jobs.run_upload_jobs(context, utcnow())
    with pytest.raises(InvalidRequest) as caught:
        sdk.uploads.wait(job.job_id)
    assert [(e.file, e.line, e.column) for e in caught.value.errors] == [("users.csv", 2, "email")]


def test_validate_writes_nothing(sdk):
    assert sdk.uploads.validate([("groups.csv", GROUPS)]).created.by_kind() == {"groups": 2, "users": 0}
    assert sdk.groups.list() == []


def test_remote_upload_async_polls_the_job_then_prints_the_summary(client, credentials, context, tmp_path):
    (tmp_path / "groups.csv").write_text(GROUPS)
    (tmp_path / "users.csv").write_text(USERS)
    env = {
        "ENABLEY_URL": "http://testserver",
        "ENABLEY_CLIENT_KEY": credentials[0],
        "ENABLEY_SECRET": credentials[1],
    }
    polls: list[float] = []

    def worker_runs(seconds: float) -> None:
        # Where the CLI waits between two polls, a worker runs the job.
        polls.append(seconds)
        jobs.run_upload_jobs(context, utcnow())

    paths = [str(tmp_path / "groups.csv"), str(tmp_path / "users.csv")]
    with remote.send_through(client, sleep=worker_runs):
        checked = CliRunner().invoke(app, ["remote", "upload", "--async", "--validate-only", *paths], env=env)
        done = CliRunner().invoke(
            app, ["remote", "upload", "--async", "--poll-every", "0.5", *paths], env=env
        )
    assert checked.exit_code == 0, checked.output
    assert "nothing was written" in checked.stdout
    assert done.exit_code == 0, done.output
    assert polls == [1.0, 0.5]
    assert "Files processed: 2" in done.stdout
    assert ["│", "groups", "│", "2", "│", "0", "│", "0", "│"] in [
        line.split() for line in done.stdout.splitlines()
    ]
    assert ["│", "users", "│", "1", "│", "0", "│", "0", "│"] in [
        line.split() for line in done.stdout.splitlines()
    ]
