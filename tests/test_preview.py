"""`digest preview`: the static HTML site, checked in its DOM and in a real headless Chromium."""

from __future__ import annotations

import re
import shutil
import signal
import xml.etree.ElementTree as ElementTree
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import Site
from tests.test_jekyll import Page

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).parents[1] / ".test-artifacts"
FORMULA = r"l_k = \sum_{i \in P} a_i t_{k,i}"


@pytest.fixture
def previewed(site: Site) -> Site:
    site.model.answers[("2602.20003v1", "analysis")] = (
        f"1)  \n- 定义：\\( {FORMULA} \\)，其中 \\( P \\) 为正类。\n  - 子项：嵌套列表。\n\n"
        "2)  \n- 方法：有效。\n\n3)  \n- 效果：良好。"
    )
    assert site.digest("build", "--date", "2026-02-13").status == 0
    assert site.digest("build", "--date", "2026-02-14").status == 0
    run = site.digest("preview")
    assert run.status == 0, run.stderr
    assert "Preview: 2 posts, 2 rendered, 0 removed" in run.stderr
    return site


def test_preview_pages_in_the_dom(previewed: Site) -> None:
    out = previewed.root / "_site"
    home = (out / "index.html").read_text("utf-8")
    assert home.index("2026-02-14") < home.index("2026-02-13")
    assert "4 篇论文" in home and "1 篇论文" in home
    archive = (out / "archive/index.html").read_text("utf-8")
    assert '<section id="2026-02">' in archive

    html = (out / "2026/02/13/arxiv/index.html").read_text("utf-8")
    page = Page(html)
    assert page.count("details") == 4 and page.count("summary") == 4
    assert page.count("math") == 2
    ids = [attrs["id"] for tag, attrs in page.elements if tag == "h2" and "id" in attrs]
    links = [
        attrs["href"]
        for tag, attrs in page.elements
        if tag == "a" and attrs.get("href", "").startswith("#")
    ]
    assert len(ids) == 4 and links == [f"#{heading}" for heading in ids]  # the table of contents
    assert '<a href="https://arxiv.org/pdf/2602.20004v2" rel="nofollow noopener ugc">' in html
    # The analysis is Markdown inside <details>: its list, the nested list, the formula.
    details = html.split("<details")[3]
    assert re.search(r"<li>定义：<math .*?</math>，其中 <math .*?<ul>\s*<li>子项", details, re.S)

    feed = ElementTree.parse(out / "feed.xml").getroot()
    entries = feed.findall("{http://www.w3.org/2005/Atom}entry")
    assert [entry.findtext("{http://www.w3.org/2005/Atom}title") for entry in entries] == [
        "arXiv Daily – 2026-02-14", "arXiv Daily – 2026-02-13",
    ]  # fmt: skip


def test_rebuild_renders_only_what_changed(previewed: Site) -> None:
    unchanged = previewed.digest("preview")
    assert "2 posts, 0 rendered, 0 removed" in unchanged.stderr

    post = previewed.post("2026-02-14")
    post.write_text(post.read_text("utf-8").replace("属于下一天的帖子。", "改过的译文。"), "utf-8")
    changed = previewed.digest("preview")
    assert "2 posts, 1 rendered, 0 removed" in changed.stderr
    page = (previewed.root / "_site/2026/02/14/arxiv/index.html").read_text("utf-8")
    assert "改过的译文。" in page

    post.unlink()
    removed = previewed.digest("preview")
    assert "1 posts, 0 rendered, 1 removed" in removed.stderr
    assert not (previewed.root / "_site/2026/02/14/arxiv/index.html").exists()


@pytest.fixture
def served(previewed: Site) -> Iterator[str]:
    process = previewed.start_digest("preview", "--serve", "--port", "0")
    assert process.stderr is not None
    url = ""
    for line in process.stderr:
        found = re.search(r"at (http://127\.0\.0\.1:\d+/)", line)
        if found:
            url = found.group(1)
            break
    try:
        yield url
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=10)


def test_preview_in_headless_chromium(served: str) -> None:
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), "chromium is missing: run `bash .ci/run`, which installs it"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"],
        )  # fmt: skip
        page = browser.new_page(viewport={"width": 900, "height": 1400})
        page.goto(served)
        page.click("text=2026-02-13")
        page.wait_for_url(re.compile(r".*/2026/02/13/arxiv/$"))

        details = page.locator("details").nth(2)
        assert details.evaluate("element => element.open") is False
        details.locator("summary").click()
        assert details.evaluate("element => element.open") is True

        formula = page.locator("math").first
        box = formula.bounding_box()
        assert box is not None and box["width"] > 40 and box["height"] > 5
        assert "msub" in formula.evaluate("element => element.innerHTML")

        SCREENSHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "preview-post.png"), full_page=False)
        browser.close()
    assert (SCREENSHOTS / "preview-post.png").stat().st_size > 10_000
