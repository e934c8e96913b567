"""The console in a real headless Chromium (Debian's, driven by Playwright): what a person sees.

One server (uvicorn in a thread, on a SQLite file) and one browser for the module; each test opens
its own browser context (its own cookies). Every page is checked by axe-core for serious and
critical accessibility violations. ``ENABLEY_UPDATE_SCREENSHOTS=1`` rewrites docs/console/*.png.
"""

from __future__ import annotations

import csv
import io
import os
import re
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx2
import pytest
import uvicorn
from sqlalchemy import select

from enabley import migrate
from enabley.certificates import service as certificates_service
from enabley.certificates.schemas import CertificateData, CertificateExpiration
from enabley.compliance import standings
from enabley.console import service as console_service
from enabley.db.columns import utcnow
from enabley.db.database import Database
from enabley.db.engine import make_engine
from enabley.main import create_app
from enabley.models import Certificate, ItemProgress, UserCertificate
from enabley.scim import tokens as scim_tokens
from enabley.security import ensure_server_keys
from enabley.uploads import jobs
from tests import factories
from tests.conftest import settings_for
from tests.console.conftest import make_delivery, make_webhook

playwright_api = pytest.importorskip("playwright.sync_api")

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SHOTS = ROOT / "docs" / "console"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]

pytestmark = pytest.mark.skipif(
    not (Path(CHROMIUM).exists() and AXE.exists()),
    reason="needs Debian's chromium and node_modules/axe-core: `make test` installs both",
)


@dataclass
class Served:
    base: str
    jobs_allowed: threading.Event
    email: str
    password: str
    rival_email: str
    rival_password: str
    api: httpx2.Client


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _seed(db: Database) -> dict[str, str]:
    """Account acme: a group tree, four users, a channel with three learners (one done); and a
    rival account whose console user must see none of it."""
    with db.session(write=True) as s:
        acme = factories.make_account(s, "acme")
        company = factories.make_group(s, acme, "company")
        sales = factories.make_group(s, acme, "sales", parent=company)
        support = factories.make_group(s, acme, "support", parent=company)
        users = {
            name: factories.make_user(
                s, acme, name, first_name=name.title(), first_name_key=name, email=f"{name}@acme.test"
            )
            for name in ("ana", "anabel", "bruno", "carla")
        }
        for name, group in (("ana", sales), ("bruno", sales), ("carla", support)):
            factories.add_to_group(s, users[name].id, group)
        course = factories.make_channel(s, acme, "onboarding", name="Onboarding")
        item = factories.make_channel_item(s, course, "intro")
        for name in ("ana", "bruno"):
            factories.enrol_user(s, course, users[name])
        factories.assign_channel_group(s, course, support)
        done = datetime.now(UTC) - timedelta(days=30)
        s.add(
            ItemProgress(
                user_id=users["ana"].id,
                item_id=item.id,
                channel_id=course.id,
                completed=True,
                completed_at=done,
                updated_at=done,
            )
        )
        # Safety: earned by completing the onboarding, valid 3 months, required for three of them.
        certificates_service.upsert_certificate(
            s,
            acme,
            CertificateData(
                external_certificate_id="safety",
                name="Safety",
                course_ids=["onboarding"],
                expiration=CertificateExpiration(duration=3, period="MONTH"),
            ),
        )
        safety = s.scalar(select(Certificate.id).where(Certificate.external_id == "safety"))
        for name in ("ana", "bruno", "carla"):
            s.add(UserCertificate(user_id=users[name].id, certificate_id=safety, is_required=True))
        s.flush()
        standings.refresh_account(s, acme)  # the records above were written around the services
        hook = make_webhook(s, acme, "crm")
        make_delivery(s, hook, "dlv_ok", "delivered")
        make_delivery(s, hook, "dlv_down", "failed")
        scim_tokens.create_token(s, "acme", None, None)
        key, secret = factories.make_client(s, acme)
        _u, password = console_service.create_user(s, "acme", "manager@acme.test", None)
        rival = factories.make_account(s, "rival")
        factories.make_user(s, rival, "rival-only", first_name="Rivaldo")
        _r, rival_password = console_service.create_user(s, "rival", "boss@rival.test", None)
    return {"key": key, "secret": secret, "password": password, "rival_password": rival_password}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    url = f"sqlite:///{tmp_path_factory.mktemp('console')}/console.db"
    migrate.upgrade(url)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    settings = settings_for(url, public_base_url=base, access_log=False)
    seeding = Database(make_engine(url, pool_size=1))
    with seeding.session(write=True) as s:
        ensure_server_keys(s, settings)
    seeded = _seed(seeding)
    seeding.dispose()
    app = create_app(settings)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    # The worker's part of upload jobs, in this process (as `enabley serve` runs it on SQLite), held
    # back until a test lets it run.
    allowed, stop = threading.Event(), threading.Event()

    def work() -> None:
        while not stop.wait(0.1):
            if allowed.is_set():
                jobs.run_upload_jobs(app.state.context, utcnow())

    allowed.set()
    worker = threading.Thread(target=work, daemon=True)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    worker.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    token = httpx2.post(
        f"{base}/api/v1/token", params={"clientKey": seeded["key"], "secret": seeded["secret"]}
    )
    api = httpx2.Client(base_url=base, headers={"Authorization": f"Bearer {token.json()['access_token']}"})
    try:
        yield Served(
            base,
            allowed,
            "manager@acme.test",
            seeded["password"],
            "boss@rival.test",
            seeded["rival_password"],
            api,
        )
    finally:
        api.close()
        stop.set()
        server.should_exit = True
        thread.join(10)
        worker.join(10)


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium: Any, served: Served) -> Iterator[Any]:
    # The console's CSP forbids inline scripts: axe-core is injected past it, as a test tool.
    context = chromium.new_context(
        base_url=served.base, bypass_csp=True, viewport={"width": 1200, "height": 900}
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def sign_in(page: Any, email: str, password: str) -> None:
    page.goto("/console")
    assert "/console/login" in page.url
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/console")


def check_page(page: Any, name: str) -> None:
    """axe-core finds no serious or critical violation; the screenshot is refreshed when asked."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    serious = [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert serious == [], f"{name}: {serious}"
    if os.environ.get("ENABLEY_UPDATE_SCREENSHOTS") == "1":
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_sign_in_see_every_page_with_the_api_numbers_and_sign_out(page, served):
    sign_in(page, served.email, served.password)
    api = served.api
    users = api.get("/api/v2/users", params={"limit": 200}).json()
    groups = api.get("/api/v1/groups/list").json()
    channels = api.get("/api/v1/channels").json()
    assert page.locator("#count-users").inner_text() == str(len(users)) == "4"
    assert page.locator("#count-groups").inner_text() == str(len(groups)) == "3"
    assert page.locator("#count-channels").inner_text() == str(len(channels)) == "1"
    # Counted after the page is shown, by its script.
    page.locator("#count-learners").filter(has_text=re.compile(r"^\d+$")).wait_for()
    assert page.locator("#count-learners").inner_text() == "3"
    check_page(page, "overview")

    # Organisation: the tree's member counts, a search by keyboard, the API's answer.
    page.get_by_role("link", name="Organisation").click()
    page.locator('.members[data-group="sales"]').filter(has_text=re.compile(r"^\d+$")).wait_for()
    assert page.locator('.members[data-group="sales"]').inner_text() == "2"
    assert page.locator('.members[data-group="support"]').inner_text() == "1"
    page.get_by_label("First name contains").fill("ana")
    page.get_by_label("First name contains").press("Enter")
    page.wait_for_url("**firstNameSubstring=ana**")
    found = page.locator("table a[href^='/console/users/']").all_inner_texts()
    expected = api.get("/api/v3/users", params={"firstNameSubstring": "ana"}).json()["items"]
    assert found == [u["identifier"] for u in expected] == ["ana", "anabel"]
    check_page(page, "organisation")

    # A user's page: groups, channels with progress.
    page.get_by_role("link", name="ana", exact=True).click()
    assert page.locator("#user-groups").inner_text().strip() == "sales"
    assert "100 %" in page.locator("#user-channels").inner_text()
    check_page(page, "user")

    # A group's members.
    page.goto("/console/groups/sales")
    assert page.locator("#member-count").inner_text() == "2"
    check_page(page, "group")

    # Channels: the learner count and the progress chart, both against the API.
    page.get_by_role("link", name="Channels").click()
    page.locator("td.learners").filter(has_text=re.compile(r"^\d+$")).wait_for()
    assert page.locator("td.learners").inner_text() == "3"
    check_page(page, "channels")
    page.get_by_role("link", name="Onboarding").click()
    bars = {
        rect.get_attribute("data-label"): int(rect.get_attribute("data-value") or -1)
        for rect in page.locator("#progress-chart rect").all()
    }
    rows = api.get("/api/v2/performance", params={"channelIdentifier": "onboarding"}).json()["items"]
    assert bars["0 %"] == sum(r["progress"] == 0 for r in rows) == 2
    assert bars["100 %"] == sum(r["progress"] == 100 for r in rows) == 1
    assert sum(bars.values()) == len(rows) == 3
    check_page(page, "channel")

    # SCIM tokens, as the operator's CLI lists them.
    page.get_by_role("link", name="SCIM tokens").click()
    assert page.locator("#scim-tokens tbody tr .state").all_inner_texts() == ["active"]
    check_page(page, "scim")

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/console/login")
    page.goto("/console/channels")
    assert "/console/login" in page.url, "signed out on the server: the pages send back to the login"


def bars(page: Any, chart: str) -> dict[str, int]:
    return {
        str(rect.get_attribute("data-label")): int(rect.get_attribute("data-value") or -1)
        for rect in page.locator(f"#{chart} rect").all()
    }


def test_compliance_charts_drill_down_and_csv(page, served, tmp_path):
    sign_in(page, served.email, served.password)
    page.locator("#headline-non-compliant").filter(has_text=re.compile(r"^\d+$")).wait_for()
    assert page.locator("#headline-non-compliant").inner_text() == "2"
    page.get_by_role("navigation").get_by_role("link", name="Compliance").click()
    page.get_by_label("Certificate", exact=True).select_option(label="Safety")
    page.get_by_label("Group", exact=True).select_option(value="company")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url("**groupIdentifier=company**")
    params = {"certificateId": "safety", "groupIdentifier": "company"}
    summary = served.api.get("/api/admin/v1/compliance/summary", params=params).json()
    assert page.locator("#non-compliant").inner_text() == str(summary["overall"]["nonCompliant"]) == "2"
    states = bars(page, "states-chart")
    assert states == summary["overall"]["states"]
    by_group = {g["groupIdentifier"]: g["counts"] for g in summary["groups"]}
    for group in page.locator("#groups-chart g.row").all():
        name = str(group.get_attribute("data-label"))
        parts = {
            str(r.get_attribute("data-key")): int(r.get_attribute("data-value") or -1)
            for r in group.locator("rect").all()
        }
        counts = by_group[name]
        assert parts == {
            "compliant": counts["compliant"] - counts["expiring"],
            "expiring": counts["expiring"],
            "non_compliant": counts["nonCompliant"],
        }
    # ana's certification ends within the 12 weeks: the week the API's date falls in.
    ending = served.api.get(
        "/api/admin/v1/compliance/learners",
        params={"certificateId": "safety", "status": "EXPIRING", "withinDays": 84},
    ).json()["items"]
    assert [i["userIdentifier"] for i in ending] == ["ana"]
    due = datetime.fromisoformat(ending[0]["expirationDate"].replace("Z", "+00:00"))
    week = (due - datetime.now(UTC)).days // 7 + 1
    assert {k: v for k, v in bars(page, "weeks-chart").items() if v} == {f"week {week}": 1}
    check_page(page, "compliance")

    page.locator("#non-compliant a").click()
    page.wait_for_url("**/console/compliance/learners?**")
    listed = served.api.get(
        "/api/admin/v1/compliance/learners", params={**params, "status": "NON_COMPLIANT"}
    ).json()["items"]
    shown = page.locator("#compliance-learners tbody tr td:first-child").all_inner_texts()
    assert shown == [i["userIdentifier"] for i in listed] == ["bruno", "carla"]
    check_page(page, "compliance-learners")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download all as CSV").click()
    saved = tmp_path / "compliance.csv"
    download.value.save_as(saved)
    rows = list(csv.DictReader(io.StringIO(saved.read_text())))
    assert [(r["userIdentifier"], r["status"]) for r in rows] == [
        (i["userIdentifier"], i["status"]) for i in listed
    ]


def test_a_failed_delivery_is_retried_from_the_webhooks_page(page, served):
    sign_in(page, served.email, served.password)
    assert page.locator("#deliveries-failed").inner_text() == "1"
    page.get_by_role("link", name="Webhooks", exact=True).click()
    assert page.locator("#endpoints td.failed").inner_text() == "1"
    check_page(page, "webhooks")
    page.get_by_role("link", name="crm").click()
    row = page.locator('tr[data-delivery="dlv_down"]')
    assert row.locator(".status").inner_text() == "failed"
    row.get_by_role("button", name="Retry delivery dlv_down").click()
    page.wait_for_url("**retried=dlv_down")
    assert page.get_by_role("status").inner_text() == "Delivery dlv_down is queued again."
    assert page.locator('tr[data-delivery="dlv_down"] .status').inner_text() == "pending"
    api = served.api.get("/api/admin/v1/webhooks/crm/deliveries").json()["items"]
    assert {d["id"]: d["status"] for d in api} == {"dlv_ok": "delivered", "dlv_down": "pending"}
    check_page(page, "webhook")


def test_an_upload_with_its_progress_then_one_with_its_bad_rows(page, served, tmp_path):
    groups = tmp_path / "groups.csv"
    groups.write_text("identifier,name,parentIdentifier\nemea,EMEA,\nfrance,France,emea\n")
    users = tmp_path / "users.csv"
    users.write_text(
        "identifier,email,firstName,groups\nnew-1,n1@example.com,Nia,france\nnew-2,n2@example.com,Noa,emea\n"
    )
    bad = tmp_path / "bad" / "users.csv"
    bad.parent.mkdir()
    bad.write_text(
        "identifier,email,firstName,groups\nx-1,not an address,Xi,\nx-2,x2@example.com,Xu,nowhere\n"
    )
    sign_in(page, served.email, served.password)
    page.get_by_role("link", name="Uploads").click()
    check_page(page, "uploads")

    served.jobs_allowed.clear()
    page.get_by_label("CSV files").set_input_files([str(groups), str(users)])
    page.get_by_role("button", name="Upload").click()
    status = page.locator("#upload-count")
    status.filter(has_text="Waiting for a worker (queued)").wait_for()
    served.jobs_allowed.set()
    page.wait_for_url("**/console/uploads/*")
    job_id = page.url.rsplit("/", 1)[1]
    api = served.api.get(f"/api/v1/uploads/org/jobs/{job_id}").json()
    assert page.locator("#job-status").inner_text() == api["status"] == "succeeded", api["result"]
    assert (
        page.locator("#job-rows").inner_text()
        == "4 of 4"
        == f"{api['progress']['done']} of {api['progress']['total']}"
    )
    assert (
        page.locator("#counts td.users").first.inner_text() == str(api["result"]["created"]["users"]) == "2"
    )
    check_page(page, "upload")

    page.get_by_role("navigation").get_by_role("link", name="Uploads").click()
    page.get_by_label("CSV files").set_input_files(str(bad))
    page.get_by_role("button", name="Upload").click()
    page.wait_for_url(re.compile(r".*/console/uploads/(?!" + job_id + r")\w+$"))
    refused = served.api.get(f"/api/v1/uploads/org/jobs/{page.url.rsplit('/', 1)[1]}").json()
    rows = page.locator("#bad-rows tbody tr").all_inner_texts()
    assert len(rows) == len(refused["result"]["errors"]) == 2
    for row, error in zip(rows, refused["result"]["errors"], strict=True):
        assert row.split("\t")[:2] == [error["file"], str(error["line"])]
    check_page(page, "upload-refused")


def test_a_post_without_the_csrf_token_is_refused(page, served):
    sign_in(page, served.email, served.password)
    status = page.evaluate(
        """async () => (await fetch('/console/logout', {method: 'POST',
             headers: {'Content-Type': 'application/x-www-form-urlencoded'}, body: 'x=1'})).status"""
    )
    assert status == 403
    page.goto("/console")
    assert page.url.endswith("/console"), "still signed in"


def test_the_login_form_says_what_went_wrong(page, served):
    page.goto("/console/login")
    page.get_by_label("Email").fill(served.email)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    assert page.get_by_role("alert").inner_text() == "Wrong email or password"
    check_page(page, "login")


def test_a_console_user_of_another_account_sees_none_of_it(page, served):
    sign_in(page, served.rival_email, served.rival_password)
    assert page.locator("#count-users").inner_text() == "1"
    assert page.locator("#count-groups").inner_text() == "0"
    page.goto("/console/organisation")
    assert "ana" not in page.locator("main").inner_text().lower().replace("rivaldo", "")
    for path in ("/console/users/ana", "/console/groups/sales", "/console/channels/onboarding"):
        response = page.goto(path)
        assert response is not None and response.status == 404, path
