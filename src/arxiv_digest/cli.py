"""The `digest` command: parses options, calls the library, reports. Nothing else lives here."""

from __future__ import annotations

import calendar
import functools
import json
import logging
import os
import re
import sys
import time
import traceback
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

# This command uses no pydantic plugin, and looking for them (entry points) costs its start
# 30 ms. Set before pydantic is imported; a value given in the environment wins.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")

from arxiv_digest.config import ArxivSettings, Config, WindowSettings, load_config
from arxiv_digest.errors import (
    EXIT_BAD_INPUT,
    EXIT_FAILURE,
    EXIT_INCOMPLETE,
    BadInputError,
    DigestError,
)
from arxiv_digest.record import Records
from arxiv_digest.window import FIRST_ARXIV_DAY, UNSETTLED_CEILING_DAYS, with_refresh
from arxiv_digest.write import write_atomically

if TYPE_CHECKING:
    from arxiv_digest.build import RunPlan
    from arxiv_digest.report import RunReport

F = TypeVar("F", bound=Callable[..., Any])


class Unsettled:
    """`--refresh` without N: the unsettled windows before the date."""


UNSETTLED = Unsettled()


class _RefreshDays(click.ParamType[Any]):
    name = "N"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if value is UNSETTLED:
            return value
        return click.IntRange(0, 60).convert(value, param, ctx)


class _Redactor:
    """Keeps the API key out of everything the command prints or logs."""

    def __init__(self) -> None:
        self.secret = os.environ.get("OPENAI_API_KEY", "").strip()

    def __call__(self, text: str) -> str:
        return text.replace(self.secret, "[redacted]") if len(self.secret) >= 4 else text


_redact = _Redactor()


class _RedactingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return _redact(super().format(record))


def _say(message: str) -> None:
    click.echo(_redact(message), err=True)


def _reports_errors(command: F) -> F:
    """Turn a DigestError into one line and its exit status; a traceback only with --debug."""

    @functools.wraps(command)
    def wrapper(*args: Any, debug: bool, **kwargs: Any) -> Any:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(_RedactingFormatter("%(levelname)s %(name)s: %(message)s"))
        logging.basicConfig(level=logging.DEBUG if debug else logging.WARNING, handlers=[handler])
        try:
            return command(*args, **kwargs)
        except DigestError as error:
            if debug:
                _say(traceback.format_exc())
            _say(f"Error: {error}")
            sys.exit(error.exit_status)
        except KeyboardInterrupt:
            _say("Interrupted; nothing half-written. Run the same command again to resume.")
            sys.exit(130)
        except Exception as error:  # a bug: still one line, the traceback with --debug
            if debug:
                _say(traceback.format_exc())
            _say(f"Internal error: {type(error).__name__}: {error}; rerun with --debug for details")
            sys.exit(EXIT_FAILURE)

    return wrapper  # type: ignore[return-value]


def _common_options(command: F) -> F:
    command = click.option(
        "--debug", is_flag=True, help="Show debug logging, and a traceback on error."
    )(command)
    return click.option(
        "-c",
        "--config",
        "config_path",
        type=click.Path(path_type=Path, dir_okay=False),
        default=Path("config.yaml"),
        show_default=True,
        help="The site's configuration file.",
    )(command)


@click.group(context_settings={"help_option_names": ["-h", "--help"]}, invoke_without_command=True)
@click.version_option(package_name="arxiv-digest", prog_name="digest")
@click.pass_context
def main(context: click.Context) -> None:
    """Build a daily Chinese digest of new arXiv papers as Jekyll posts."""
    if context.invoked_subcommand is None:
        click.echo(context.get_help())


def _day_options(verb: str, date_help: str) -> Callable[[F], F]:
    """--date (repeatable), and a range --from … --to, of the days a command works on."""

    def decorate(command: F) -> F:
        command = click.option(
            "--to", "last", metavar="YYYY-MM-DD", help="...to this one (default: today)."
        )(command)
        command = click.option(
            "--from", "first", metavar="YYYY-MM-DD", help=f"{verb} every day from this one..."
        )(command)
        return click.option("--date", "dates", metavar="YYYY-MM-DD", multiple=True, help=date_help)(
            command
        )

    return decorate


_BUILD_EPILOG = """\b
Environment:
  OPENAI_API_KEY   the model provider's key (required; never read from a file)
  OPENAI_BASE_URL  the endpoint, where llm.base_url is not set
  DIGEST_NOW       the clock, as ISO 8601 with an offset (for replays)

\b
Exit statuses:
  0    written complete, or nothing to show
  1    a run-time failure (arXiv, the model's key, the file system)
  2    bad input (an option, a date, the configuration, no key); nothing done
  3    written, but some answers are missing; run again to fill the gaps
  130  interrupted; nothing half-written
"""


@main.command(epilog=_BUILD_EPILOG)
@_day_options(
    "Build",
    "A post's date; its window is [date-1 anchor, date anchor). Repeatable, and combines"
    " with --from/--to: every day named or in the range is built. Default: today.",
)
@click.option(
    "--refresh",
    "refresh_days",
    type=_RefreshDays(),
    is_flag=False,
    flag_value=UNSETTLED,
    default=None,
    metavar="[N]",
    help="Also rebuild the windows before the date that arXiv has not announced in full"
    f" (unsettled ones, up to {UNSETTLED_CEILING_DAYS} back); with N, the N windows before it.",
)
@click.option(
    "--yes",
    "assume_yes",
    is_flag=True,
    help="Go ahead without asking when the run would make more model requests than"
    " llm.confirm_above_requests.",
)
@click.option(
    "--max-requests",
    type=click.IntRange(0),
    metavar="N",
    help="Make at most N model requests; what is left is reported as gaps for the next run.",
)
@click.option(
    "--batch",
    is_flag=True,
    help="Send the run's requests as one batch of the provider's Batch API (llm.mode: batch),"
    " at its price; a later run collects the answers.",
)
@click.option(
    "--wait",
    "wait_minutes",
    type=click.FloatRange(0),
    default=0,
    metavar="MINUTES",
    help="In batch mode, wait up to MINUTES for unfinished batches (this run's too) and"
    " collect what they answer.",
)
@click.option(
    "--report",
    "report_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Also write the run report as JSON to this file.",
)
@_common_options
@_reports_errors
def build(
    dates: tuple[str, ...],
    first: str | None,
    last: str | None,
    refresh_days: int | Unsettled | None,
    assume_yes: bool,
    max_requests: int | None,
    batch: bool,
    wait_minutes: float,
    report_path: Path | None,
    config_path: Path,
) -> None:
    """Fetch, translate, analyse and write the posts of one or more days."""
    config = load_config(config_path)
    if batch:
        config = config.model_copy(update={"llm": config.llm.model_copy(update={"mode": "batch"})})
    if wait_minutes and config.llm.mode != "batch":
        raise BadInputError("--wait waits for batches; add --batch, or set llm.mode: batch")
    records = Records(config.output.records_dir)  # the run's one reader of the records
    days = _days(dates, first, last, refresh_days, _today(config), records)
    api_key = os.environ.get("OPENAI_API_KEY", "").strip()
    if not api_key:
        raise BadInputError(
            "OPENAI_API_KEY is not set; export your model provider's key, e.g."
            " `export OPENAI_API_KEY=sk-...`"
        )
    # Imported here: the SDKs it pulls in take most of a second, which `preview` need not pay.
    from arxiv_digest.build import RunOptions, build_live
    from arxiv_digest.progress import LiveProgress, PlainProgress

    # One live line on a terminal; in logs (CI, the nightly job), plain lines at a steady rate.
    view = LiveProgress(_redact) if sys.stderr.isatty() else PlainProgress(_say)
    with view:
        report = build_live(
            days,
            config,
            records,
            api_key,
            view.say,
            RunOptions(
                confirm=functools.partial(_confirm, config=config, assume_yes=assume_yes),
                max_requests=max_requests,
                tracker=view,
                now=_now(),
                batch_wait_seconds=wait_minutes * 60,
            ),
        )
    for day in report.days:
        if day.post_path is not None:
            click.echo(str(day.post_path))
    for line in report.to_text(config.llm):
        _say(line)
    _publish_report(report, config, report_path)
    if report.incomplete:
        _say(
            "Incomplete: some translations or analyses are missing;"
            " run the same command again to fill the gaps."
        )
        sys.exit(EXIT_INCOMPLETE)


def _confirm(plan: RunPlan, *, config: Config, assume_yes: bool) -> bool:
    """Show a large run's plan before it spends anything; ask on a terminal."""
    from arxiv_digest.models import Usage
    from arxiv_digest.report import cost_usd, plural

    estimate = plan.estimate
    tasks = ", ".join(f"{count} {task}" for task, count in estimate.requests_by_task.items())
    batched = config.llm.mode == "batch"
    usage = Usage(tokens_in=estimate.tokens_in, tokens_out=estimate.tokens_out)
    if batched:
        usage.batched_tokens_in, usage.batched_tokens_out = usage.tokens_in, usage.tokens_out
    cost = cost_usd(usage, config.llm)
    capped = f", capped at {plan.max_requests}" if plan.max_requests is not None else ""
    _say(
        f"Plan: {plural(plan.days, 'day')}, {plural(plan.papers, 'paper')} to enrich,"
        f" {plural(estimate.requests, 'model request')} ({tasks}){capped};"
        f" about {estimate.tokens_in:,} tokens in and {estimate.tokens_out:,} out"
        + (
            f", about ${cost:.2f}{' at the batch price' if batched else ''}"
            if cost is not None
            else " (set llm.*_price_per_million for a cost)"
        )
    )
    if assume_yes or plan.max_requests is not None:  # a cap is a budget the user chose
        return True
    if not (sys.stdin.isatty() and sys.stderr.isatty()):
        raise BadInputError(
            f"this run would make {plural(plan.requests, 'model request')}, more than"
            f" llm.confirm_above_requests ({config.llm.confirm_above_requests}); pass --yes to go"
            " ahead, or --max-requests N to cap it (the rest is left for the next run)"
        )
    return click.confirm("Go ahead?", default=False, err=True)


def _today(config: Config) -> date:
    """Today in the site's time zone (by `_now`)."""
    return _now().astimezone(config.window.zone).date()


def _now() -> datetime:
    """The clock; DIGEST_NOW (ISO 8601) sets it, for tests and replays."""
    now_text = os.environ.get("DIGEST_NOW")
    if not now_text:
        return datetime.now(UTC)
    try:
        now = datetime.fromisoformat(now_text)
    except ValueError:
        raise BadInputError(f"DIGEST_NOW {now_text!r} is not an ISO 8601 date and time") from None
    if now.tzinfo is None:
        raise BadInputError(f"DIGEST_NOW {now_text!r} needs a UTC offset, e.g. +00:00")
    return now


def _days(
    dates: tuple[str, ...],
    first: str | None,
    last: str | None,
    refresh_days: int | Unsettled | None,
    today: date,
    records: Records,
) -> list[date]:
    chosen = {_parse_day(text, "--date", today) for text in dates}
    if first is not None or last is not None:
        if first is None:
            raise BadInputError("--to needs --from; give the first date of the range")
        start = _parse_day(first, "--from", today)
        end = _parse_day(last, "--to", today) if last is not None else today
        if end < start:
            raise BadInputError(f"--from {start} is after --to {end}; swap them")
        chosen.update(start + timedelta(days=n) for n in range((end - start).days + 1))
    chosen = chosen or {today}
    if isinstance(refresh_days, Unsettled):
        for day in list(chosen):
            chosen.update(records.unfinished_days(day, UNSETTLED_CEILING_DAYS))
        return sorted(chosen)
    return with_refresh(chosen, refresh_days or 0)


def _parse_day(text: str, option: str, today: date) -> date:
    try:
        day = date.fromisoformat(text)
    except ValueError:
        shaped = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", text)
        if shaped is None:
            raise BadInputError(
                f"{option} {text!r} is not a date; use YYYY-MM-DD, e.g. {today.isoformat()}"
            ) from None
        year, month, day_of_month = (int(part) for part in shaped.groups())
        reason = (
            f"there is no month {month}"
            if not 1 <= month <= 12
            else f"{calendar.month_name[month]} {year} has no day {day_of_month}"
        )
        raise BadInputError(f"{option} {text!r} is not a date: {reason}") from None
    if day > today:
        raise BadInputError(f"{option} {day} is in the future (today is {today})")
    if day < FIRST_ARXIV_DAY:
        raise BadInputError(f"{option} {day} is before arXiv existed (August 1991)")
    return day


def _publish_report(report: RunReport, config: Config, report_path: Path | None) -> None:
    if report_path is not None:
        text = json.dumps(report.to_json(config.llm), ensure_ascii=False, indent=2) + "\n"
        write_atomically(report_path, _redact(text))
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        # GitHub Actions shows this file's Markdown on the run's page.
        with Path(summary).open("a", encoding="utf-8") as stream:
            stream.write(_redact(report.to_markdown(config.llm)))


@main.command()
@_day_options("Render", "A day to render. Repeatable. Default: every day that has a record.")
@_common_options
@_reports_errors
def render(dates: tuple[str, ...], first: str | None, last: str | None, config_path: Path) -> None:
    """Render posts again from their records: no network, no key, no model request."""
    from arxiv_digest.build import render_records

    config = load_config(config_path)
    chosen = (
        _days(dates, first, last, None, _today(config), Records(config.output.records_dir))
        if dates or first or last
        else None
    )
    result = render_records(chosen, config)
    for path in result.written:
        click.echo(str(path))
    _say(
        f"Rendered {result.records} {'record' if result.records == 1 else 'records'}:"
        f" {len(result.written)} {'post' if len(result.written) == 1 else 'posts'} changed"
    )


@main.command(name="import")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path, dir_okay=False))
@_common_options
@_reports_errors
def import_(paths: tuple[Path, ...], config_path: Path) -> None:
    """Adopt existing posts: read them into day records (default: every post without one)."""
    from arxiv_digest.views.importer import import_posts

    config = load_config(config_path)
    result = import_posts(list(paths) or None, config)
    for path in result.imported:
        click.echo(str(path))
    for line in result.skipped:
        _say(f"Skipped {line}")
    for line in result.failed:
        _say(f"Not imported: {line}")
    _say(
        f"Imported {len(result.imported)}, skipped {len(result.skipped)},"
        f" failed {len(result.failed)}; then `digest render` writes the posts from the records"
    )
    if result.failed:
        sys.exit(EXIT_BAD_INPUT)


@main.command()
@click.argument(
    "directory", type=click.Path(path_type=Path, file_okay=False), default=Path(), required=False
)
@click.option(
    "--category",
    "categories",
    multiple=True,
    metavar="CATEGORY",
    help="An arXiv category to follow (repeatable)."
    f" Default: {' and '.join(ArxivSettings().categories)}.",
)
@click.option(
    "--timezone",
    default=WindowSettings().timezone,
    show_default=True,
    help="The windows' IANA time zone.",
)
@click.option(
    "--anchor",
    default=WindowSettings().anchor,
    show_default=True,
    metavar="HH:MM",
    help="The time of day that closes one day's window and opens the next.",
)
@click.option(
    "--install",
    "install_command",
    default=None,
    help="How the site's workflows install arxiv-digest. Default: this arxiv-digest, pinned"
    ' (pip install "arxiv-digest @ git+https://github.com/OWNER/REPO@COMMIT"), when it was'
    " installed from a public git URL or runs from a checkout of one.",
)
@click.option("--debug", is_flag=True, help="Show debug logging, and a traceback on error.")
@_reports_errors
def init(
    directory: Path,
    categories: tuple[str, ...],
    timezone: str,
    anchor: str,
    install_command: str | None,
) -> None:
    """Start a digest site of your own in DIRECTORY (default: here); nothing is overwritten."""
    from arxiv_digest.init import init_site

    result = init_site(
        directory,
        categories=list(categories) or ArxivSettings().categories,
        timezone=timezone,
        anchor=anchor,
        install_command=install_command,
    )
    for path in result.created:
        click.echo(str(path))
    for path in result.kept:
        _say(f"Left alone (it exists): {path}")
    where = "" if directory == Path() else f"cd {directory} && "
    _say(
        "Next:\n"
        "  1. Set your model provider's key: export OPENAI_API_KEY=sk-...  (and llm.base_url in"
        " config.yaml for a provider other than OpenAI; in GitHub, the repository secret"
        " OPENAI_API_KEY)\n"
        f"  2. Build today's digest: {where}digest build\n"
        f"  3. Look at it: {where}digest preview"
    )


def _site_options(command: F) -> F:
    command = click.option(
        "--no-search", is_flag=True, help="Leave the search index out (it takes the longest)."
    )(command)
    command = click.option(
        "--base-url",
        metavar="URL",
        help="Where the site is served, e.g. https://someone.github.io/my-digest/"
        " (default: url and baseurl in _config.yml).",
    )(command)
    return click.option(
        "--output",
        "output_dir",
        type=click.Path(path_type=Path, file_okay=False),
        default=None,
        help="Where the site goes (default: output.site_dir, _public).",
    )(command)


def _build_reader_site(
    config_path: Path, output_dir: Path | None, base_url: str | None, search: bool
) -> tuple[Path, str]:
    """Build the site; where it is, and its base path."""
    from arxiv_digest.report import plural
    from arxiv_digest.views.site import build_site, site_settings

    config = load_config(config_path)
    settings = site_settings(config, config_path.resolve().parent, base_url)
    output = (output_dir or config.output.site_dir).resolve()
    started = time.monotonic()
    result = build_site(config.output.records_dir, output, settings)
    _say(
        f"Site: {plural(result.days, 'day')} ({result.rendered} rendered, {result.removed}"
        f" removed), {plural(result.papers, 'paper page')} ({result.paper_pages_written}"
        f" written), {plural(result.index_pages, 'index page')} written"
        f" → {output} ({time.monotonic() - started:.2f} s)"
    )
    if search:
        from arxiv_digest.views.search import BUNDLE_DIR, write_index

        if result.rendered or result.removed or not (output / BUNDLE_DIR).is_dir():
            started = time.monotonic()
            pages = write_index(output)
            _say(f"Search: {plural(pages, 'paper')} indexed ({time.monotonic() - started:.2f} s)")
        else:
            _say("Search: unchanged")
    return output, settings.identity.base_path


@main.command()
@click.option(
    "--date",
    "date_text",
    default=None,
    help="The day to send, YYYY-MM-DD (default: today, in window.timezone, and the days of the"
    " past week with papers never sent).",
)
@click.option("--force", is_flag=True, help="Send it even if it was sent before.")
@click.option("--send-empty", is_flag=True, help="Send a day that has no papers too.")
@_common_options
@_reports_errors
def mail(date_text: str | None, force: bool, send_empty: bool, config_path: Path) -> None:
    """Send a day's digest by email (mail: in the configuration; the login from
    DIGEST_SMTP_USERNAME and DIGEST_SMTP_PASSWORD). A day is sent once."""
    from arxiv_digest.mail import days_to_send, mail_day
    from arxiv_digest.views.jekyll import read_site_identity

    config = load_config(config_path)
    today = _today(config)
    days = [_parse_day(date_text, "--date", today)] if date_text else days_to_send(today, config)
    identity = read_site_identity(config_path.resolve().parent / "_config.yml")
    for day in days:
        sent = mail_day(day, config, identity, os.environ, force=force, send_empty=send_empty)
        if sent.skipped:
            _say(f"Mail for {day}: not sent: {sent.skipped}")
        else:
            _say(f"Mail for {day}: {sent.papers} papers sent to {', '.join(sent.recipients)}")


@main.command()
@_site_options
@_common_options
@_reports_errors
def site(output_dir: Path | None, base_url: str | None, no_search: bool, config_path: Path) -> None:
    """Build the reader's site from the day records: pages, feeds and search."""
    _build_reader_site(config_path, output_dir, base_url, search=not no_search)


@main.command()
@_site_options
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8000,
    show_default=True,
    help="The port to serve on (0: any free port).",
)
@_common_options
@_reports_errors
def preview(
    output_dir: Path | None, base_url: str | None, no_search: bool, port: int, config_path: Path
) -> None:
    """Build the reader's site, then serve it on localhost until Ctrl-C."""
    from arxiv_digest.views.serve import serve_site

    output, base_path = _build_reader_site(config_path, output_dir, base_url, not no_search)
    serve_site(output, base_path, port, _say)
