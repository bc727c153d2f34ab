"""Benchmarks of `digest build`: one command runs them all and writes benchmarks/RESULTS.md.

    pip install -e '.[bench]' && python benchmarks/run.py

Every build is the installed `digest` command against the local stand-ins of
tests/standins.py (arXiv API, PDF host, a chat-completions server that answers
after a fixed latency), so the figures measure this tool, not a network.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as time_of_day
from pathlib import Path
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests import corpus  # noqa: E402
from tests.conftest import SHARED, Site  # noqa: E402
from tests.standins import (  # noqa: E402
    ArxivStandIn,
    FeedPaper,
    ModelStandIn,
    PdfHost,
    make_pdf,
    running,
)

from arxiv_digest.answers import pdftext  # noqa: E402
from arxiv_digest.models import Answer, Paper  # noqa: E402
from arxiv_digest.record import (  # noqa: E402
    SCHEMA,
    DayRecord,
    RecordWindow,
    ShownPaper,
    write_record,
)
from arxiv_digest.templating import template_environment  # noqa: E402
from arxiv_digest.views.day import ViewSettings, day_view  # noqa: E402
from arxiv_digest.views.post import post_context, render_post  # noqa: E402
from arxiv_digest.window import window_for  # noqa: E402

DAY = "2026-02-13"
CLOSING = datetime(2026, 2, 13, 0, 50, tzinfo=UTC)


@dataclass
class BuildFigures:
    papers: int
    concurrency: int
    latency_seconds: float
    wall_seconds: float
    model_requests: int
    pdf_downloads: int
    peak_in_flight: int
    rejected_429: int
    exit_status: int

    @property
    def ideal_seconds(self) -> float:
        return math.ceil(2 * self.papers / self.concurrency) * self.latency_seconds

    @property
    def ratio(self) -> float:
        return self.wall_seconds / self.ideal_seconds if self.ideal_seconds else float("nan")


def day_of(count: int, days_back: int = 0, first: int = 0) -> list[FeedPaper]:
    """`count` papers numbered from `first`, in the window `days_back` days before DAY's."""
    return [
        FeedPaper(
            arxiv_id=f"2602.4{number:04d}v1",
            title=f"Benchmark Paper {number}",
            authors=["Author One", "Author Two"],
            categories=["cs.SD", "eess.AS"],
            abstract=f"Abstract of benchmark paper {number}. " * 8,
            published=CLOSING - timedelta(days=days_back, minutes=3 * (number - first) + 1),
        )
        for number in range(first, first + count)
    ]


def translation_of(arxiv_id: str) -> str:
    """A faithful translation of `day_of`'s abstract (it keeps the paper's number), so that
    no translation is asked for again as unfaithful."""
    number = int(arxiv_id.split(".")[1][1:5])
    return f"基准论文 {number} 的摘要。" * 8


def paper_pdf(paper: FeedPaper) -> bytes:
    pages = [
        [f"{paper.title}: page {page}, line {line}, method and results text." for line in range(55)]
        for page in range(8)
    ]
    return make_pdf(pages)


class Bench:
    """A site in a temporary directory, wired to fresh stand-ins."""

    def __init__(self, papers: list[FeedPaper], latency_seconds: float, max_concurrent: int | None):
        self.directory = tempfile.TemporaryDirectory(prefix="digest-bench-")
        self.arxiv = ArxivStandIn(papers)
        self.pdfs = PdfHost({paper.arxiv_id: paper_pdf(paper) for paper in papers})
        self.model = ModelStandIn(
            answerer=lambda arxiv_id, task, request: (
                corpus.analysis_for(arxiv_id) if task == "analysis" else translation_of(arxiv_id)
            ),
            latency_seconds=latency_seconds,
            max_concurrent=max_concurrent,
        )
        self.site = Site(Path(self.directory.name), self.arxiv, self.pdfs, self.model)

    def build(self, concurrency: int, latency_seconds: float) -> BuildFigures:
        self.site.write_config(
            llm={"concurrency": concurrency, "max_retries": 6},
            filter={"max_papers": len(self.arxiv.papers)},
        )
        calls, downloads = len(self.model.calls), self.pdfs.downloads
        self.model.peak_in_flight = 0
        self.model.rejected = 0
        started = time.perf_counter()
        run = self.site.digest("build", "--date", DAY, "--yes", timeout=1800)
        wall = time.perf_counter() - started
        if run.status != 0:
            print(run.stderr[-2000:], file=sys.stderr)
        return BuildFigures(
            papers=len(self.arxiv.papers),
            concurrency=concurrency,
            latency_seconds=latency_seconds,
            wall_seconds=wall,
            model_requests=len(self.model.calls) - calls,
            pdf_downloads=self.pdfs.downloads - downloads,
            peak_in_flight=self.model.peak_in_flight,
            rejected_429=self.model.rejected,
            exit_status=run.status,
        )


def cold_and_warm(
    papers: int, concurrency: int, latency_seconds: float, max_concurrent: int | None = None
) -> tuple[BuildFigures, BuildFigures]:
    bench = Bench(day_of(papers), latency_seconds, max_concurrent)
    with running(bench.arxiv, bench.pdfs, bench.model):
        cold = bench.build(concurrency, latency_seconds)
        warm = bench.build(concurrency, latency_seconds)
    bench.directory.cleanup()
    return cold, warm


def extraction_seconds_per_page(pdf_bytes: bytes) -> dict[str, float]:
    """Seconds per page for pypdfium2 and, where installed, pypdf and pdfminer.six (best of 3)."""
    import io

    def pypdfium2_text() -> int:
        return pdftext.extract_text(pdf_bytes, max_pages=10_000)[1]

    extractors = {"pypdfium2": pypdfium2_text}
    try:
        import pypdf

        def pypdf_text() -> int:
            reader = pypdf.PdfReader(io.BytesIO(pdf_bytes))
            for page in reader.pages:
                page.extract_text()
            return len(reader.pages)

        extractors["pypdf"] = pypdf_text
    except ImportError:
        pass
    try:
        from pdfminer.high_level import extract_pages

        def pdfminer_text() -> int:
            return sum(1 for _ in extract_pages(io.BytesIO(pdf_bytes)))

        extractors["pdfminer.six"] = pdfminer_text
    except ImportError:
        pass
    figures = {}
    for name, extract in extractors.items():
        timings = []
        for _ in range(3):
            started = time.perf_counter()
            pages = extract()
            timings.append((time.perf_counter() - started) / pages)
        figures[name] = min(timings)
    return figures


def archive_of_posts(posts_dir: Path, count: int, papers_per_post: int) -> None:
    """`count` days of `papers_per_post` papers each: records in `_records/` beside
    `posts_dir`, and the posts rendered from them by the real templates."""
    templates = template_environment(ROOT / "templates")
    zone = ZoneInfo("Asia/Shanghai")
    posts_dir.mkdir(parents=True, exist_ok=True)
    first = date(2023, 6, 1)
    for number in range(count):
        day = first + timedelta(days=number)
        window = window_for(day, time_of_day(8, 50), zone)
        papers = tuple(
            ShownPaper(
                paper=Paper(
                    arxiv_id=f"{day:%y%m}.{number:03d}{slot:02d}v1",
                    title=f"Benchmark Paper {number}-{slot}: Speech, Audio and Music at Scale",
                    authors=("Author One", "Author Two", "Author Three"),
                    categories=("cs.SD", "eess.AS"),
                    primary_category="cs.SD",
                    abstract="An abstract.",
                    published=window.end - timedelta(minutes=slot + 1),
                ),
                answers={
                    "translation": Answer(
                        "本文提出一种新的语音增强方法，在多个公开数据集上取得了显著提升。" * 4,
                        "bench",
                        None,
                    ),
                    "analysis": Answer(
                        corpus.analysis_for(f"Paper {number}-{slot}")
                        + f"\n- 公式：$$ l_k = \\sum_{{i \\in P}} a_i t_{{k,i}} $$（第 {slot} 篇），"
                        "信噪比 $$ \\mathrm{SNR} = 10 \\log_{10} \\frac{\\Vert s \\Vert^2}"
                        "{\\Vert s - \\hat{s} \\Vert^2} $$。\n\n$$ \\mathcal{L} = \\sum_{i=1}^{N}"
                        " \\log p(y_i \\vert x_i) $$",
                        "bench",
                        None,
                    ),
                },
            )
            for slot in range(papers_per_post)
        )
        record = DayRecord(
            schema=SCHEMA,
            day=day,
            window=RecordWindow("Asia/Shanghai", window.start, window.end),
            in_window=papers_per_post,
            papers=papers,
        )
        write_record(posts_dir.parent / "_records", record)
        settings = ViewSettings(["cs.SD", "eess.AS"])
        text = render_post(templates, post_context(day_view(record, settings), settings))
        (posts_dir / f"{day.isoformat()}-arxiv.md").write_text(text, encoding="utf-8")


def timed(command: list[str], cwd: Path) -> float:
    started = time.perf_counter()
    subprocess.run(command, cwd=cwd, check=True, capture_output=True)
    return time.perf_counter() - started


class Measured(NamedTuple):
    wall_seconds: float
    peak_mb: float
    """Peak memory of its largest process (`digest` or a worker of it)."""
    cpu_seconds: float
    """User and system time of all its processes."""


def measured(command: list[str], cwd: Path) -> Measured:
    """`command` run to its end, measured by a small Python parent so that its own start is
    not counted."""
    probe = (
        "import resource, subprocess, sys, time; started = time.perf_counter();"
        " subprocess.run(sys.argv[1:], check=True, capture_output=True);"
        " usage = resource.getrusage(resource.RUSAGE_CHILDREN);"
        " print(time.perf_counter() - started, usage.ru_maxrss, usage.ru_utime + usage.ru_stime)"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe, *command], cwd=cwd, check=True, capture_output=True, text=True
    )
    seconds, kilobytes, cpu_seconds = done.stdout.split()[-3:]
    return Measured(float(seconds), int(kilobytes) / 1024, float(cpu_seconds))


def _is_tmpfs(path: str) -> bool:
    """Whether `path` is on a file system in memory (tmpfs), from /proc/mounts."""
    best, kind = "", ""
    for line in Path("/proc/mounts").read_text().splitlines():
        _, mount, fs_type, *_ = line.split()
        if (path == mount or path.startswith(mount.rstrip("/") + "/")) and len(mount) > len(best):
            best, kind = mount, fs_type
    return kind == "tmpfs"


def _folders_seconds(count: int) -> float:
    """What the file system alone costs a site of `count` paper pages: a folder each with a
    page of 6 KB, written by the plainest loop."""
    page = b"x" * 6000
    with tempfile.TemporaryDirectory(prefix="digest-folders-") as directory:
        started = time.perf_counter()
        for number in range(count):
            folder = Path(directory) / f"{number:05d}"
            folder.mkdir()
            (folder / "index.html").write_bytes(page)
        return time.perf_counter() - started


def site_at_scale(say: Callable[[str], None], count: int, papers_per_post: int) -> None:
    """`digest site` on an archive of `count` days against `jekyll build` of the same posts."""
    with tempfile.TemporaryDirectory(prefix="digest-archive-") as directory:
        root = Path(directory)
        archive_of_posts(root / "_posts", count, papers_per_post)
        (root / "config.yaml").write_text("{}\n", encoding="utf-8")
        for name in ("_config.yml", "index.html", "archive.html"):
            shutil.copy(ROOT / name, root / name)
        for name in ("_includes", "assets"):
            shutil.copytree(ROOT / name, root / name)
        digest = str(Path(sys.executable).with_name("digest"))
        html_only = [digest, "site", "--no-search"]
        with python_bytecode():
            cold_run = measured(html_only, root)
            cold, cold_mb = cold_run.wall_seconds, cold_run.peak_mb
            search, search_mb, _ = measured([digest, "site"], root)  # the index alone
            again, _, _ = measured(html_only, root)
            changed = root / "_records" / f"{date(2023, 6, 1) + timedelta(days=count // 2)}.json"
            changed.write_text(changed.read_text("utf-8").replace("第 3 篇", "第三篇"), "utf-8")
            one_day, _, _ = measured(html_only, root)
            new_day = root / "_records" / f"{date(2023, 6, 1) + timedelta(days=count)}.json"
            text = changed.read_text("utf-8").replace(changed.stem, new_day.stem)
            new_day.write_text(text, "utf-8")
            added, _, _ = measured(html_only, root)
        posts_mb = sum(path.stat().st_size for path in (root / "_posts").iterdir()) / 2**20
        site_mb = (
            sum(p.stat().st_size for p in (root / "_public").rglob("*") if p.is_file()) / 2**20
        )
        jekyll = shutil.which("jekyll")
        jekyll_cold = jekyll_mb = float("nan")
        if jekyll:
            build = [jekyll, "build", "--source", str(root), "--destination", str(root / "_site")]
            jekyll_cold, jekyll_mb, _ = measured(build, root)
        cost_rows = cost_per_day(sorted((root / "_records").glob("*.json"))[:count])
    where = tempfile.gettempdir()
    on = f"output in memory, {where}" if _is_tmpfs(where) else f"output on disk, {where}"
    say(f"\n## The site at archive scale ({on})\n")
    say(
        f"{count:,} days of {papers_per_post} papers with formulas: {posts_mb:.0f} MB of posts,"
        f" {site_mb:.0f} MB of site. Each line is the installed command, start to end, in the same run, with Python's bytecode cache. `digest site` renders"
        " the records (a page per day and per paper, each paper's HTML rendered once for both, feeds,"
        " no search index) with a worker process per core; `jekyll build` renders the same days'"
        " posts.\n"
    )
    say("| build | seconds | peak memory MB | vs `jekyll build` |")
    say("| --- | ---: | ---: | ---: |")
    say(f"| `jekyll build`, cold | {jekyll_cold:.1f} | {jekyll_mb:.0f} | 1× |")
    say(
        f"| `digest site --no-search`, cold (empty output) | {cold:.2f} | {cold_mb:.0f} | {jekyll_cold / cold:.1f}× faster |"
    )
    say(
        f"| the file system alone: {count * papers_per_post:,} folders with a 6 KB page each,"
        f" one Python loop, nothing rendered | {_folders_seconds(count * papers_per_post):.2f} | | |"
    )
    say(
        f"| search index alone (Pagefind, {count * papers_per_post:,} paper pages) | {search:.2f} | {search_mb:.0f} | |"
    )
    say(f"| `digest site --no-search` again, nothing changed | {again:.2f} | | |")
    say(f"| again, one day changed | {one_day:.2f} | | |")
    say(f"| again, one day added (it and the day before it rendered) | {added:.2f} | | |")
    say(f"\n## Where a day page's time goes ({on})\n")
    say(
        "The cold `digest site --no-search` above: its CPU time (every process, start to end)"
        " per day, against the calls into native libraries it makes, each timed alone on the"
        " same days (best of 3). The rest is Python's.\n"
    )
    say("| step | ms per day |")
    say("| --- | ---: |")
    native_seconds = 0.0
    for label, seconds in cost_rows:
        native_seconds += seconds
        say(f"| {label} | {seconds * 1000 / count:.2f} |")
    cpu_seconds = cold_run.cpu_seconds
    say(f"| native libraries, together | {native_seconds * 1000 / count:.2f} |")
    say(
        "| the rest: the sanitizer's walk, glue, templates, files, start"
        f" | {(cpu_seconds - native_seconds) * 1000 / count:.2f} |"
    )
    say(f"| **`digest site --no-search`, CPU** | **{cpu_seconds * 1000 / count:.2f}** |")
    cores = os.cpu_count() or 1
    say(
        f"\nOn {cores} cores the native calls alone take {native_seconds / cores:.2f} s of wall"
        f" time; 10 × faster than `jekyll build` is {jekyll_cold / 10:.2f} s."
    )


def cost_per_day(paths: list[Path]) -> list[tuple[str, float]]:
    """Seconds the native libraries of `digest site` take on the records at `paths`, each
    step timed alone (best of 3) with the site's own parser options, sanitizer and converter:
    what a day page costs before any Python of ours runs."""
    import timeit

    import pyromark

    from arxiv_digest.record import record_from_bytes
    from arxiv_digest.views import safe_html, sanitize

    raw = [path.read_bytes() for path in paths]
    records = [record_from_bytes(path, data) for path, data in zip(paths, raw, strict=True)]
    blocks = [
        sanitize.block(text)
        for record in records
        for shown in record.papers
        for text in (shown.paper.abstract, *(answer.text for answer in shown.answers.values()))
    ]
    rendered = [pyromark.html(block, options=safe_html._OPTIONS) for block in blocks]
    formulas = [found for html in rendered for found in safe_html._MATH.findall(html)]
    converter, cleaner = safe_html._converter(), safe_html._cleaner()
    mathml = [str(converter.convert_with_local_state(tex, displaystyle=False)) for tex in formulas]
    held = [safe_html._MATH.sub("\ue000", html) for html in rendered]
    steps: list[tuple[str, Callable[[], object]]] = [
        (
            "record read and validated (pydantic-core)",
            lambda: [record_from_bytes(path, data) for path, data in zip(paths, raw, strict=True)],
        ),
        (
            "the sanitizer's parse (pulldown-cmark events, as Python objects)",
            lambda: [
                list(pyromark.events_with_range(block, options=sanitize._OPTIONS, merge_text=True))
                for block in blocks
            ],
        ),
        (
            "Markdown → HTML (pulldown-cmark)",
            lambda: [pyromark.html(block, options=safe_html._OPTIONS) for block in blocks],
        ),
        ("HTML sanitized (nh3), formulas held out", lambda: [cleaner.clean(h) for h in held]),
        (
            "formulas → MathML (math-core)",
            lambda: [
                converter.convert_with_local_state(tex, displaystyle=False) for tex in formulas
            ],
        ),
        (
            "MathML allowlist check (one regular expression)",
            lambda: [safe_html.checked_mathml(m) for m in mathml],
        ),
    ]
    return [(label, min(timeit.repeat(step, number=1, repeat=3))) for label, step in steps]


def renderer_costs(say: Callable[[str], None]) -> None:
    """Microseconds per answer of the candidate formula converters and Markdown renderers, on
    the sanitized analyses of the archive's kind."""
    import timeit

    import latex2mathml.converter
    import nh3
    import pyromark
    from math_core import LatexToMathML

    from arxiv_digest.views import safe_html, sanitize

    formulas = [
        r"l_k = \sum_{i \in P} a_i t_{k,i}",
        r"\mathcal{L} = \sum_{i=1}^{N} \log p(y_i \vert x_i; \theta) + \lambda \Vert\theta\Vert_2^2",
        r"\mathrm{SNR} = 10 \log_{10} \frac{\Vert s \Vert^2}{\Vert s - \hat{s} \Vert^2}",
    ]
    converter = LatexToMathML()
    texts = [
        sanitize.block(corpus.analysis_for(f"Paper {n}") + f"\n- 公式：$${formulas[n % 3]}$$")
        for n in range(300)
    ]
    rows = [
        (
            "formula → MathML: `math-core`",
            lambda: [converter.convert_with_local_state(f, displaystyle=False) for f in formulas],
            len(formulas),
        ),
        (
            "formula → MathML: `latex2mathml`",
            lambda: [latex2mathml.converter.convert(f) for f in formulas],
            len(formulas),
        ),
        (
            "analysis → HTML: `pyromark` (pulldown-cmark)",
            lambda: [pyromark.html(t) for t in texts],
            len(texts),
        ),
    ]
    try:
        import cmarkgfm

        rows.append(
            (
                "analysis → HTML: `cmarkgfm` (cmark-gfm)",
                lambda: [cmarkgfm.github_flavored_markdown_to_html(t) for t in texts],
                len(texts),
            )
        )
    except ImportError:
        pass
    html = [pyromark.html(t) for t in texts]
    allowlist = {"tags": safe_html.TAGS, "attributes": safe_html.ATTRIBUTES}
    cleaner = nh3.Cleaner(**allowlist)
    rows += [
        (
            "analysis HTML sanitized: `nh3.clean` (allowlist built each call)",
            lambda: [nh3.clean(h, **allowlist) for h in html],
            len(html),
        ),
        (
            "analysis HTML sanitized: one `nh3.Cleaner`, reused",
            lambda: [cleaner.clean(h) for h in html],
            len(html),
        ),
        (
            "analysis: the whole road (`sanitize.block`, then `safe_html.render_block`)",
            lambda: [safe_html.render_block(sanitize.block(t)) for t in texts],
            len(texts),
        ),
    ]
    say("\n## Formula converters and renderers, per item (best of 5)\n")
    say("| step | µs per item |")
    say("| --- | ---: |")
    for label, run, items in rows:
        seconds = min(timeit.repeat(run, number=1, repeat=5)) / items
        say(f"| {label} | {seconds * 1e6:.1f} |")


def scheduling(say: Callable[[str], None], latency: float = 0.25) -> None:
    """In-process builds against a model whose analyses take 4 L and other answers L, with
    the long requests sent first and (for comparison) in arrival order."""
    import asyncio as aio

    from tests.inprocess import Bench, Model
    from tests.standins import FeedPaper, triage_for

    from arxiv_digest.answers import executor as execute_module

    class SlowModel(Model):
        async def complete(self, prompt: Any, max_output_tokens: int) -> Any:
            completion = await super().complete(prompt, max_output_tokens)
            task = self.calls[-1][1]
            await aio.sleep(latency * (4 if task == "analysis" else 1))
            return completion

    papers = [
        FeedPaper(
            arxiv_id=f"2602.{30000 + number}v1",
            title=f"Scheduling Paper {number}",
            authors=["A. Author"],
            categories=["cs.SD"],
            abstract="An abstract.",
            published=CLOSING - timedelta(minutes=number + 1),
        )
        for number in range(20)
    ]
    rows = []
    for label, ordered in (("long requests first", True), ("in arrival order", False)):
        with tempfile.TemporaryDirectory(prefix="digest-schedule-") as directory:
            bench = Bench.of(Path(directory), papers)
            bench.model = SlowModel(
                answerer=lambda arxiv_id, task: {
                    "analysis": corpus.analysis_for(arxiv_id),
                    "triage": triage_for(arxiv_id),
                }.get(task, "本文提出一种新的语音增强方法，在公开数据集上取得提升。")
            )
            bench.configure(triage={"enabled": True}, llm={"concurrency": 8})
            original = execute_module.PacedExecutor.complete
            if not ordered:

                async def arrival_order(
                    self: Any,
                    prompt: Any,
                    usage: Any,
                    max_output_tokens: int,
                    priority: int = 0,
                    send: Any = original,
                ) -> Any:
                    return await send(self, prompt, usage, max_output_tokens, 0)

                execute_module.PacedExecutor.complete = arrival_order  # type: ignore[method-assign]
            try:
                started = time.perf_counter()
                bench.build(DAY)
                wall = time.perf_counter() - started
            finally:
                execute_module.PacedExecutor.complete = original  # type: ignore[method-assign]
        total = 20 * (4 + 1 + 1) * latency
        ideal = max(total / 8, 4 * latency)
        requests = len(bench.model.calls)
        assert requests == 60, f"{label}: {requests} requests, some answers were refused"
        rows.append(f"| {label} | {wall:.2f} | {ideal:.2f} | {wall / ideal:.2f} |")
    say("\n## Scheduling with realistic latencies: analyses 4 L, translations and triages L\n")
    say(
        f"In-process build of 20 papers (60 requests) at C = 8, L = {latency:g} s; ideal ="
        " max(total request time / C, the longest single chain).\n"
    )
    say("| order | wall s | ideal s | ratio |")
    say("| --- | ---: | ---: | ---: |")
    for row in rows:
        say(row)


def slow_arxiv(
    say: Callable[[str], None], arxiv_seconds: float = 1.5, latency: float = 1.0
) -> None:
    """Cold builds (subprocess, stand-ins) when arXiv takes `arxiv_seconds` to answer a query, as
    it does: the model SDK's import (about 0.5 s) then overlaps the fetch."""
    original = ArxivStandIn._api

    def slow(self: ArxivStandIn, params: dict[str, str]) -> Any:
        time.sleep(arxiv_seconds)
        return original(self, params)

    ArxivStandIn._api = slow  # type: ignore[method-assign]
    try:
        walls = []
        for _ in range(3):
            bench = Bench(day_of(20), latency, None)
            with running(bench.arxiv, bench.pdfs, bench.model):
                walls.append(bench.build(8, latency).wall_seconds)
            bench.directory.cleanup()
    finally:
        ArxivStandIn._api = original  # type: ignore[method-assign]
    ideal = arxiv_seconds + math.ceil(40 / 8) * latency
    say("\n## A cold build behind an arXiv that takes its time\n")
    say(
        f"20 papers, C = 8, L = {latency:g} s, the API answering each query after"
        f" {arxiv_seconds:g} s; ideal = that + ceil(2N / C) · L = {ideal:g} s. A build of a day"
        " without a record imports the model SDK on a thread while it fetches.\n"
    )
    say("| run | wall s | ratio |")
    say("| ---: | ---: | ---: |")
    for number, wall in enumerate(walls, 1):
        say(f"| {number} | {wall:.2f} | {wall / ideal:.2f} |")


def critical_path(say: Callable[[str], None], runs: int = 5, latency: float = 1.0) -> None:
    """Where a cold build's time goes at C = 8 (subprocess, stand-ins): before the model's
    first request, the span of the requests, and after the last answer; and what importing
    the model SDK alone costs, the part of the first no build can avoid."""
    import statistics

    rows = []
    spans = []
    with python_bytecode():
        for number in range(1, runs + 1):
            bench = Bench(day_of(20), latency, None)
            served: list[tuple[float, float]] = []
            handle = bench.model.handle

            def timed_handle(*request: Any, handle: Any = handle, served: Any = served) -> Any:
                arrived = time.perf_counter()
                reply = handle(*request)
                served.append((arrived, time.perf_counter()))
                return reply

            bench.model.handle = timed_handle  # type: ignore[method-assign]
            with running(bench.arxiv, bench.pdfs, bench.model):
                started = time.perf_counter()
                figures = bench.build(8, latency)
                ended = started + figures.wall_seconds
            bench.directory.cleanup()
            first = min(arrived for arrived, _ in served) - started
            last = max(answered for _, answered in served) - started
            spans.append(last - first)
            rows.append(
                f"| {number} | {figures.wall_seconds:.2f} | {figures.ratio:.2f} | {first:.2f}"
                f" | {last - first:.2f} | {ended - started - last:.2f} |"
            )
        probe = "import openai; openai.AsyncOpenAI(api_key='-', base_url='http://127.0.0.1:9/v1')"
        bare = [timed([sys.executable, "-c", "pass"], ROOT) for _ in range(5)]
        sdk = [timed([sys.executable, "-c", probe], ROOT) for _ in range(5)]
    start_seconds = statistics.median(bare)
    fastest_sdk, median_sdk = min(sdk) - start_seconds, statistics.median(sdk) - start_seconds
    ideal = math.ceil(40 / 8) * latency
    rounds = statistics.median(spans)
    say("\n## A cold build's critical path at L = 1 s\n")
    say(
        f"20 papers, C = 8, L = {latency:g} s, an arXiv that answers at once; ideal ="
        f" ceil(2N / C) · L = {ideal:g} s. Times from the start of the `digest` process, as"
        " the model stand-in saw its requests: the first arriving, the span to the last answer"
        f" (five rounds of {latency:g} s), and the rest to the process's end.\n"
    )
    say("| run | wall s | ratio | first request at s | requests span s | after last answer s |")
    say("| ---: | ---: | ---: | ---: | ---: | ---: |")
    for row in rows:
        say(row)
    floor = fastest_sdk + rounds
    say(
        f"\nImporting `openai` and making its client, in a fresh interpreter, less the"
        f" interpreter's own start: {fastest_sdk:.2f} s at the fastest of 5, {median_sdk:.2f} s"
        f" the median. A build that did nothing but that and the requests (their median span,"
        f" {rounds:.2f} s) would take {floor:.2f} s, {floor / ideal:.2f} × ideal."
    )


def figures_wall_time(say: Callable[[str], None], latency: float = 1.0) -> None:
    """A cold build of 20 papers (C = 8, L = 1 s) whose texts come from arXiv's HTML, with
    and without each paper's figure, and from the PDF alone: the figures' downloads and
    encoding run beside the model's requests, not after them."""
    html = (ROOT / "tests/fixtures/html/2603.05003.html").read_bytes()
    plot = (ROOT / "tests/fixtures/html/x1.png").read_bytes()
    page_seconds, image_seconds = 0.2, 0.5
    rows = []
    for label, settings in (
        ('PDF only (`arxiv.html_url: ""`)', {"arxiv": {"html_url": ""}}),
        ("HTML, no figures (`output.figures: false`)", {"output": {"figures": False}}),
        ("HTML and figures", {}),
    ):
        bench = Bench(day_of(20), latency, None)
        for paper in bench.arxiv.papers:
            bench.pdfs.htmls[paper.arxiv_id] = html
            bench.pdfs.images[f"/html/{paper.arxiv_id}/x1.png"] = (plot, "image/png")
        handle = bench.pdfs.handle

        def slow(method: str, path: str, *rest: Any, handle: Any = handle) -> Any:
            # A host that takes its time: each page 0.2 s, each image 0.5 s.
            if path.startswith("/html/"):
                time.sleep(image_seconds if path.endswith(".png") else page_seconds)
            return handle(method, path, *rest)

        bench.pdfs.handle = slow  # type: ignore[method-assign]
        with running(bench.arxiv, bench.pdfs, bench.model):
            extra = {"llm": {"concurrency": 8, "max_retries": 6},
                     "filter": {"max_papers": 20}, **settings}  # fmt: skip
            bench.site.write_config(**extra)
            started = time.perf_counter()
            run = bench.site.digest("build", "--date", DAY, "--yes", timeout=600)
            wall = time.perf_counter() - started
        figures = len(list((bench.site.root / "_figures").glob("*.webp")))
        bench.directory.cleanup()
        rows.append(f"| {label} | {wall:.2f} | {figures} | {run.status} |")
    ideal = math.ceil(40 / 8) * latency
    say("\n## A nightly build with arXiv's HTML and figures\n")
    say(
        f"20 papers, C = 8, L = {latency:g} s (ideal ceil(2N / C) · L = {ideal:g} s); every"
        " paper has an HTML version (a fixture page with a 1600 × 900 PNG figure) on a host"
        f" that takes {page_seconds:g} s a page and {image_seconds:g} s an image. The installed"
        " `digest build`, cold, start to end.\n"
    )
    say("| texts from | wall s | figures made | exit |")
    say("| --- | ---: | ---: | ---: |")
    for row in rows:
        say(row)


@contextlib.contextmanager
def python_bytecode() -> Iterator[None]:
    """Commands run with Python's bytecode cache, as an installed package has it (this
    machine's environment sets PYTHONDONTWRITEBYTECODE, which makes every start compile)."""
    saved = os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    try:
        yield
    finally:
        if saved is not None:
            os.environ["PYTHONDONTWRITEBYTECODE"] = saved


def reruns(say: Callable[[str], None], runs: int = 12) -> None:
    """`digest build` of a day whose answers are all recorded, and `digest render`, each run
    `runs` times (subprocess, stand-ins), with Python's bytecode cache."""
    import statistics

    with python_bytecode():
        bench = Bench(day_of(20), 0.05, None)
        with running(bench.arxiv, bench.pdfs, bench.model):
            bench.build(8, 0.05)
            walls: dict[str, list[float]] = {"build": [], "render": []}
            for _ in range(runs):
                for command, args in (("build", ["--date", DAY, "--yes"]), ("render", [])):
                    started = time.perf_counter()
                    run = bench.site.digest(command, *args)
                    walls[command].append(time.perf_counter() - started)
                    assert run.status == 0, run.stderr
        bench.directory.cleanup()
    say("\n## Reruns from the cache\n")
    say(
        f"A day of 20 papers whose answers are all recorded: `digest build` (the RSS feed and the"
        f" arXiv query, no model request) and `digest render`, {runs} runs each, wall time from"
        " start to end of the installed command. The goal is 0.4 s.\n"
    )
    say("| command | median s | fastest s | slowest s |")
    say("| --- | ---: | ---: | ---: |")
    for command, times in walls.items():
        say(
            f"| `digest {command}` | {statistics.median(times):.3f} | {min(times):.3f}"
            f" | {max(times):.3f} |"
        )


PATHOLOGICAL = [
    "[",
    "*",
    "_",
    "`",
    "<",
    "> ",
    "- ",
    "1. ",
    "\\(",
    "|",
    "{:",
    "[a](",
    "<b>",
    "![x](",
    "a\n",
    ":\n",
    "**a** ",
]
_KRAMDOWN = """require 'kramdown'
require 'kramdown-parser-gfm'
Kramdown::Document.new(STDIN.read, input: 'GFM').to_html
"""


def sanitizer_costs(say: Callable[[str], None]) -> None:
    """Seconds to sanitize a text made of one pathological piece, and kramdown's time on
    a run of brackets as written and as sanitized."""
    from arxiv_digest.views.sanitize import block

    say("\n## Sanitizing pathological text (`sanitize.block`)\n")
    say("| text, repeated | 100 KB s | 1 MB s | per MB ratio |")
    say("| --- | ---: | ---: | ---: |")
    for piece in PATHOLOGICAL:
        seconds = []
        for size in (100_000, 1_000_000):
            text = (piece * (size // len(piece) + 1))[:size]
            started = time.perf_counter()
            block(text)
            seconds.append(time.perf_counter() - started)
        say(
            f"| {_cell(repr(piece))} | {seconds[0]:.3f} | {seconds[1]:.2f}"
            f" | {seconds[1] / max(seconds[0], 1e-6) / 10:.2f} |"
        )
    ruby = shutil.which("ruby")
    if ruby is None:
        say("\n(kramdown not measured: no ruby on this machine)")
        return
    say(
        "\nkramdown (GFM input, the Jekyll renderer) on the same text as written and as sanitized:\n"
    )
    say("| text | as written s | sanitized s |")
    say("| --- | ---: | ---: |")
    for label, text in (("5,000 `[`", "[" * 5000), ("5,000 `[a](`", "[a](" * 5000)):
        timings = []
        for markdown in (text, block(text)):
            started = time.perf_counter()
            subprocess.run(
                [ruby, "-e", _KRAMDOWN],
                input=markdown,
                text=True,
                check=True,
                capture_output=True,
                timeout=900,
            )
            timings.append(time.perf_counter() - started)
        say(f"| {label} | {timings[0]:.1f} | {timings[1]:.2f} |")


def estimated_tokens(text: str) -> int:
    """Tokens by the usual rule of thumb for GPT-4-class tokenizers: a CJK character is about
    one token, other text about four characters a token."""
    cjk = sum(1 for char in text if "\u3000" <= char <= "\u9fff" or "\uff00" <= char <= "\uffef")
    return cjk + (len(text) - cjk) // 4


def text_tokens(say: Callable[[str], None]) -> None:
    """Input tokens of an analysis' paper text read from arXiv's HTML against the PDF, for
    each fixture paper (real LaTeXML and pdflatex output of our own TeX sources)."""
    from arxiv_digest.answers import budget, htmltext, pdftext

    counter = budget.counter_for("gpt-4")
    fixtures = ROOT / "tests" / "fixtures" / "html"
    say("\n## Input tokens per analysis: arXiv's HTML against the PDF\n")
    say(
        "Tokens (cl100k_base) of the paper's text an analysis sends, for each fixture paper (our"
        " own TeX, converted by Debian's `latexml` as arXiv does and by `pdflatex`). *As sent*:"
        " each reader's text as the tool sends it (references left out of both). *Same parts*:"
        " title, abstract and body sections only (no acknowledgements, appendix or references"
        " in either).\n"
    )
    say(
        "| paper | HTML, as sent | PDF, as sent | HTML, same parts | PDF, same parts | HTML vs PDF, same parts |"
    )
    say("| --- | ---: | ---: | ---: | ---: | ---: |")
    for source in sorted(fixtures.glob("*.tex")):
        sections = htmltext.paper_sections(source.with_suffix(".html").read_bytes()) or []
        html_sent = htmltext.model_input(htmltext.as_text(sections), 10**7)
        body = [
            s
            for s in sections
            if s.kind not in (htmltext.REFERENCES, htmltext.ACKNOWLEDGEMENTS, htmltext.APPENDIX)
        ]
        raw, _ = pdftext.extract_text(source.with_suffix(".pdf").read_bytes(), 50)
        pdf_sent = pdftext.model_input(raw, 10**7)
        pdf_body = pdf_sent.split("\nAcknowledgments", 1)[0]
        html_same, pdf_same = counter.count(htmltext.as_text(body)), counter.count(pdf_body)
        say(
            f"| {source.stem} | {counter.count(html_sent)} | {counter.count(pdf_sent)} |"
            f" {html_same} | {pdf_same} | {100 * (html_same - pdf_same) / pdf_same:+.0f} % |"
        )


def ranking_precision(say: Callable[[str], None]) -> None:
    """Precision at 5 of the ranking by likes against keyword matching, per day of the
    labelled archive (tests/interests.py), the liked papers left out of each day."""
    from tests.interests import DAYS, KEYWORDS, labelled_archive, precision_by_day

    from arxiv_digest.config import InterestsSettings
    from arxiv_digest.views.ranking import Ranker

    papers, liked = labelled_archive()
    started = time.perf_counter()
    ranker = Ranker.train([item.paper for item in papers], InterestsSettings(liked=liked))
    trained_ms = (time.perf_counter() - started) * 1000
    assert ranker is not None
    relevant = {item.paper.arxiv_id for item in papers if item.relevant}
    rows = precision_by_day(ranker, papers, liked)
    say("\n## Ranking by likes: precision at 5 on a labelled archive\n")
    say(
        f"{len(papers)} invented papers over {DAYS} days in ten fields (tests/interests.py); the"
        f" reader likes {len(liked)} papers of two fields (speaker verification, diarization),"
        f" and {len(relevant)} papers are of those fields. Each day's papers (its liked ones left"
        " out) are ranked by the model trained on the likes against the archive, and by keyword"
        f" matching on {', '.join(KEYWORDS)} (what `filter.interests` does). Training took"
        f" {trained_ms:.0f} ms.\n"
    )
    say("| | precision at 5 |")
    say("| --- | ---: |")
    for label, index in (
        ("ranking by likes", 0),
        ("keyword matching", 1),
        ("the best possible", 2),
    ):
        say(f"| {label} | {sum(row[index] for row in rows) / DAYS:.2f} |")


def triage_share(say: Callable[[str], None]) -> None:
    """What the triage task adds to a day's tokens, with realistic prompts and answers: the
    real PDFs' text, arXiv-length abstracts, answers as long as the reference posts'."""
    from tests.inprocess import Bench, Model

    pdf_texts = [
        pdftext.model_input(pdftext.extract_text(path.read_bytes(), 100)[0], 60_000)
        for path in sorted((SHARED / "fixtures" / "pdf").glob("*.pdf"))
    ]
    papers = day_of(20)
    abstract = "We study a speech and audio problem with a new model and careful experiments. " * 18
    for paper in papers:
        paper.abstract = abstract  # about 1,400 characters, as arXiv abstracts run
    translation = "本文研究一个语音与音频问题，提出新的模型，并通过细致的实验验证其效果。" * 12
    analysis = corpus.analysis_for("基准论文") * 6
    triage = json.dumps(
        {
            "title_zh": "面向低资源场景的语音增强新方法",
            "summary_zh": "提出轻量语音增强模型，在公开基准上以更少参数超过基线。",
            "topics": ["enhancement", "evaluation"],
        },
        ensure_ascii=False,
    )

    class Estimating(Model):
        async def complete(self, prompt: Any, max_output_tokens: int) -> Any:
            completion = await super().complete(prompt, max_output_tokens)
            return type(completion)(
                text=completion.text,
                tokens_in=estimated_tokens(prompt["system"] + prompt["user"]),
                tokens_out=estimated_tokens(completion.text),
            )

    with tempfile.TemporaryDirectory(prefix="digest-triage-") as directory:
        bench = Bench.of(Path(directory), papers)
        bench.model = Estimating(
            answers={
                (paper.arxiv_id, task): text
                for paper in papers
                for task, text in (
                    ("translation", translation),
                    ("analysis", analysis),
                    ("triage", triage),
                )
            }
        )
        bench.texts.texts = {
            paper.arxiv_id: pdf_texts[number % len(pdf_texts)]
            for number, paper in enumerate(papers)
        }
        bench.configure(
            triage={"enabled": True},
            llm={"input_price_per_million": 0.15, "output_price_per_million": 0.60},
        )
        report = bench.build(DAY)
        prices = bench.config.llm
    total_in = sum(usage.tokens_in for usage in report.by_task.values())
    total_out = sum(usage.tokens_out for usage in report.by_task.values())
    say("\n## Triage: its share of a day's tokens (20 papers, realistic prompt sizes)\n")
    say(
        "In-process build with the real templates; prompts carry the real PDFs' text (as sent,"
        " references cut) and 1,400-character abstracts; answers are as long as the reference"
        " posts'. Tokens estimated as 1 per CJK character and 4 characters per token otherwise;"
        " cost at $0.15 / $0.60 per million tokens in / out.\n"
    )
    say("| task | requests | tokens in | tokens out | share of tokens | cost |")
    say("| --- | ---: | ---: | ---: | ---: | ---: |")
    from arxiv_digest.report import cost_usd

    for task, usage in report.by_task.items():
        share = (usage.tokens_in + usage.tokens_out) / (total_in + total_out)
        cost = cost_usd(usage, prices) or 0.0
        say(
            f"| {task} | {usage.model_requests} | {usage.tokens_in:,} | {usage.tokens_out:,}"
            f" | {share:.1%} | ${cost:.4f} |"
        )
    total_cost = sum(cost_usd(usage, prices) or 0.0 for usage in report.by_task.values())
    say(f"| all | | {total_in:,} | {total_out:,} | 100% | ${total_cost:.4f} |")


def backfill_cost(say: Callable[[str], None], days: int = 30, per_day: int = 20) -> None:
    """A 30-day backfill of 20 papers a day, built with direct requests and in batch mode
    (sent by one run, collected by the next), at the same stand-in prices."""
    prices = {"input_price_per_million": 0.15, "output_price_per_million": 0.60}
    papers = [
        paper
        for day in range(days)
        for paper in day_of(per_day, days_back=days - 1 - day, first=day * per_day)
    ]
    first_day = (CLOSING - timedelta(days=days - 1)).date().isoformat()
    figures = {}
    records = {}
    for mode in ("direct", "batch"):
        bench = Bench(papers, 0.0, None)
        with running(bench.arxiv, bench.pdfs, bench.model):
            bench.site.write_config(llm={"mode": mode, **prices}, filter={"max_papers": per_day})
            span = ("build", "--from", first_day, "--to", DAY, "--yes", "--report", "report.json")
            started = time.perf_counter()
            runs, reports = [], []
            for step in ("send", "collect") if mode == "batch" else ("direct",):
                if step == "collect":
                    bench.model.batch_api.advance()
                runs.append(bench.site.digest(*span, timeout=1800))
                if runs[-1].status != 0:
                    print(runs[-1].stderr[-2000:], file=sys.stderr)
                reports.append(json.loads((bench.site.root / "report.json").read_text("utf-8")))
            wall = time.perf_counter() - started
        records[mode] = {
            path.name: path.read_bytes() for path in (bench.site.root / "_records").glob("*.json")
        }
        figures[mode] = (
            sum(report["total"]["cost_usd"] for report in reports),
            sum(report["total"]["tokens_in"] for report in reports),
            sum(report["total"]["tokens_out"] for report in reports),
            len(bench.model.calls),
            len(bench.model.batch_calls),
            len(runs),
            wall,
            [run.status for run in runs],
        )
        bench.directory.cleanup()
    same = records["direct"] == records["batch"]
    say(f"\n## A {days}-day backfill, batch mode against direct requests\n")
    say(
        f"{days} days of {per_day} papers (a translation and an analysis each: {2 * days * per_day}"
        " answers), the installed `digest build --from … --to …` against the stand-ins, priced"
        " at $0.15 / $0.60 per million tokens in / out (gpt-4o-mini's list price) and"
        " `llm.batch_discount` 0.5. Batch mode is one run that sends the batch and one that"
        " collects it (the stand-in finishes the batch in between; a provider takes up to"
        " 24 hours). Tokens are the stand-in's counts.\n"
    )
    say(
        "| mode | runs | direct requests | batched requests | tokens in | tokens out | cost | wall s | exit |"
    )
    say("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    for mode, (
        cost,
        tokens_in,
        tokens_out,
        direct,
        batched,
        count,
        wall,
        statuses,
    ) in figures.items():
        say(
            f"| {mode} | {count} | {direct} | {batched} | {tokens_in:,} | {tokens_out:,}"
            f" | ${cost:.4f} | {wall:.1f} | {', '.join(map(str, statuses))} |"
        )
    say(
        f"\nBatch against direct: {figures['batch'][0] / figures['direct'][0]:.0%} of the cost."
        f" The {len(records['direct'])} day records the two modes wrote are"
        f" {'byte for byte the same' if same else 'NOT the same'}.\n"
    )


def _update_section(results: Path, lines: list[str]) -> None:
    """Replace each section that `lines` hold (a `## ` heading and what follows it, up to the
    next) in RESULTS.md, or add it at the end."""
    text = results.read_text(encoding="utf-8") if results.exists() else "# Benchmark results\n"
    sections = ("\n".join(lines).strip() + "\n").split("\n## ")
    for number, section in enumerate(sections):
        section = section if number == 0 else "## " + section
        heading = section.split("\n", 1)[0].strip()
        start = text.find(heading)
        if start < 0:
            text = text.rstrip() + "\n\n" + section
        else:
            end = text.find("\n## ", start + 1)
            text = text[:start] + section.rstrip("\n") + "\n" + (text[end:] if end >= 0 else "")
    results.write_text(text, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=2.0, help="model latency L in seconds")
    parser.add_argument("--quick", action="store_true", help="only N=20, C=8 and the baseline")
    parser.add_argument(
        "--only-site",
        action="store_true",
        help="only the site at archive scale and the renderers; replaces those sections",
    )
    parser.add_argument("--days", type=int, default=1000, help="days for the site benchmark")
    parser.add_argument(
        "--only-schedule", action="store_true", help="only the scheduling benchmark"
    )
    parser.add_argument(
        "--only-reruns",
        action="store_true",
        help="only the reruns from the cache; replaces that section of RESULTS.md",
    )
    parser.add_argument(
        "--only-slow-arxiv",
        action="store_true",
        help="only the cold build behind a slow arXiv; replaces that section of RESULTS.md",
    )
    parser.add_argument(
        "--only-critical-path",
        action="store_true",
        help="only where a cold build's time goes at L = 1 s; replaces that section",
    )
    parser.add_argument(
        "--only-triage",
        action="store_true",
        help="only the triage's token share; replaces that section of RESULTS.md",
    )
    parser.add_argument(
        "--only-sanitize",
        action="store_true",
        help="only the sanitizer's costs; replaces that section of RESULTS.md",
    )
    parser.add_argument(
        "--only-figures",
        action="store_true",
        help="only a nightly build's wall time with HTML texts and figures; replaces that section",
    )
    parser.add_argument(
        "--only-ranking",
        action="store_true",
        help="only the ranking's precision at 5 on the labelled set; replaces that section",
    )
    parser.add_argument(
        "--only-batch",
        action="store_true",
        help="only the cost of a 30-day backfill in batch mode against direct requests",
    )
    parser.add_argument(
        "--only-text",
        action="store_true",
        help="only input tokens per analysis, HTML against PDF; replaces that section",
    )
    args = parser.parse_args()
    latency = args.latency
    lines: list[str] = []
    say = lines.append

    say("# Benchmark results\n")
    say(
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC with `python benchmarks/run.py`"
        f" on {platform.node() or 'this machine'}: {os.cpu_count()} cores,"
        f" Python {platform.python_version()}, {platform.platform()}.\n"
    )
    if args.only_sanitize or args.only_triage or args.only_text or args.only_ranking:
        section: list[str] = []
        measure = (
            sanitizer_costs
            if args.only_sanitize
            else triage_share
            if args.only_triage
            else text_tokens
            if args.only_text
            else ranking_precision
        )
        measure(section.append)
        _update_section(ROOT / "benchmarks" / "RESULTS.md", section)
        print("\n".join(section))
        return
    one_section = {
        figures_wall_time: args.only_figures, backfill_cost: args.only_batch,
        scheduling: args.only_schedule, slow_arxiv: args.only_slow_arxiv, reruns: args.only_reruns,
        critical_path: args.only_critical_path,
    }  # fmt: skip
    for measure_one, chosen in one_section.items():
        if chosen:
            section = []
            measure_one(section.append)
            _update_section(ROOT / "benchmarks" / "RESULTS.md", section)
            print("\n".join(section))
            return
    if args.only_site:
        for measure in (lambda say: site_at_scale(say, args.days, 20), renderer_costs):
            section = []
            measure(section.append)
            _update_section(ROOT / "benchmarks" / "RESULTS.md", section)
            print("\n".join(section))
        return
    say(f"## Cold and warm builds against a model that answers after L = {latency:g} s\n")
    say(
        "Ideal = ceil(2N / C) · L, the time the model alone needs; ratio = wall / ideal. Wall time"
        " includes starting the `digest` process, the arXiv query, PDF downloads and extraction.\n"
    )
    say(
        "| N | C | wall s | ideal s | ratio | peak in flight | requests | warm wall s | warm requests | warm PDF downloads |"
    )
    say("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    cases = [(20, 8), (20, 1)] if args.quick else [(20, 8), (20, 1), (20, 4), (20, 16), (60, 8)]
    for papers, concurrency in cases:
        cold, warm = cold_and_warm(papers, concurrency, latency)
        baseline = " (sequential baseline)" if concurrency == 1 else ""
        say(
            f"| {papers} | {concurrency}{baseline} | {cold.wall_seconds:.1f} | {cold.ideal_seconds:.0f}"
            f" | {cold.ratio:.2f} | {cold.peak_in_flight} | {cold.model_requests}"
            f" | {warm.wall_seconds:.2f} | {warm.model_requests} | {warm.pdf_downloads} |"
        )
        print(lines[-1], file=sys.stderr)

    say("\n## Rate limit: the model answers 429 (Retry-After 0.2 s) above 8 requests in flight\n")
    say("| N | C asked | wall s | ideal at C = 8 | ratio | 429 answers | exit status |")
    say("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    cold, _ = cold_and_warm(20, 16, latency, max_concurrent=8)
    ideal_at_limit = math.ceil(2 * 20 / 8) * latency
    say(
        f"| 20 | 16 | {cold.wall_seconds:.1f} | {ideal_at_limit:.0f}"
        f" | {cold.wall_seconds / ideal_at_limit:.2f} | {cold.rejected_429} | {cold.exit_status} |"
    )
    print(lines[-1], file=sys.stderr)

    pdfs = sorted((SHARED / "fixtures" / "pdf").glob("*.pdf"))
    say("\n## Input size of the analysis request, on the real PDFs of ../shared/fixtures/pdf\n")
    say(
        "Tokens are estimated at 4 characters a token (English text); `llm.max_input_chars`"
        " (60,000) was not reached by either paper.\n"
    )
    say(
        "| PDF | pages | raw chars | sent chars | saved | ≈ tokens raw | ≈ tokens sent | text kept ends with | text cut starts with |"
    )
    say("| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |")
    for path in pdfs:
        raw, page_count = pdftext.extract_text(path.read_bytes(), max_pages=10_000)
        sent = pdftext.model_input(raw, max_chars=60_000)
        cleaned = pdftext.clean_text(raw)
        cut = cleaned[len(sent) :].strip()
        say(
            f"| {path.name} | {page_count} | {len(raw):,} | {len(sent):,}"
            f" | {1 - len(sent) / len(raw):.0%} | {len(raw) // 4:,} | {len(sent) // 4:,}"
            f" | …{_cell(sent[-60:])} | {_cell(cut[:60])}… |"
        )

    say("\n## PDF text extraction, seconds per page (best of 3)\n")
    say("| PDF | library | ms per page |")
    say("| --- | --- | ---: |")
    for path in pdfs:
        for name, seconds in extraction_seconds_per_page(path.read_bytes()).items():
            say(f"| {path.name} | {name} | {seconds * 1000:.1f} |")
    sanitizer_costs(say)
    triage_share(say)
    scheduling(say)
    slow_arxiv(say)
    critical_path(say)
    backfill_cost(say)
    reruns(say)
    site_at_scale(say, args.days, 20)
    renderer_costs(say)
    say("")
    (ROOT / "benchmarks" / "RESULTS.md").write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


if __name__ == "__main__":
    main()
