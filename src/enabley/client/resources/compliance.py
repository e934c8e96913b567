"""Compliance (admin API): who must hold a certificate, who holds it, who loses it next."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

from enabley.client import _call as c
from enabley.client._call import Call
from enabley.client.models import Page
from enabley.client.models.compliance import ComplianceLearnerInfo, ComplianceStatus, ComplianceSummaryInfo
from enabley.client.resources._base import AsyncResource, SyncResource

PATH = "/api/admin/v1/compliance"


@dataclass(frozen=True, slots=True)
class ComplianceFilters:
    """``certificate``: one certificate (all by default); ``group``: its learners only (its
    subtree's unless ``recursive`` is False); ``scope``: "required" (default) or "all";
    ``within_days``: the expiring window (default: the server's warning window)."""

    certificate: str | None = None
    group: str | None = None
    recursive: bool | None = None
    sub_account_name: str | None = None
    within_days: int | None = None
    scope: str | None = None

    def params(self) -> dict[str, Any]:
        return {
            "certificateId": self.certificate,
            "groupIdentifier": self.group,
            "recursive": None if self.recursive is None else str(self.recursive).lower(),
            "subAccountName": self.sub_account_name,
            "withinDays": self.within_days,
            "scope": self.scope,
        }


def _summary(filters: ComplianceFilters) -> Call[ComplianceSummaryInfo]:
    return Call("GET", f"{PATH}/summary", c.model(ComplianceSummaryInfo), params=filters.params())


def _learners(
    key: str | None, filters: ComplianceFilters, status: ComplianceStatus | str | None
) -> Call[Page[ComplianceLearnerInfo]]:
    params = {**filters.params(), "status": None if status is None else str(status), "paginationKey": key}
    if key:  # the key holds the filters
        params = {"paginationKey": key}
    return Call("GET", f"{PATH}/learners", c.page(ComplianceLearnerInfo), params=params)


class Compliance(SyncResource):
    """``client.admin.compliance``."""

    def summary(self, filters: ComplianceFilters | None = None) -> ComplianceSummaryInfo:
        """Counts by state and compliant / non-compliant / expiring, overall, per child group and
        per certificate."""
        return self._engine.send(_summary(filters or ComplianceFilters()))

    def list(
        self,
        filters: ComplianceFilters | None = None,
        status: ComplianceStatus | str | None = None,
        pagination_key: str | None = None,
    ) -> Page[ComplianceLearnerInfo]:
        """One page of the learners with this status (NON_COMPLIANT by default)."""
        return self._engine.send(_learners(pagination_key, filters or ComplianceFilters(), status))

    def pages(
        self, filters: ComplianceFilters | None = None, status: ComplianceStatus | str | None = None
    ) -> Iterator[Page[ComplianceLearnerInfo]]:
        return self._pages(lambda key: _learners(key, filters or ComplianceFilters(), status))

    def iter(
        self, filters: ComplianceFilters | None = None, status: ComplianceStatus | str | None = None
    ) -> Iterator[ComplianceLearnerInfo]:
        """Every learner with this status, in expiration order, page after page."""
        return self._items(lambda key: _learners(key, filters or ComplianceFilters(), status))


class AsyncCompliance(AsyncResource):
    async def summary(self, filters: ComplianceFilters | None = None) -> ComplianceSummaryInfo:
        return await self._engine.send(_summary(filters or ComplianceFilters()))

    async def list(
        self,
        filters: ComplianceFilters | None = None,
        status: ComplianceStatus | str | None = None,
        pagination_key: str | None = None,
    ) -> Page[ComplianceLearnerInfo]:
        return await self._engine.send(_learners(pagination_key, filters or ComplianceFilters(), status))

    def pages(
        self, filters: ComplianceFilters | None = None, status: ComplianceStatus | str | None = None
    ) -> AsyncIterator[Page[ComplianceLearnerInfo]]:
        return self._pages(lambda key: _learners(key, filters or ComplianceFilters(), status))

    def iter(
        self, filters: ComplianceFilters | None = None, status: ComplianceStatus | str | None = None
    ) -> AsyncIterator[ComplianceLearnerInfo]:
        return self._items(lambda key: _learners(key, filters or ComplianceFilters(), status))
