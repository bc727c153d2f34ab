"""The `digest` command: parses options, calls the library, reports. Nothing else lives here."""

from __future__ import annotations

import functools
import logging
import os
import sys
import traceback
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar

import click

from arxiv_digest import __version__
from arxiv_digest.build import BuildResult, build_site
from arxiv_digest.config import Config, load_config
from arxiv_digest.errors import EXIT_INCOMPLETE, BadInputError, DigestError

F = TypeVar("F", bound=Callable[..., Any])
_FIRST_ARXIV_DAY = date(1991, 8, 1)


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


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="digest")
def main() -> None:
    """Build a daily Chinese digest of new arXiv papers as Jekyll posts."""


@main.command()
@click.option(
    "--date",
    "day_text",
    metavar="YYYY-MM-DD",
    help="The post's date; its window is [date-1 anchor, date anchor). Default: today.",
)
@_common_options
@_reports_errors
def build(day_text: str | None, config_path: Path) -> None:
    """Fetch, translate, analyse and write the post of one day."""
    config = load_config(config_path)
    day = _parse_day(day_text, config)
    api_key = os.environ.get("OPENAI_API_KEY", "").strip()
    if not api_key:
        raise BadInputError(
            "OPENAI_API_KEY is not set; export your model provider's key, e.g."
            " `export OPENAI_API_KEY=sk-...`"
        )
    result = build_site([day], config, api_key, _say)
    _summarize(result)
    if result.incomplete:
        sys.exit(EXIT_INCOMPLETE)


def _parse_day(text: str | None, config: Config) -> date:
    today = datetime.now(config.window.zone).date()
    if text is None:
        return today
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise BadInputError(
            f"--date {text!r} is not a date; use YYYY-MM-DD, e.g. {today.isoformat()}"
        ) from None
    if day > today:
        raise BadInputError(
            f"--date {day} is in the future (today is {today} in {config.window.timezone})"
        )
    if day < _FIRST_ARXIV_DAY:
        raise BadInputError(f"--date {day} is before arXiv existed (August 1991)")
    return day


def _summarize(result: BuildResult) -> None:
    for day in result.days:
        where = "nothing written"
        if day.post_path is not None:
            where = f"{day.post_path} ({'written' if day.changed else 'unchanged'})"
            click.echo(str(day.post_path))
        _say(
            f"{day.day}: {day.fetched} fetched, {day.shown} shown, {day.complete} complete"
            f" → {where}"
        )
        for gap in day.gaps:
            _say(f"  missing {gap.arxiv_id} {gap.task}: {gap.reason}")
    stats = result.stats
    _say(
        f"Model: {stats.model_requests} requests (at most {stats.peak_concurrent_requests}"
        f" at once), {stats.cache_hits} cache hits,"
        f" {stats.tokens_in} tokens in, {stats.tokens_out} tokens out;"
        f" arXiv: {result.arxiv_requests} requests; PDFs: {stats.pdf_downloads} downloaded;"
        f" {result.elapsed_seconds:.1f} s"
    )
    if result.incomplete:
        missing = sum(len(day.gaps) for day in result.days)
        _say(
            f"Incomplete: {missing} translations or analyses are missing;"
            " run the same command again to fill the gaps."
        )
