"""A day's record: the lasting truth of one day, committed with the site.

`_records/{day}.json` holds the window, every paper first submitted in it — the
shown ones with their full metadata, accepted answers and gaps, the others with
why they were not shown — so that the Markdown post and the HTML site are views
rendered from it, and losing the cache loses nothing.

The bytes are deterministic (fields in a fixed order, UTF-8 without escapes,
two-space indent, a final newline), so a nightly commit's diff shows only what
changed. A record is validated whole when read; a problem is reported with the
file and the JSON path, and nothing is overwritten.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import TypeAdapter, ValidationError

from arxiv_digest.errors import BadInputError
from arxiv_digest.models import STRICT_FIELDS, Answer, Figure, Link, Paper, Window, is_arxiv_id
from arxiv_digest.write import write_atomically

SCHEMA = 5
"""The record format this version writes. A newer one is refused, never rewritten."""
READABLE_SCHEMAS = (1, 2, 3, 4, 5)
"""Schema 1 records lack `settled`, and are read as unsettled; schema 2 records lack the
answers' `unconfirmed`, and are read as confirming everything; schema 3 records lack the
answers' `source` and `cut` and the papers' `figure`, and are read as not saying; schema 4
records lack the papers' `pending`, and are read as waiting for no batch."""

_BATCH_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,127}")
"""A provider's batch id as providers make them (`batch_abc123`, DashScope's `batch_…-…`)."""

# Reasons a paper of the window is not shown: the setting that left it out.
NOT_SHOWN_CAP = "filter.max_papers"
NOT_SHOWN_PRIMARY = "filter.primary_only"
NOT_SHOWN_INCLUDE = "filter.include_keywords"
NOT_SHOWN_EXCLUDE = "filter.exclude_keywords"
NOT_SHOWN_CATEGORY = "arxiv.categories"


@dataclass(frozen=True)
class RecordWindow:
    __pydantic_config__ = STRICT_FIELDS

    timezone: str
    start: datetime
    end: datetime


@dataclass(frozen=True)
class ShownPaper:
    """A paper the day shows, in the version it shows, with its answers and gaps by task."""

    __pydantic_config__ = STRICT_FIELDS

    paper: Paper
    answers: dict[str, Answer] = field(default_factory=dict)
    gaps: dict[str, str] = field(default_factory=dict)
    """Why a task has no answer yet; a later build asks again."""
    links: tuple[Link, ...] = ()
    """Code, demo and data links found in the abstract, the comment and the PDF's text."""
    figure: Figure | None = None
    """Its first figure, when its HTML version has one that could be made a WebP."""
    pending: dict[str, str] = field(default_factory=dict)
    """The provider's batch each task's request waits in (`llm.mode: batch`); a later build
    collects it."""


@dataclass(frozen=True)
class NotShown:
    __pydantic_config__ = STRICT_FIELDS

    paper: Paper
    reason: str
    """The setting that left it out, e.g. ``filter.max_papers``."""


@dataclass(frozen=True)
class DayRecord:
    __pydantic_config__ = STRICT_FIELDS

    schema: int
    day: date
    window: RecordWindow
    in_window: int
    """Distinct papers first submitted in the window (the post's 抓取总数)."""
    papers: tuple[ShownPaper, ...]
    """The shown papers, in the order the day shows them."""
    not_shown: tuple[NotShown, ...] = ()
    settled: bool = False
    """Whether arXiv had announced everything submitted in the window when it was fetched;
    a settled window is not fetched again by `digest build --refresh`."""
    imported_from: str | None = None
    """The post this record was imported from, when another tool built the day."""

    @property
    def unaccounted(self) -> int:
        """Papers the header counts that the record cannot name (only in imported days)."""
        return self.in_window - len(self.papers) - len(self.not_shown)

    def zoned_window(self) -> Window:
        """The window in the record's own time zone."""
        zone = ZoneInfo(self.window.timezone)
        return Window(
            day=self.day,
            start=self.window.start.astimezone(zone),
            end=self.window.end.astimezone(zone),
        )


@functools.cache
def _adapter() -> TypeAdapter[DayRecord]:
    """Built on first use: building it costs a command's start that reads no record."""
    return TypeAdapter(DayRecord)


class RecordError(BadInputError):
    """A record that cannot be read: corrupt, hand-broken, or of a newer schema."""

    def __init__(self, path: Path, where: str, problem: str) -> None:
        self.path = path
        location = f" at {where}" if where else ""
        super().__init__(
            f"{path}{location}: {problem}; fix it, or restore it with `git checkout -- {path}`"
        )


def record_path(records_dir: Path, day: date) -> Path:
    return records_dir / f"{day.isoformat()}.json"


def record_paths(records_dir: Path) -> list[tuple[date, Path]]:
    """The day records in `records_dir`, oldest first (nothing when there is no such folder)."""
    if not records_dir.is_dir():
        return []
    found = []
    for path in records_dir.glob("*.json"):
        try:
            day = date.fromisoformat(path.stem)
        except ValueError:
            continue
        if len(path.stem) == 10:  # YYYY-MM-DD, not a compact ISO form
            found.append((day, path))
    return sorted(found)


class Records:
    """A run's reader of the day records in a folder: each is read at most once, and a
    record the run writes is the one it reads after."""

    def __init__(self, records_dir: Path) -> None:
        self.records_dir = records_dir
        self._read: dict[date, DayRecord | None] = {}
        self._days: dict[date, Path] | None = None

    def get(self, day: date) -> DayRecord | None:
        """The day's record; None when it has none; RecordError when it cannot be used."""
        if day not in self._read:
            self._read[day] = read_record(record_path(self.records_dir, day))
        return self._read[day]

    def days(self) -> list[date]:
        """The days that have a record, oldest first."""
        if self._days is None:
            self._days = dict(record_paths(self.records_dir))
        return sorted(self._days)

    def shown_papers(self) -> list[Paper]:
        """Every paper the archive shows, day by day (what a ranking of likes trains on)."""
        return [
            shown.paper
            for day in self.days()
            for record in [self.get(day)]
            if record is not None
            for shown in record.papers
        ]

    def write(self, record: DayRecord) -> bool:
        """Write `record` atomically; False when the file already held exactly these bytes."""
        changed = write_record(self.records_dir, record)
        self._read[record.day] = record
        if self._days is not None:
            self._days[record.day] = record_path(self.records_dir, record.day)
        return changed

    def unfinished_days(self, day: date, ceiling_days: int) -> list[date]:
        """The days before `day`, back to `ceiling_days` and not before the first record,
        whose window is not settled (a day without a record counts as unsettled) or whose
        answers wait in a provider's batch."""
        first = min(self.days(), default=day)
        days = []
        for back in range(1, ceiling_days + 1):
            earlier = day - timedelta(days=back)
            if earlier < first:
                break
            record = self.get(earlier)
            if record is None or not record.settled or any(s.pending for s in record.papers):
                days.append(earlier)
        return sorted(days)


def to_json(record: DayRecord) -> str:
    """The record's deterministic text."""
    return _adapter().dump_json(record, indent=2).decode("utf-8") + "\n"


def write_record(records_dir: Path, record: DayRecord) -> bool:
    """Write `record` atomically; False when the file already held exactly these bytes."""
    return write_atomically(record_path(records_dir, record.day), to_json(record))


def read_record(path: Path) -> DayRecord | None:
    """The record at `path`, None when there is none; RecordError when it cannot be used."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as error:
        raise RecordError(path, "", f"cannot be read ({error})") from None
    return record_from_bytes(path, data)


def record_from_bytes(path: Path, data: bytes) -> DayRecord:
    """The record that `data`, read from `path`, holds; RecordError when it cannot be used."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise RecordError(path, "", f"cannot be read ({error})") from None
    return parse_record(path, text)


def parse_record(path: Path, text: str) -> DayRecord:
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as error:
        raise RecordError(
            path, f"line {error.lineno}, column {error.colno}", f"invalid JSON ({error.msg})"
        ) from None
    schema = raw.get("schema") if isinstance(raw, dict) else None
    if isinstance(schema, int) and schema > SCHEMA:
        raise BadInputError(
            f"{path}: a record of schema {schema}, written by a newer arxiv-digest"
            f" (this one reads schema {SCHEMA}); upgrade arxiv-digest"
        )
    try:
        record = _adapter().validate_json(text, strict=True)
    except ValidationError as error:
        first = error.errors()[0]
        raise RecordError(path, json_path(first["loc"]), first["msg"]) from None
    for where, problem in _problems(record):
        raise RecordError(path, where, problem)
    return record


def json_path(location: tuple[int | str, ...]) -> str:
    """A pydantic location as a JSON path, e.g. ``$.papers[3].answers.translation.text``."""
    path = "$"
    for part in location:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def _problems(record: DayRecord) -> Iterator[tuple[str, str]]:
    """What pydantic's types cannot say: the values a record must hold to be published."""
    if record.schema not in READABLE_SCHEMAS:
        yield "$.schema", f"must be one of {', '.join(map(str, READABLE_SCHEMAS))}"
    try:
        ZoneInfo(record.window.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        yield "$.window.timezone", f"unknown time zone {record.window.timezone!r}"
    for name in ("start", "end"):
        if getattr(record.window, name).tzinfo is None:
            yield f"$.window.{name}", "needs a UTC offset"
    entries = [("papers", shown.paper) for shown in record.papers]
    entries += [("not_shown", left.paper) for left in record.not_shown]
    counters = {"papers": 0, "not_shown": 0}
    for kind, paper in entries:
        where = f"$.{kind}[{counters[kind]}].paper"
        counters[kind] += 1
        # The id goes into URLs on a public page.
        if not is_arxiv_id(paper.arxiv_id):
            yield f"{where}.arxiv_id", f"{paper.arxiv_id[:80]!r} is not an arXiv id with version"
        for name in ("published", "updated"):
            moment = getattr(paper, name)
            if moment is not None and moment.tzinfo is None:
                yield f"{where}.{name}", "needs a UTC offset"
    for index, shown in enumerate(record.papers):
        for task, batch_id in shown.pending.items():
            # The id goes into a request to the provider, with the owner's key.
            if not _BATCH_ID.fullmatch(batch_id):
                yield f"$.papers[{index}].pending.{task}", f"{batch_id[:80]!r} is not a batch id"
    if record.unaccounted < 0:
        yield "$.in_window", "is smaller than the papers the record names"
