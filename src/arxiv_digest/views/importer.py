"""`digest import`: posts in the reference format (what the original script published, and
what this tool wrote before it kept records) read into day records, once, to adopt a site
with its archive. After that the records are the truth and the posts are views of them.

A post knows less than a record: no English abstract (unless the post showed it in place
of a translation), no submission times, no primary category, no papers it did not show.
Those stay unknown (null) rather than guessed. A body that is not Chinese is the English
abstract shown for a failed translation; the original script's failure text
`（全文解读失败：…）` is a gap. A later build fills gaps like any other.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import NoReturn

from arxiv_digest.answers.tasks import ANALYSIS, TRANSLATION, in_task_order, is_chinese
from arxiv_digest.config import Config
from arxiv_digest.errors import BadInputError
from arxiv_digest.models import Answer, Paper, is_arxiv_id
from arxiv_digest.record import (
    SCHEMA,
    DayRecord,
    RecordWindow,
    ShownPaper,
    read_record,
    record_path,
    write_record,
)
from arxiv_digest.views import jekyll
from arxiv_digest.views.postformat import (
    ANALYSIS_CLOSING,
    ANALYSIS_OPENING,
    ARXIV,
    AUTHORS,
    CATEGORIES,
    PDF,
)

_INTRO = re.compile(r"^以下为 (?P<day>\d{4}-\d\d-\d\d)（.*）窗口内更新的论文中文译文：$")
_WINDOW = re.compile(
    r"^- 时间窗口（锚点 (?P<anchor>\d\d:\d\d) (?P<zone>\S+)）："
    r"(?P<start>\d{4}-\d\d-\d\d \d\d:\d\d) — (?P<end>\d{4}-\d\d-\d\d \d\d:\d\d)$"
)
_COUNTS = re.compile(r"^- 抓取总数：(?P<in_window>\d+) 篇 \\?\| 本页显示：(?P<shown>\d+) 篇")
# A paper's metadata lines, each with what the error message calls it.
_METADATA = (
    (re.compile(rf"^- \*\*{AUTHORS}\*\*: (?P<value>.*)$"), f"`- **{AUTHORS}**: …`"),
    (re.compile(rf"^- \*\*{CATEGORIES}\*\*: (?P<value>.*)$"), f"`- **{CATEGORIES}**: …`"),
    (
        re.compile(rf"^- \*\*{ARXIV}\*\*: \[https://arxiv\.org/abs/(?P<value>[^\]\s]+)\]\(\S+\)$"),
        f"`- **{ARXIV}**: [https://arxiv.org/abs/ID](…)`",
    ),
    (re.compile(rf"^- \*\*{PDF}\*\*: \[\S+\]\(\S+\)$"), f"`- **{PDF}**: […](…)`"),
)
_ANALYSIS_FAILED = re.compile(r"^（全文解读失败[:：]\s*(?P<reason>.*)）$")


class PostFormatError(BadInputError):
    def __init__(self, path: Path, line: int, problem: str) -> None:
        super().__init__(f"{path}:{line}: {problem}")


@dataclass
class ImportResult:
    imported: list[Path] = field(default_factory=list)
    """The records written."""
    skipped: list[str] = field(default_factory=list)
    """Posts left alone, each with why."""
    failed: list[str] = field(default_factory=list)
    """One line for each post that is not in the format."""


def import_posts(paths: Sequence[Path] | None, config: Config) -> ImportResult:
    """Read `paths` (every post in `output.posts_dir` when None) into records.

    A post whose day has a record already is left alone; a post that is not in
    the format is reported and the others are still imported.
    """
    result = ImportResult()
    for path in _post_paths(paths, config.output.posts_dir):
        name = jekyll.parse_post_name(path.name)
        if name is None:
            result.failed.append(f"{path}: not a post file name (YYYY-MM-DD-slug.md)")
            continue
        existing = record_path(config.output.records_dir, name.day)
        if read_record(existing) is not None:
            result.skipped.append(f"{path}: {existing} exists already")
            continue
        try:
            record = read_post(path, name.day, config)
        except BadInputError as error:
            result.failed.append(str(error))
            continue
        write_record(config.output.records_dir, record)
        result.imported.append(record_path(config.output.records_dir, record.day))
    return result


def _post_paths(paths: Sequence[Path] | None, posts_dir: Path) -> Iterable[Path]:
    if paths is not None:
        return paths
    if not posts_dir.is_dir():
        raise BadInputError(f"{posts_dir}: no posts directory to import; check output.posts_dir")
    return sorted(p for p in posts_dir.iterdir() if jekyll.parse_post_name(p.name))


def read_post(path: Path, day: date, config: Config) -> DayRecord:
    """The record of one post in the reference format; PostFormatError names the line."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise BadInputError(f"{path}: cannot be read ({error})") from None
    _, body, offset = jekyll.split_front_matter(path, text.replace("\r\n", "\n"))
    reader = _Lines(path, body.split("\n"), offset)
    intro = reader.expect(_INTRO, "the introduction line `以下为 YYYY-MM-DD（…）…：`")
    if intro["day"] != day.isoformat():
        reader.fail(f"the post is dated {intro['day']} but its file name says {day}")
    window_line = reader.expect(_WINDOW, "the window line `- 时间窗口（锚点 HH:MM …）：… — …`")
    counts = reader.expect(_COUNTS, "the counts line `- 抓取总数：N 篇 | 本页显示：M 篇…`")
    window = _window(reader, window_line, config)
    papers = [_entry(reader, config) for _ in reader.entries()]
    if len(papers) != int(counts["shown"]):
        reader.fail(f"the header says {counts['shown']} papers are shown, but {len(papers)} are")
    return DayRecord(
        schema=SCHEMA,
        day=day,
        window=window,
        in_window=max(int(counts["in_window"]), len(papers)),
        papers=tuple(papers),
        imported_from=path.name,
    )


def _window(reader: _Lines, found: re.Match[str], config: Config) -> RecordWindow:
    zone = config.window.zone
    start, end = (
        datetime.strptime(found[name], "%Y-%m-%d %H:%M").replace(tzinfo=zone)
        for name in ("start", "end")
    )
    if end.strftime("%Z") != found["zone"]:
        reader.fail(
            f"the window is in {found['zone']} time, but window.timezone is"
            f" {config.window.timezone} ({end:%Z}); set the zone the posts were written in"
        )
    return RecordWindow(timezone=config.window.timezone, start=start, end=end)


def _entry(reader: _Lines, config: Config) -> ShownPaper:
    heading = reader.line_number
    title = reader.take().removeprefix("## ")
    authors, categories, arxiv_id, _ = (
        reader.expect(pattern, what, after_blank=False) for pattern, what in _METADATA
    )
    if not is_arxiv_id(arxiv_id["value"]):
        reader.fail(f"{arxiv_id['value'][:80]!r} is not an arXiv id with version", back=2)
    content = reader.entry_content()
    analysis_text, body = _split_details(content)
    gaps: dict[str, str] = {}
    answers: dict[str, Answer] = {}
    paragraphs = body.split("\n\n")
    failure = _ANALYSIS_FAILED.match(paragraphs[-1].strip())
    if failure is not None and len(paragraphs) > 1:
        body = "\n\n".join(paragraphs[:-1])
    if analysis_text is not None:
        failure = _ANALYSIS_FAILED.match(analysis_text.strip()) or failure
    if failure is not None:
        gaps[ANALYSIS.name] = f"the original tool's analysis failed: {failure['reason']}"
    elif analysis_text is not None:
        answers[ANALYSIS.name] = _imported(analysis_text)
    else:
        gaps[ANALYSIS.name] = "the imported post showed no analysis"
    abstract = None
    if config.llm.require_chinese and not is_chinese(body):
        # The original abstract, shown where the translation failed.
        abstract = body
        gaps[TRANSLATION.name] = "the imported post showed the English abstract"
    else:
        answers[TRANSLATION.name] = _imported(body)
    if not title.strip() or not body.strip():
        reader.fail("a paper without a title or a text", line=heading)
    paper = Paper(
        arxiv_id=arxiv_id["value"],
        title=jekyll.liquid_decode(title),
        authors=tuple(jekyll.liquid_decode(authors["value"]).split(", ")),
        categories=tuple(categories["value"].split(", ")),
        primary_category=None,
        abstract=abstract,
        published=None,
    )
    return ShownPaper(paper=paper, answers=in_task_order(answers), gaps=gaps)


def _imported(text: str) -> Answer:
    return Answer(text=text, model=None, prompt_sha256=None)


def _split_details(content: list[str]) -> tuple[str | None, str]:
    """The analysis in the entry's `<details>` block (None without one), and the body before."""
    if tuple(content[-len(ANALYSIS_CLOSING) :]) == ANALYSIS_CLOSING:
        for start in range(len(content) - len(ANALYSIS_OPENING), -1, -1):
            if tuple(content[start : start + len(ANALYSIS_OPENING)]) == ANALYSIS_OPENING:
                analysis = content[start + len(ANALYSIS_OPENING) : -len(ANALYSIS_CLOSING)]
                body = content[:start]
                if body and body[-1] == "":
                    body = body[:-1]
                return jekyll.liquid_decode("\n".join(analysis)), _joined(body)
    return None, _joined(content)


def _joined(lines: list[str]) -> str:
    return jekyll.liquid_decode("\n".join(lines))


class _Lines:
    """A cursor over a post's body lines that reports problems by file and line."""

    def __init__(self, path: Path, lines: list[str], offset: int) -> None:
        self.path = path
        self.lines = lines
        self.offset = offset
        self.index = 0

    @property
    def line_number(self) -> int:
        return self.offset + self.index + 1

    def fail(self, problem: str, *, back: int = 0, line: int | None = None) -> NoReturn:
        raise PostFormatError(self.path, line or self.line_number - back, problem)

    def skip_blank(self) -> None:
        while self.index < len(self.lines) and not self.lines[self.index].strip():
            self.index += 1

    def take(self) -> str:
        line = self.lines[self.index]
        self.index += 1
        return line

    def expect(
        self, pattern: re.Pattern[str], what: str, *, after_blank: bool = True
    ) -> re.Match[str]:
        """The next line, which must match `pattern`; blank lines before it are skipped
        unless `after_blank` is False."""
        if after_blank:
            self.skip_blank()
        found = pattern.match(self.lines[self.index]) if self.index < len(self.lines) else None
        if found is None:
            raise PostFormatError(self.path, self.line_number, f"expected {what}")
        self.index += 1
        return found

    def entries(self) -> Iterable[None]:
        """Stops at each paper's `## ` heading, until the end of the post."""
        while True:
            self.skip_blank()
            if self.index >= len(self.lines):
                return
            if not self.lines[self.index].startswith("## "):
                self.fail("expected a paper's `## ` heading")
            yield None

    def entry_content(self) -> list[str]:
        """The lines of a paper after its metadata, up to its closing `---`.

        The paper ends at the last `---` line before the next paper's heading or the
        end of the post.
        """
        if self.index >= len(self.lines) or self.lines[self.index] != "":
            self.fail("expected a blank line after the paper's metadata")
        start = self.index + 1
        end = start
        while end < len(self.lines) and not self._paper_starts(end):
            end += 1
        close = end - 1
        while close >= start and not self.lines[close].strip():
            close -= 1
        if close < start or self.lines[close] != "---":
            self.index = max(close, start)
            self.fail("the paper does not end with a `---` line")
        content = self.lines[start:close]
        while content and content[-1] == "":
            content.pop()
        self.index = end
        return content

    def _paper_starts(self, index: int) -> bool:
        """A `## ` heading followed by the Authors line starts a paper; `_entry` then
        requires the rest of its metadata, so a damaged block is named by its line."""
        following = self.lines[index + 1] if index + 1 < len(self.lines) else ""
        return self.lines[index].startswith("## ") and _METADATA[0][0].match(following) is not None
