"""The console's compliance pages against the compliance API: counts, charts, drill-down, CSV."""

from __future__ import annotations

import csv
import io
import re

import pytest

from tests import factories
from tests.compliance import world


@pytest.fixture
def built(db, client, account, headers):
    return world.build(db, client, account, headers)


def api(client, headers, path, **params):
    response = client.get(f"/api/admin/v1/compliance/{path}", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def bars(page: str, chart: str) -> dict[str, int]:
    svg = page[page.index(f'id="{chart}"') :]
    svg = svg[: svg.index("</svg>")]
    return {label: int(value) for label, value in re.findall(r'data-label="([^"]+)" data-value="(\d+)"', svg)}


def test_the_page_shows_the_summary_and_its_charts(built, browser, sign_in, client, headers, account):
    sign_in(account)
    page = browser.get(
        "/console/compliance", params={"certificateId": "cert-1", "groupIdentifier": "org"}
    ).text
    summary = api(client, headers, "summary", certificateId="cert-1", groupIdentifier="org")
    overall = summary["overall"]
    for tile, key in (("in-scope", "inScope"), ("compliant", "compliant"), ("non-compliant", "nonCompliant")):
        assert re.search(rf'id="{tile}"><a [^>]+>{overall[key]}</a>', page), tile
    states = bars(page, "states-chart")
    assert states == overall["states"]
    rows = dict(re.findall(r'<tr data-group="([^"]+)">.*?class="compliant">(\d+)<', page, re.S))
    assert rows == {g["groupIdentifier"]: str(g["counts"]["compliant"]) for g in summary["groups"]}
    assert set(rows) == {"north", "south"}
    picker = page[
        page.index('id="groupIdentifier"') : page.index("</select>", page.index('id="groupIdentifier"'))
    ]
    assert re.findall(r'<option value="([^"]+)"', picker) == ["org", "north", "north-team", "south", "other"]


def test_expirations_over_the_next_twelve_weeks(built, browser, sign_in, account):
    sign_in(account)
    page = browser.get("/console/compliance", params={"certificateId": "cert-1"}).text
    weeks = bars(page, "weeks-chart")
    assert len(weeks) == 12
    # bob's certification ends in 15 days (week 3); ana's in 265 days, past the 12 weeks.
    assert {week: n for week, n in weeks.items() if n} == {"week 3": 1}


def test_the_drill_down_lists_the_apis_learners_and_the_csv_holds_them(
    built, browser, sign_in, client, headers, account
):
    sign_in(account)
    page = browser.get(
        "/console/compliance", params={"certificateId": "cert-1", "groupIdentifier": "org"}
    ).text
    link = re.search(r'<tr data-group="south">.*?class="non-compliant"><a href="([^"]+)"', page, re.S)
    assert link is not None
    listing = browser.get(link.group(1).replace("&amp;", "&")).text
    expected = api(
        client, headers, "learners", certificateId="cert-1", groupIdentifier="south", status="NON_COMPLIANT"
    )["items"]
    shown = re.findall(r'<td><a href="/console/users/[^"]+">([^<]+)</a></td>', listing)
    assert shown == [item["userIdentifier"] for item in expected] == ["cid", "dee"]
    csv_link = re.search(r'id="csv" href="([^"]+)"', listing)
    assert csv_link is not None
    answer = browser.get(csv_link.group(1).replace("&amp;", "&"))
    assert answer.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert [(r["userIdentifier"], r["state"], r["status"]) for r in rows] == [
        (i["userIdentifier"], i["state"], i["status"]) for i in expected
    ]


def test_the_csv_follows_every_page(built, browser, sign_in, client, headers, account, page_size):
    page_size(2)
    sign_in(account)
    answer = browser.get(
        "/console/compliance/learners.csv", params={"certificateId": "cert-1", "status": "ALL"}
    )
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert len(rows) == api(client, headers, "summary", certificateId="cert-1")["overall"]["inScope"] == 6


def test_the_overview_headline_is_the_apis_summary(built, browser, sign_in, client, headers, account):
    sign_in(account)
    page = browser.get("/console?wait=1").text
    overall = api(client, headers, "summary")["overall"]
    figures = browser.get("/console/figures").json()
    assert (figures["compliant"], figures["nonCompliant"]) == (overall["compliant"], overall["nonCompliant"])
    assert re.search(
        rf'id="headline-non-compliant" data-figure="nonCompliant">{overall["nonCompliant"]}<', page
    )
    assert re.search(rf'id="headline-compliant" data-figure="compliant">{overall["compliant"]}<', page)


def test_another_accounts_certificate_and_group_are_not_found(db, browser, sign_in, built):
    other = factories.make_account(db)
    sign_in(other)
    assert browser.get("/console/compliance", params={"certificateId": "cert-1"}).status_code == 404
    assert browser.get("/console/compliance", params={"groupIdentifier": "org"}).status_code == 404
    assert browser.get("/console/compliance/learners", params={"groupIdentifier": "org"}).status_code == 404


def test_a_formula_in_a_cell_is_written_as_text(db, browser, sign_in, account, client, headers):
    from enabley.console.compliance import _csv_lines

    assert _csv_lines([["=SUM(A1)", "-1", "ana"]]) == "'=SUM(A1),'-1,ana\n"
