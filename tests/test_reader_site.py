"""The reader's two minutes, in headless Chromium, on a small archive with Chinese titles and
summaries (tests/readers.py): search by Chinese phrase, name and pasted id; the compact day
view with its expand-all and topic filters; a paper's page; bold Chinese drawn with the
Debian CJK fonts; screenshots of each at 1280 and 390 px, light and dark."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Error as PlaywrightError

from arxiv_digest.answers.tasks import ANALYSIS_PARTS
from arxiv_digest.config import InterestsSettings
from arxiv_digest.views.day import ViewSettings
from arxiv_digest.views.jekyll import SiteIdentity
from arxiv_digest.views.search import write_index
from arxiv_digest.views.site import SiteSettings, build_site
from tests import readers
from tests.test_site import SCREENSHOTS, launched_chromium, serving

BASE = "/d"
DAY = "/2026/03/02/arxiv/"
PAPER = "/papers/2603.01005/"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("readers")
    readers.write_archive(root / "_records", root / "_figures")
    settings = SiteSettings(
        SiteIdentity(title="音频论文速递", url="https://example.org", base_path=BASE),
        ViewSettings(
            ("eess.AS", "cs.SD"), readers.TOPICS, now=datetime(2026, 3, 4, 12, tzinfo=UTC)
        ),
        Path(__file__).parents[1] / "templates",
        root / "_figures",
        # A reader of speaker papers: the site ranks for them.
        InterestsSettings(liked=["2603.01001", "2603.03002"]),
    )
    build_site(root / "_records", root / "_public", settings)
    assert write_index(root / "_public") == sum(len(day) for day in readers.DAYS.values())
    with serving(root / "_public", BASE) as url:
        yield url


@pytest.fixture(scope="module")
def chromium(served: str) -> Iterator[Any]:
    with launched_chromium() as browser:
        yield browser


def searched(page: Any, served: str, query: str) -> list[str]:
    """The papers (base ids) a search shows, in order; a pasted id opens its page instead."""
    page.goto(f"{served}/search/?q={query}")
    # Polled from here: the page's policy allows no script of the test's own (no eval).
    settled = re.compile("^(找到|没有找到|本站没有)")
    for _ in range(150):
        try:
            if "/papers/" in page.url or settled.match(
                page.inner_text("#search-status", timeout=500)
            ):
                break
        except PlaywrightError:  # leaving for the paper's page
            pass
        page.wait_for_timeout(100)
    if "/papers/" in page.url:
        return [page.url.split("/papers/")[1].strip("/")]
    hrefs = page.eval_on_selector_all(
        "#search-results li a.title", "links => links.map(link => link.getAttribute('href'))"
    )
    return [href.split("/papers/")[1].strip("/") for href in hrefs]


def test_search_puts_the_paper_first_for_every_query(chromium: Any, served: str) -> None:
    page = chromium.new_page()
    missed = {}
    for query, expected in readers.QUERIES:
        found = searched(page, served, query)
        if found[:1] != [expected]:
            missed[query] = found
    assert missed == {}
    # A Chinese phrase finds the papers that hold it, not those sharing its characters:
    # 说话人识别 shares 说话人 with four papers and 识别 with four others.
    assert searched(page, served, "说话人识别") == ["2603.03002"]
    result = page.locator("#search-results li").first
    page.goto(f"{served}/search/?q=声场重建")
    result.wait_for()
    text = result.inner_text()
    # Chinese title, English title, summary, day and topics, as a reader scans them.
    for shown in ("基于物理信息神经网络的室内声场重建", "Sound Field Reconstruction",
                  "从 16 个麦克风重建", "2026-03-02 周一", "空间音频"):  # fmt: skip
        assert shown in text, shown
    page.close()


def test_the_day_is_compact_with_everything_one_click_away(chromium: Any, served: str) -> None:
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(served + DAY)
    more = page.locator("details.more")
    assert more.count() == 6 and page.evaluate(
        "[...document.querySelectorAll('details.more, details.toc')].every(d => !d.open)"
    )
    # The paper with a figure shows it small beside its entry, loaded when it comes near.
    thumb = page.locator("a.thumb img")
    assert thumb.count() == 1 and thumb.get_attribute("loading") == "lazy"
    thumb.scroll_into_view_if_needed()
    for _ in range(50):  # polled from here: the page's policy allows no eval
        if page.evaluate("document.querySelector('a.thumb img').naturalWidth"):
            break
        page.wait_for_timeout(100)
    assert page.evaluate("document.querySelector('a.thumb img').naturalWidth") == 960
    page.evaluate("window.scrollTo(0, 0)")
    # Six papers scan in about two screens.
    assert page.evaluate("document.documentElement.scrollHeight") < 2.2 * 900
    # Expand all opens every paper, and is remembered.
    page.click("button.expand-all")
    assert page.evaluate("[...document.querySelectorAll('details.more')].every(d => d.open)")
    page.reload()
    assert page.evaluate("[...document.querySelectorAll('details.more')].every(d => d.open)")
    assert page.inner_text("button.expand-all") == "全部收起"
    page.click("button.expand-all")
    page.reload()
    assert page.evaluate("[...document.querySelectorAll('details.more')].every(d => !d.open)")

    # Ranked for its reader: sorted by relevance on demand, and remembered.
    order = page.eval_on_selector_all("section.paper", "papers => papers.map(p => p.id)")
    page.click("button.sort")
    scores = page.eval_on_selector_all(
        "section.paper", "ps => ps.map(p => Number(p.dataset.score))"
    )
    assert scores == sorted(scores, reverse=True) and scores[0] > scores[-1]
    # The liked paper first, then the other one about speakers.
    ranked = page.eval_on_selector_all("section.paper", "papers => papers.map(p => p.id)")
    assert ranked[:2] == ["arxiv-2603.01001", "arxiv-2603.01002"], ranked
    page.reload()
    assert page.inner_text("button.sort") == "按原顺序"
    page.click("button.sort")
    assert page.eval_on_selector_all("section.paper", "papers => papers.map(p => p.id)") == order
    # A topic chip filters the day in place; again, or 显示全部, shows every paper.
    page.locator("a.topic[data-topic=speaker]").first.click()
    visible = page.locator("section.paper:visible")
    assert visible.count() == 2 and "topic=speaker" in page.url
    assert "只看「说话人」：2 篇" in page.inner_text("p.filter")
    page.reload()  # the filter is in the address: a reload or a shared link keeps it
    assert page.locator("section.paper:visible").count() == 2
    page.click("p.filter button")
    assert page.locator("section.paper:visible").count() == 6 and "topic=" not in page.url
    context.close()

    # Without the script, a chip is a link to its topic's page.
    context = chromium.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(served + DAY)
    page.locator("a.topic[data-topic=speaker]").first.click()
    page.wait_for_url(f"{served}/topics/speaker/")
    assert page.locator("li.entry").count() == 4
    context.close()


def test_a_paper_page_reads_as_one(chromium: Any, served: str) -> None:
    context = chromium.new_context()
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    page = context.new_page()
    page.goto(served + PAPER)
    assert page.inner_text("h1") == "基于物理信息神经网络的室内声场重建"
    # Its figure, from the site itself, lazily loaded, its caption as its text alternative.
    figure = page.locator("figure.paper-figure img")
    assert figure.get_attribute("loading") == "lazy"
    assert figure.get_attribute("alt") == "Figure 1: Reconstruction error against microphone count."
    figure.scroll_into_view_if_needed()
    assert page.evaluate("document.querySelector('figure.paper-figure img').naturalWidth") == 960
    headings = page.eval_on_selector_all("h4.part", "hs => hs.map(h => h.textContent)")
    assert headings == [f"{number}. {name}" for number, name in enumerate(ANALYSIS_PARTS, 1)]
    page.locator("a.permalink + button.copy").click()
    assert page.evaluate("navigator.clipboard.readText()") == (
        "https://example.org/d/papers/2603.01005/"
    )
    page.locator("pre.bibtex + button.copy").click()
    assert page.evaluate("navigator.clipboard.readText()").startswith("@misc{berg2026sound,")
    # Back to its place on its day, and on to the next paper of the day.
    page.click("nav.crumbs a")
    assert page.url == f"{served}{DAY}#arxiv-2603.01005"
    page.go_back()
    page.click("a[rel=next]")
    assert page.url == f"{served}/papers/2603.01006/"
    context.close()


def test_chinese_bold_is_drawn(chromium: Any, served: str) -> None:
    """With only the Debian CJK fonts CI installs (WenQuanYi, one weight), bold Chinese must
    still look bold: the ink of 研究背景 in bold against the same in regular, drawn with the
    page's own font stack."""
    page = chromium.new_page()
    page.goto(served + PAPER)
    ink = page.evaluate(
        """() => {
        const family = getComputedStyle(document.body).fontFamily;
        const ink = (weight) => {
          const canvas = document.createElement('canvas');
          canvas.width = 200; canvas.height = 60;
          const context = canvas.getContext('2d');
          context.font = `${weight} 32px ${family}`;
          context.fillText('研究背景', 4, 44);
          const pixels = context.getImageData(0, 0, 200, 60).data;
          let sum = 0;
          for (let i = 3; i < pixels.length; i += 4) sum += pixels[i];
          return sum;
        };
        return [ink(400), ink(700)];
      }"""
    )
    regular, bold = ink
    assert regular > 0 and bold > 1.15 * regular, ink
    page.close()


@pytest.mark.parametrize("width", [1280, 390])
def test_screenshots_light_and_dark(chromium: Any, served: str, width: int) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    for scheme in ("light", "dark"):
        context = chromium.new_context(
            viewport={"width": width, "height": 900}, color_scheme=scheme
        )
        page = context.new_page()
        for name, path in (("home", "/"), ("day", DAY), ("paper", PAPER),
                           ("search", "/search/?q=说话人")):  # fmt: skip
            page.goto(served + path)
            if name == "search":
                page.locator("#search-results li").first.wait_for(timeout=15_000)
            assert page.evaluate("document.documentElement.scrollWidth - innerWidth") <= 0, name
            shot = SCREENSHOTS / f"readers-{name}-{width}-{scheme}.png"
            page.screenshot(path=str(shot), full_page=True)
            assert shot.stat().st_size > 10_000
        context.close()
