"""Progress you can watch: a live line on a terminal, plain dated lines in logs."""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
from datetime import date

from rich.console import Console

from arxiv_digest.answers.enrich import Need
from arxiv_digest.answers.tasks import ANALYSIS, TRANSLATION
from arxiv_digest.models import Answer, Gap, Usage
from arxiv_digest.progress import LiveProgress, PlainProgress
from tests import corpus
from tests.conftest import Site
from tests.inprocess import as_paper

DAY = date(2026, 2, 13)
PAPERS = [as_paper(paper) for paper in corpus.PAPERS[:2]]
NEEDS = [Need(paper, task, DAY) for paper in PAPERS for task in (TRANSLATION, ANALYSIS)]
ANSWER = Answer("译文", "m", "0")


def settle_all(view: PlainProgress | LiveProgress) -> None:
    view.planned(NEEDS)
    view.finished(NEEDS[0], ANSWER, cached=True, usage=Usage(cache_hits=1))
    view.finished(NEEDS[1], ANSWER, cached=False, usage=Usage(1, 0, 1000, 200))
    view.say("2026-02-13 2602.20004v2 analysis: missing: PDF download failed: HTTP 404")
    view.finished(NEEDS[2], ANSWER, cached=False, usage=Usage(1, 0, 100, 50))
    view.finished(NEEDS[3], Gap(PAPERS[1].arxiv_id, "analysis", "x"), cached=False, usage=Usage())


def test_logs_get_dated_totals_at_a_steady_rate_and_the_cache_in_one_line() -> None:
    lines: list[str] = []
    with PlainProgress(lines.append, every_seconds=3600) as view:
        settle_all(view)
    assert lines[0].startswith("2026-02-13 2602.20004v2 analysis: missing")
    assert lines[1].startswith("2026-02-13: 4 of 4 answers, 2 of 2 papers done, 1,350 tokens,")
    assert lines[2] == "1 answer came from the cache"
    assert len(lines) == 3  # nothing per answer

    every: list[str] = []
    with PlainProgress(every.append, every_seconds=0) as view:
        settle_all(view)
    assert every[0].startswith("2026-02-13: 1 of 4 answers, 0 of 2 papers done, 0 tokens,")
    assert "left" in every[0]


def test_a_terminal_gets_one_live_line_with_warnings_above_it() -> None:
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, width=200, highlight=False)
    with LiveProgress(lambda text: text.replace("SECRET", "[redacted]"), console) as view:
        settle_all(view)
        view.say("key SECRET")
    shown = screen.getvalue()
    assert "2026-02-13: 4 of 4 answers, 2 of 2 papers done, 1,350 tokens" in shown
    assert "missing: PDF download failed" in shown and "key [redacted]" in shown
    assert "1 answer came from the cache" in shown


def test_a_rerun_from_the_cache_says_so_in_one_line(site: Site) -> None:
    assert site.digest("build", "--date", corpus.DAY).status == 0
    shutil.rmtree(site.root / "_records")
    shutil.rmtree(site.root / "_posts")

    run = site.digest("build", "--date", corpus.DAY)

    assert run.status == 0, run.stderr
    assert "8 answers came from the cache" in run.stderr
    assert "cached" not in run.stderr.replace("came from the cache", "")
    assert "2026-02-13: 8 of 8 answers, 4 of 4 papers done, 0 tokens" in run.stderr


def test_commands_import_only_what_their_work_needs() -> None:
    # A rerun is mostly imports: the rendering commands load no HTTP client, XML parser,
    # arXiv client or model SDK, and a build loads the SDK only when it is about to ask.
    script = (
        "import sys, arxiv_digest.cli, arxiv_digest.build, arxiv_digest.views.site;"
        "print(sorted(m for m in ('requests', 'lxml', 'arxiv', 'openai', 'httpx2', 'pypdfium2')"
        " if m in sys.modules))"
    )
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert run.stdout.strip() == "[]"
