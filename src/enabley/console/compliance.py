"""The console's compliance pages: for a certificate and a group, the states, a bar per child
group, the expirations of the next 12 weeks; the learners behind each number; a CSV of them.

Every number comes from the compliance service the admin API answers with (``compliance.service``),
for the same instant and the server's warning window.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, StreamingResponse
from pydantic import ValidationError
from sqlalchemy.orm import Session

from enabley.certificates import service as certificates_service
from enabley.certificates.schemas import CertificateInformation
from enabley.compliance import service as compliance_service
from enabley.compliance.schemas import (
    ComplianceLearnerInfo,
    ComplianceSummaryInfo,
    LearnersQuery,
    SummaryQuery,
)
from enabley.console import charts, queries
from enabley.console.auth import Console, ConsoleTenant, CurrentConsole
from enabley.console.door import read
from enabley.console.render import PageError, page
from enabley.db.columns import utcnow
from enabley.pagination import Page

router = APIRouter(prefix="/console", include_in_schema=False)

WEEKS = 12
STATE_NAMES = {
    "INIT": "not started",
    "IN_PROGRESS": "in progress",
    "AWAITS_LEARNER_CONFIRMATION": "to confirm",
    "CERTIFIED": "certified",
    "ABOUT_TO_EXPIRE": "expiring",
    "EXPIRED": "expired",
    "REVOKED": "revoked",
}
FILTERS = ("certificateId", "groupIdentifier", "withinDays", "scope")
LEARNER_FILTERS = (*FILTERS, "status")
ENDPOINT = "console/compliance/learners"
CSV_COLUMNS = (
    "userIdentifier",
    "firstName",
    "lastName",
    "email",
    "externalCertificateId",
    "certificateName",
    "isRequired",
    "state",
    "status",
    "certificationDate",
    "expirationDate",
    "groups",
)


def _params(console: Console, given: Mapping[str, str], names: tuple[str, ...]) -> dict[str, str]:
    params = {k: v for k, v in given.items() if k in names and v}
    if console.tenant.sub_account_name is not None:
        params["subAccountName"] = console.tenant.sub_account_name
    return params


def _invalid(exc: ValidationError) -> PageError:
    return PageError(400, "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()))


@dataclass(frozen=True, slots=True)
class Overview:
    summary: ComplianceSummaryInfo
    certificates: list[CertificateInformation]
    groups: list[tuple[int, str, str]]
    weeks: list[tuple[str, int]]


def expirations(
    session: Session, tenant: ConsoleTenant, filters: SummaryQuery, now: datetime, warning_days: int
) -> list[tuple[str, int]]:
    """Compliant learners whose certification ends in each of the next 12 weeks."""
    counts = compliance_service.expirations(
        session, tenant, filters, now=now, warning_days=warning_days, weeks=WEEKS
    )
    return [(f"week {n + 1}", count) for n, count in enumerate(counts)]


def overview(
    session: Session, tenant: ConsoleTenant, filters: SummaryQuery, now: datetime, warning_days: int
) -> Overview:
    summary = compliance_service.summary(session, tenant, filters, now=now, warning_days=warning_days)
    return Overview(
        summary=summary,
        certificates=certificates_service.list_certificates(session, tenant),
        groups=queries.group_choices(session, tenant),
        weeks=expirations(session, tenant, filters, now, warning_days),
    )


def headline(session: Session, tenant: ConsoleTenant, warning_days: int) -> ComplianceSummaryInfo:
    """Every certificate over the whole account (or sub-account): the overview's headline."""
    filters = SummaryQuery.model_validate(
        {"subAccountName": tenant.sub_account_name} if tenant.sub_account_name else {}
    )
    return compliance_service.summary(session, tenant, filters, now=utcnow(), warning_days=warning_days)


@router.get("/compliance")
async def compliance(request: Request, console: CurrentConsole) -> HTMLResponse:
    params = _params(console, request.query_params, FILTERS)
    try:
        filters = SummaryQuery.model_validate(params)
    except ValidationError as exc:
        raise _invalid(exc) from None
    warning = console.context.settings.cert_expiry_warning_days
    found = await read(console, overview, filters, utcnow(), warning)
    counts = found.summary.overall
    states = charts.bar_chart(
        "Learners by certificate state",
        [(state.value, n) for state, n in counts.states.items()],
        chart_id="states-chart",
        names=STATE_NAMES,
    )
    groups = charts.stacked_bars(
        "Compliance by child group",
        [
            (
                g.name,
                [
                    ("compliant", g.counts.compliant - g.counts.expiring),
                    ("expiring", g.counts.expiring),
                    ("non_compliant", g.counts.non_compliant),
                ],
            )
            for g in found.summary.groups
        ],
        chart_id="groups-chart",
    )
    weeks = charts.bar_chart(
        "Certifications ending, by week",
        found.weeks,
        chart_id="weeks-chart",
        colour=charts.PALETTE["expiring"],
    )
    return page(
        request,
        console,
        "compliance.html",
        active="compliance",
        found=found,
        filters=params,
        states=states,
        groups_chart=groups,
        weeks=weeks,
    )


async def _learners_page(
    console: Console, params: dict[str, str], now: datetime
) -> Page[ComplianceLearnerInfo]:
    try:
        wanted = LearnersQuery.model_validate(params)
    except ValidationError as exc:
        raise _invalid(exc) from None
    walk = console.context.paginator.walk(wanted, account_id=console.tenant.account_id, endpoint=ENDPOINT)
    warning = console.context.settings.cert_expiry_warning_days
    return await read(console, compliance_service.learners_page, walk, now=now, warning_days=warning)


@router.get("/compliance/learners")
async def learners(request: Request, console: CurrentConsole) -> HTMLResponse:
    params = _params(console, request.query_params, (*LEARNER_FILTERS, "paginationKey"))
    found = await _learners_page(console, params, utcnow())
    shown = {k: v for k, v in params.items() if k in LEARNER_FILTERS}
    return page(request, console, "compliance_learners.html", active="compliance", found=found, filters=shown)


@router.get("/compliance/learners.csv")
async def learners_csv(request: Request, console: CurrentConsole) -> StreamingResponse:
    """Every learner the drill-down lists, page after page, as CSV."""
    params = _params(console, request.query_params, LEARNER_FILTERS)
    now = utcnow()
    first = await _learners_page(console, params, now)

    async def rows() -> AsyncIterator[str]:
        found: Page[ComplianceLearnerInfo] | None = first
        yield _csv_lines([CSV_COLUMNS])
        while found is not None:
            yield _csv_lines([_csv_row(item) for item in found.items])
            key = found.pagination_key
            found = await _learners_page(console, {"paginationKey": key}, now) if key else None

    return StreamingResponse(
        rows(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="compliance.csv"', "Cache-Control": "no-store"},
    )


def _csv_row(item: ComplianceLearnerInfo) -> tuple[str, ...]:
    def day(value: datetime | None) -> str:
        return value.isoformat() if value is not None else ""

    return (
        item.user_identifier,
        item.first_name or "",
        item.last_name or "",
        item.email or "",
        item.external_certificate_id,
        item.certificate_name,
        "true" if item.is_required else "false",
        item.state.value,
        item.status.value,
        day(item.certification_date),
        day(item.expiration_date),
        "; ".join(" > ".join(path) for path in item.group_paths),
    )


def _csv_lines(rows: list[Any]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    # Cells an office suite would run as formulas are quoted as text (OWASP CSV injection).
    writer.writerows([[f"'{c}" if c[:1] in ("=", "+", "-", "@") else c for c in row] for row in rows])
    return out.getvalue()
