"""The console's slow figures: every channel's learners, every group's members, the compliance
headline.

Both read every enrolment of the account (a million users have millions), so no page waits for
them: a page shows them when this process computed them in the last minute, and otherwise the
page's script asks ``/console/figures`` for them once the page is shown (without the script, a
link asks the page to wait for them). Each process keeps its own for ``TTL`` seconds.
"""

from __future__ import annotations

from dataclasses import dataclass

from cachetools import TTLCache
from fastapi import APIRouter
from fastapi.responses import JSONResponse

from enabley.console import compliance, queries
from enabley.console.auth import Console, CurrentConsole
from enabley.console.door import read

router = APIRouter(prefix="/console", include_in_schema=False)

TTL = 60
_CACHE: TTLCache[tuple[int, str | None], Figures] = TTLCache(maxsize=1024, ttl=TTL)
"""Used on the event loop only (cachetools' caches are not thread-safe)."""


@dataclass(frozen=True, slots=True)
class Figures:
    channels: dict[str, int]
    groups: dict[str, int]
    compliant: int
    non_compliant: int
    expiring: int
    within_days: int

    @property
    def learners(self) -> int:
        return sum(self.channels.values())

    def as_json(self) -> dict[str, object]:
        return {
            "learners": self.learners,
            "channels": self.channels,
            "groups": self.groups,
            "compliant": self.compliant,
            "nonCompliant": self.non_compliant,
            "expiring": self.expiring,
        }


def cached(console: Console) -> Figures | None:
    return _CACHE.get((console.tenant.account_id, console.tenant.sub_account_name))


async def figures(console: Console) -> Figures:
    """The figures, from this process's cache or counted now."""
    key = (console.tenant.account_id, console.tenant.sub_account_name)
    found = _CACHE.get(key)
    if found is None:
        channels = await read(console, queries.learner_counts)
        groups = await read(console, queries.member_counts)
        warning = console.context.settings.cert_expiry_warning_days
        headline = (await read(console, compliance.headline, warning)).overall
        found = Figures(
            channels, groups, headline.compliant, headline.non_compliant, headline.expiring, warning
        )
        _CACHE[key] = found
    return found


@router.get("/figures")
async def get_figures(console: CurrentConsole) -> JSONResponse:
    return JSONResponse((await figures(console)).as_json(), headers={"Cache-Control": "no-store"})
