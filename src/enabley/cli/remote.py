"""``enabley remote ...``: an integrator's commands, built on the SDK, against any compatible server.

Credentials come from ENABLEY_URL, ENABLEY_CLIENT_KEY and ENABLEY_SECRET (``. ./demo.env``).
"""

from __future__ import annotations

import csv
import functools
import json
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import IO, TYPE_CHECKING, Annotated, Any, ParamSpec, TypeVar

import typer

from enabley.cli.common import fail
from enabley.cli.help import Command, Group

if TYPE_CHECKING:
    import httpx2
    from pydantic import BaseModel
    from rich.console import Console
    from rich.progress import Progress

    from enabley.client import (
        Client,
        ExternalOrgBulkUploadResponse,
        InvalidRequest,
        OrgBulkDataRequest,
        Page,
        UploadJob,
    )

# The SDK, httpx and rich are imported by the commands that run: `--help` loads none of them.

P = ParamSpec("P")
R = TypeVar("R")

remote_app = typer.Typer(
    cls=Group,
    help="Talk to an Enabley-compatible server over HTTP (ENABLEY_URL, ENABLEY_CLIENT_KEY, ENABLEY_SECRET).",
    no_args_is_help=True,
)

_http: httpx2.Client | None = None
"""An HTTP client to send through instead of a new one (set by ``send_through``)."""
_options: dict[str, Any] = {}


def register(app: typer.Typer) -> None:
    app.add_typer(remote_app, name="remote")


@contextmanager
def send_through(http: httpx2.Client, **options: Any) -> Iterator[None]:
    """Run the commands through ``http`` (e.g. a TestClient of the app) rather than the network,
    with ``options`` for the ``Client`` (e.g. a ``sleep`` that does not wait)."""
    global _http, _options
    previous = _http, _options
    _http, _options = http, options
    try:
        yield
    finally:
        _http, _options = previous


def stderr() -> Console:
    from rich.console import Console

    return Console(stderr=True)


def _progress(console: Console, *columns: Any) -> Progress:
    from rich.progress import Progress, SpinnerColumn, TextColumn

    # Progress is drawn only on a terminal: piped stderr stays free for the one-line error.
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        *columns,
        console=console,
        transient=True,
        disable=not console.is_terminal,
    )


def remote_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn a failed call into one ``error: ...`` line on stderr and exit status 1."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        from enabley.client import ConnectionFailed, EnableyError, Unauthorized

        try:
            return func(*args, **kwargs)
        except Unauthorized as exc:
            raise fail(f"the server refused the credentials ({exc.error}): {exc.error_description}") from None
        except ConnectionFailed as exc:
            raise fail(exc.error_description) from None
        except EnableyError as exc:
            raise fail(str(exc)) from None
        except BrokenPipeError:
            # The reader went away (``| head``): stop quietly, as a process killed by SIGPIPE would.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(141)
        except (ValueError, OSError) as exc:
            raise fail(str(exc)) from None
        except KeyboardInterrupt:
            sys.exit(130)

    return wrapper


@dataclass(frozen=True, slots=True)
class Credentials:
    url: str | None
    client_key: str | None
    secret: str | None

    def client(
        self, url: str | None = None, client_key: str | None = None, secret: str | None = None
    ) -> Client:
        """The SDK's client; an option given after the command wins over one given before it."""
        from enabley.client import Client

        url, client_key, secret = url or self.url, client_key or self.client_key, secret or self.secret
        missing = [
            name
            for name, value in (
                ("ENABLEY_URL", url),
                ("ENABLEY_CLIENT_KEY", client_key),
                ("ENABLEY_SECRET", secret),
            )
            if not value
        ]
        if missing:
            raise ValueError(
                f"{', '.join(missing)} not set: run `. ./demo.env` or pass --url/--client-key/--secret"
            )
        assert url and client_key and secret
        return Client(url, client_key, secret, http=_http, **_options)


# The same options after the command (`enabley remote export users --url ...`) as before it.
Url = Annotated[str | None, typer.Option("--url", help="Server base URL (instead of ENABLEY_URL).")]
ClientKey = Annotated[
    str | None, typer.Option("--client-key", help="API client key (instead of ENABLEY_CLIENT_KEY).")
]
Secret = Annotated[
    str | None,
    typer.Option("--secret", help="API client secret (instead of ENABLEY_SECRET).", show_default=False),
]


@remote_app.callback()
def connect(
    ctx: typer.Context,
    url: Annotated[str | None, typer.Option("--url", envvar="ENABLEY_URL", help="Server base URL.")] = None,
    client_key: Annotated[
        str | None, typer.Option("--client-key", envvar="ENABLEY_CLIENT_KEY", help="API client key.")
    ] = None,
    secret: Annotated[
        str | None,
        typer.Option("--secret", envvar="ENABLEY_SECRET", help="API client secret.", show_default=False),
    ] = None,
) -> None:
    ctx.obj = Credentials(url, client_key, secret)


# -- upload -------------------------------------------------------------------------------------------


UPLOAD_FILES = ("groups.csv", "users.csv")


def _check_names(paths: list[Path]) -> None:
    """Refuse, before reading or sending anything, a file the upload would not know by its name."""
    for path in paths:
        if path.name not in UPLOAD_FILES:
            raise ValueError(
                f"unknown file {path.name!r} ({path}): the upload takes files named "
                f"{' and '.join(UPLOAD_FILES)} (rename it to the kind of rows it holds)"
            )
    names = [path.name for path in paths]
    for name in UPLOAD_FILES:
        if names.count(name) > 1:
            raise ValueError(f"{name} is given more than once")


def _read(paths: list[Path], progress: Progress) -> list[OrgBulkDataRequest]:
    from enabley.client import OrgBulkDataRequest

    task = progress.add_task("reading", total=sum(path.stat().st_size for path in paths))
    files = []
    for path in paths:
        chunks = []
        with path.open("rb") as handle:
            while chunk := handle.read(1 << 20):
                chunks.append(chunk)
                progress.advance(task, len(chunk))
        try:
            text = b"".join(chunks).decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ValueError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
        files.append(OrgBulkDataRequest(file_name=path.name, content=text))
    return files


def _print_summary(result: ExternalOrgBulkUploadResponse) -> None:
    from rich.console import Console
    from rich.table import Table

    counts = {"created": result.created.by_kind(), "updated": result.updated.by_kind()}
    counts["unchanged"] = result.unchanged.by_kind()
    kinds = sorted({kind for by_kind in counts.values() for kind in by_kind})
    table = Table("kind", title=f"Files processed: {result.files_processed}")
    for column in ("created", "updated", "unchanged"):
        table.add_column(column, justify="right")
    for kind in kinds:
        table.add_row(
            kind, *(str(counts[column].get(kind, 0)) for column in ("created", "updated", "unchanged"))
        )
    Console().print(table)


def _print_rejection(exc: InvalidRequest) -> None:
    for row in exc.errors:
        where = ", ".join(part for part in (f"line {row.line}" if row.line else "", row.column or "") if part)
        typer.echo(f"{row.file or '-'}{': ' + where if where else ''}: {row.message}", err=True)
    if exc.more_errors:
        typer.echo(f"... and {exc.more_errors} more", err=True)


@remote_app.command(cls=Command)
@remote_errors
def upload(
    ctx: typer.Context,
    files: Annotated[
        list[Path], typer.Argument(exists=True, dir_okay=False, readable=True, help="groups.csv, users.csv")
    ],
    run_async: Annotated[
        bool,
        typer.Option(
            "--async",
            help="Send the files as a job (async=true), show its progress while it runs, then what changed",
        ),
    ] = False,
    validate_only: Annotated[
        bool,
        typer.Option("--validate-only", help="Check every row and print what would change; write nothing"),
    ] = False,
    poll_every: Annotated[
        float, typer.Option("--poll-every", min=0.05, help="Seconds between two reads of a job's status")
    ] = 1.0,
    url: Url = None,
    client_key: ClientKey = None,
    secret: Secret = None,
) -> None:
    """Upload organisation CSV files (POST /api/v1/uploads/org) and print what changed."""
    from rich.progress import BarColumn, DownloadColumn

    from enabley.client import InvalidRequest

    _check_names(files)
    with (
        ctx.obj.client(url, client_key, secret) as client,
        _progress(stderr(), BarColumn(), DownloadColumn()) as progress,
    ):
        payload = _read(files, progress)
        sending = progress.add_task("sending", total=None)

        def sent(done: int, total: int) -> None:
            progress.update(sending, completed=done, total=total)
            if done == total:
                progress.update(sending, description="processing")

        try:
            if run_async:
                job = client.uploads.submit(payload, validate_only=validate_only, progress=sent)
                progress.update(sending, visible=False)
                result = _follow(client, job.job_id, poll_every)
            elif validate_only:
                result = client.uploads.validate(payload, progress=sent)
            else:
                result = client.uploads.org(payload, progress=sent)
        except InvalidRequest as exc:
            progress.stop()
            _print_rejection(exc)
            raise fail(f"upload refused: {exc.error_description}") from None
    _print_summary(result)
    if validate_only:
        typer.echo("Checked only (--validate-only): nothing was written.")


def _follow(client: Client, job_id: str, poll_every: float) -> ExternalOrgBulkUploadResponse:
    """Wait for the upload job, a bar of its rows checked on stderr (on a terminal)."""
    from rich.progress import BarColumn, MofNCompleteColumn

    with _progress(stderr(), BarColumn(), MofNCompleteColumn()) as bar:
        task = bar.add_task("queued", total=None)

        def watch(job: UploadJob) -> None:
            bar.update(task, description=job.status, completed=job.progress.done, total=job.progress.total)

        return client.uploads.wait(job_id, poll_every=poll_every, watch=watch)


# -- export -------------------------------------------------------------------------------------------


class Kind(StrEnum):
    users = "users"
    groups = "groups"
    channels = "channels"
    performance = "performance"
    certificates = "certificates"
    compliance = "compliance"


class ComplianceStatusOption(StrEnum):
    NON_COMPLIANT = "NON_COMPLIANT"
    EXPIRING = "EXPIRING"
    COMPLIANT = "COMPLIANT"
    ALL = "ALL"


class Format(StrEnum):
    csv = "csv"
    jsonl = "jsonl"


def _model(kind: Kind) -> type[BaseModel]:
    from enabley.client import (
        CertificateInformation,
        ChannelInfo,
        ComplianceLearnerInfo,
        ExternalUserChannelPerformance,
        GroupInfo,
        UserInfo,
    )

    models: dict[Kind, type[BaseModel]] = {
        Kind.users: UserInfo,
        Kind.groups: GroupInfo,
        Kind.channels: ChannelInfo,
        Kind.performance: ExternalUserChannelPerformance,
        Kind.certificates: CertificateInformation,
        Kind.compliance: ComplianceLearnerInfo,
    }
    return models[kind]


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list) and all(isinstance(v, str | int | float) for v in value):
        return ";".join(str(v) for v in value)
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return str(value)


# A spreadsheet opening the CSV runs a cell that starts with one of these as a formula (OWASP's
# "CSV injection"); a leading ' makes it text.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _neutralised(value: Any) -> str:
    text = _cell(value)
    # A number field can't hold a formula, and stays a number for the spreadsheet.
    if isinstance(value, str | list) and text.startswith(_FORMULA_STARTS):
        return "'" + text
    return text


class Writer:
    """Items out as CSV (the model's fields as columns) or as JSON lines. ``raw``: CSV cells as
    stored, formulas included."""

    def __init__(self, out: IO[str], fmt: Format, model: type[BaseModel], *, raw: bool = False) -> None:
        self.out, self.fmt, self.count = out, fmt, 0
        self.cell = _cell if raw else _neutralised
        self.csv: Any = None
        if fmt is Format.csv:
            columns = [field.alias or name for name, field in model.model_fields.items()]
            self.csv = csv.DictWriter(out, columns, extrasaction="ignore", lineterminator="\n")
            self.csv.writeheader()

    def write(self, items: Iterable[BaseModel]) -> None:
        for item in items:
            data = item.model_dump(mode="json", by_alias=True)
            if self.csv is not None:
                self.csv.writerow({key: self.cell(value) for key, value in data.items()})
            else:
                self.out.write(json.dumps(data, ensure_ascii=False) + "\n")
            self.count += 1


def _walk(pages: Iterable[Page[Any]], writer: Writer, progress: Progress, label: str) -> None:
    task = progress.add_task(label, total=None)
    for page in pages:
        writer.write(page.items)
        progress.update(task, advance=1, total=page.total_pages, description=f"{label}: {writer.count}")


@dataclass(frozen=True, slots=True)
class Narrowing:
    """The export's filters: --sub-account, --channel and --user, --certificate, --group, --status."""

    sub_account: str | None = None
    channel: str | None = None
    user: str | None = None
    certificate: str | None = None
    group: str | None = None
    status: str | None = None

    def check(self, kind: Kind) -> None:
        if self.sub_account and kind not in (Kind.users, Kind.groups, Kind.channels, Kind.compliance):
            raise ValueError("--sub-account applies to users, groups, channels and compliance")
        if (self.channel or self.user) and kind is not Kind.performance:
            raise ValueError("--channel and --user apply to performance")
        if (self.certificate or self.group or self.status) and kind is not Kind.compliance:
            raise ValueError("--certificate, --group and --status apply to compliance")


def _export(client: Client, kind: Kind, writer: Writer, progress: Progress, narrowing: Narrowing) -> None:
    sub_account, channel, user = narrowing.sub_account, narrowing.channel, narrowing.user
    if kind is Kind.compliance:
        from enabley.client.resources.compliance import ComplianceFilters

        filters = ComplianceFilters(
            certificate=narrowing.certificate, group=narrowing.group, sub_account_name=sub_account
        )
        _walk(client.admin.compliance.pages(filters, narrowing.status), writer, progress, "compliance")
    elif kind is Kind.users:
        _walk(client.users.pages(sub_account_name=sub_account), writer, progress, "users")
    elif kind is Kind.groups:
        writer.write(client.groups.list(sub_account_name=sub_account))
    elif kind is Kind.channels:
        pages = client.channels.pages(include_categories=True, sub_account_name=sub_account)
        _walk(pages, writer, progress, "channels")
    elif kind is Kind.certificates:
        _walk(client.certificates.pages(), writer, progress, "certificates")
    elif channel or user:
        _walk(client.performance.pages(channel=channel, user=user), writer, progress, "performance")
    else:
        channels = [c.identifier for c in client.channels.iter()]
        task = progress.add_task("performance", total=len(channels))
        for identifier in channels:
            for page in client.performance.pages(channel=identifier):
                writer.write(page.items)
            progress.update(task, advance=1, description=f"performance: {writer.count}")


@remote_app.command(cls=Command)
@remote_errors
def export(
    ctx: typer.Context,
    kind: Annotated[Kind, typer.Argument(help="What to export.")],
    fmt: Annotated[
        Format, typer.Option("--format", "-f", help="csv, or one JSON object per line.")
    ] = Format.csv,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File to write (default: stdout).")
    ] = None,
    sub_account: Annotated[
        str | None, typer.Option("--sub-account", help="Only this sub-account (users, groups, channels).")
    ] = None,
    channel: Annotated[str | None, typer.Option(help="performance: only this channel.")] = None,
    user: Annotated[str | None, typer.Option(help="performance: only this user.")] = None,
    certificate: Annotated[
        str | None, typer.Option(help="compliance: only this certificate (externalCertificateId).")
    ] = None,
    group: Annotated[
        str | None, typer.Option(help="compliance: only the learners of this group and its subgroups.")
    ] = None,
    status: Annotated[
        ComplianceStatusOption | None,
        typer.Option(help="compliance: whom to list (default NON_COMPLIANT)."),
    ] = None,
    raw: Annotated[
        bool,
        typer.Option(
            "--raw",
            help="CSV: write cells as stored. By default a cell starting with =, +, -, @, tab or CR "
            "gets a leading ' so that a spreadsheet shows it instead of running it as a formula.",
        ),
    ] = False,
    url: Url = None,
    client_key: ClientKey = None,
    secret: Secret = None,
) -> None:
    """Export every item of a kind, page after page, as CSV or JSON lines."""
    from rich.progress import BarColumn, MofNCompleteColumn

    narrowing = Narrowing(sub_account, channel, user, certificate, group, status.value if status else None)
    narrowing.check(kind)
    err = stderr()
    with (
        ctx.obj.client(url, client_key, secret) as client,
        _open(output) as out,
        _progress(err, BarColumn(), MofNCompleteColumn()) as bar,
    ):
        writer = Writer(out, fmt, _model(kind), raw=raw)
        _export(client, kind, writer, bar, narrowing)
    if output is not None or err.is_terminal:
        typer.echo(f"exported {writer.count} {kind.value}" + (f" to {output}" if output else ""), err=True)


@contextmanager
def _open(output: Path | None) -> Iterator[IO[str]]:
    if output is None:
        yield sys.stdout
        sys.stdout.flush()
        return
    with output.open("w", encoding="utf-8", newline="") as handle:
        yield handle


# -- call ---------------------------------------------------------------------------------------------


def _query(pairs: list[str]) -> dict[str, list[str]]:
    params: dict[str, list[str]] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise ValueError(f"--query takes name=value, not {pair!r}")
        params.setdefault(name, []).append(value)
    return params


METHODS = ("GET", "PUT", "POST", "DELETE")


@remote_app.command(cls=Command)
@remote_errors
def call(
    ctx: typer.Context,
    method: Annotated[str, typer.Argument(help="GET, PUT, POST or DELETE.")],
    path: Annotated[str, typer.Argument(help="e.g. /api/v2/users/ana-1")],
    data: Annotated[str | None, typer.Option("--data", "-d", help="JSON body (@file reads a file).")] = None,
    query: Annotated[list[str] | None, typer.Option("--query", "-q", help="name=value, repeatable.")] = None,
    url: Url = None,
    client_key: ClientKey = None,
    secret: Secret = None,
) -> None:
    """Make any call, token included, and print the answer (JSON pretty-printed)."""
    from rich.console import Console

    from enabley.client.errors import error_from_response

    if method.upper() not in METHODS:
        raise ValueError(
            f"unknown HTTP method {method!r}: the API takes {', '.join(METHODS[:-1])} or {METHODS[-1]}"
        )
    if data is not None and data.startswith("@"):
        data = Path(data[1:]).read_text(encoding="utf-8")
    try:
        body = json.loads(data) if data is not None else None
    except json.JSONDecodeError as exc:
        raise ValueError(f"--data is not JSON: {exc}") from None
    with ctx.obj.client(url, client_key, secret) as client:
        response = client.request(method.upper(), path, params=_query(query or []), json=body)
    if "json" in response.headers.get("content-type", "") and response.content:
        Console(soft_wrap=True).print_json(response.text)
    elif response.content:
        typer.get_binary_stream("stdout").write(response.content)
    if response.is_error:
        raise fail(str(error_from_response(response)))
