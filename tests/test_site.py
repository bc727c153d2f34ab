"""`digest site`: the reader's site built from the records — its pages, links, feeds and
incremental builds in-process, and what a reader sees in headless Chromium (search, no
request leaving the site, dark mode, 390 px, print, CJK typography)."""

from __future__ import annotations

import contextlib
import re
import shutil
import signal
import socket
import subprocess
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urldefrag, urlsplit

import feedparser
import pytest

import arxiv_digest
from arxiv_digest.answers.tasks import ANALYSIS_PARTS
from arxiv_digest.errors import BadInputError, ConfigError
from arxiv_digest.views import site as site_module
from arxiv_digest.views.jekyll import read_site_identity
from arxiv_digest.views.search import write_index
from arxiv_digest.views.serve import site_server
from arxiv_digest.views.site import (
    MANIFEST,
    SiteResult,
    build_site,
    code_fingerprint,
    site_settings,
)
from tests.conftest import DIGEST
from tests.inprocess import Bench
from tests.standins import FeedPaper

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip
SCREENSHOTS = Path(__file__).parents[1] / ".test-artifacts"
BASE = "/digest"
LONG_FORMULA = (
    r"\mathcal{L} = \sum_{i=1}^{N} \log p(y_i | x_i; \theta) + \lambda \|\theta\|_2^2"
    r" + \frac{1}{2}\sum_{j=1}^{M} w_j^2 + \alpha \cdot \mathrm{KL}(q \| p) + \beta \gamma"
)
ANALYSIS = (
    "1)  \n- **研究背景**：混响时间估计是房间声学的基本问题，定义为 \\( l_k = \\sum_{i \\in P} a_i \\)，"
    "其中 \\( P \\) 为正类集合。\n  - **子项**：嵌套列表。\n\n"
    f"2)  \n- **核心方法**：使用状态空间模型，优化如下目标：\n\n$$ {LONG_FORMULA} $$\n\n"
    "3)  \n- **实验效果**：误差明显下降，代码见 https://github.com/example/reverb-ssm 。"
)
PAGES = ["/", "/2026/02/13/arxiv/", "/2026/02/14/arxiv/", "/2026/02/15/arxiv/", "/archive/",
         "/topics/", "/topics/asr/", "/papers/2602.20003/", "/search/?q=prosody",
         "/no-such-page/"]  # fmt: skip


def make_bench(root: Path, base_path: str = "") -> Bench:
    """Three days: 02-13 with four papers in the window and three shown (one analysis
    with formulas and a bare URL), 02-14 with one, 02-15 with none."""
    bench = Bench.of(root)
    bench.configure(triage={"enabled": True}, filter={"max_papers": 3})
    bench.model.answers[("2602.20003v1", "analysis")] = ANALYSIS
    for day in ("2026-02-13", "2026-02-14"):
        bench.build(day)
    # 02-15 built after Tuesday's listing (of a Monday paper), which settles it: arXiv has
    # announced all of it.
    monday = datetime(2026, 2, 16, 10, tzinfo=UTC)
    bench.source.papers.append(
        FeedPaper("2602.20099v1", "A Monday Paper", ["M. Onday"], ["cs.SD"], "Later.", monday)
    )
    bench.source.now = datetime(2026, 2, 17, 1, 30, tzinfo=UTC)
    bench.build("2026-02-15", announcements=True)
    identity = f"title: 测试速递\ndescription: 一个测试站点\nauthor: 测试者\nurl: https://example.org\nbaseurl: {base_path}\n"
    (root / "_config.yml").write_text(identity, encoding="utf-8")
    return bench


# The bench's clock: two days after 02-15, before any window is old enough to settle by age.
BENCH_NOW = datetime(2026, 2, 17, 1, 30, tzinfo=UTC)


def build(bench: Bench, now: datetime = BENCH_NOW) -> SiteResult:
    config = bench.config
    return build_site(
        config.output.records_dir,
        bench.root / "_public",
        site_settings(config, bench.root, now=now),
    )


class Links(HTMLParser):
    """Every link, source and id of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.ids: set[str] = set()
        self.elements: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        self.elements.append((tag, values))
        for name in ("href", "src", "action"):
            if values.get(name):
                self.urls.append(str(values[name]))
        if values.get("id"):
            self.ids.add(str(values["id"]))
        if values.get("data-base") is not None:
            self.urls.append(f"{values['data-base']}/assets/search.js")


def parsed(path: Path) -> Links:
    links = Links()
    links.feed(path.read_text(encoding="utf-8"))
    return links


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Bench:
    bench = make_bench(tmp_path_factory.mktemp("site"), BASE)
    result = build(bench)
    assert (result.days, result.rendered, result.removed) == (3, 3, 0)
    assert write_index(bench.root / "_public") == 4  # one record per paper
    return bench


def test_pages_say_what_the_records_hold(site: Bench) -> None:
    out = site.root / "_public"
    home = (out / "index.html").read_text("utf-8")
    assert home.index("2026-02-15") < home.index("2026-02-14") < home.index("2026-02-13")
    assert "2026-02-15</time> 周日" in home and "2026-02-13</time> 周五" in home
    # The newest day with papers in full, compact; the older ones folded.
    featured = home[home.index('class="day-summary featured"') : home.index("</section>")]
    assert "2026-02-14" in featured and "本文提出一种音频方法并验证了效果。" in featured
    assert '<details class="day-summary">' in home and "3 篇（窗口内 4 篇）" in home

    day = parsed(out / "2026/02/13/arxiv/index.html")
    html = (out / "2026/02/13/arxiv/index.html").read_text("utf-8")
    headings = [tag for tag, _ in day.elements if tag in ("h1", "h2")]
    assert headings == ["h1", "h2", "h2", "h2", "h2"]  # the day, three papers, the left-out
    papers = [attrs["id"] for tag, attrs in day.elements if tag == "section" and attrs.get("id")]
    assert papers == ["arxiv-2602.20005", "arxiv-2602.20004", "arxiv-2602.20003"]
    toc = [url for url in day.urls if url.startswith("#arxiv-")]
    assert toc == [f"#{anchor}" for anchor in papers] * 2  # the contents, and each "#" link
    for paper_id in ("2602.20005", "2602.20004", "2602.20003"):
        assert f"{BASE}/papers/{paper_id}/" in day.urls
    # Chinese title first, English beneath; translation and analysis one click away.
    assert html.index("论文 2602.20005v1 的中文标题") < html.index("Breathing Room")
    assert html.count('<details class="more">') == 3 and '<details class="toc">' in html
    assert f'href="{BASE}/2026/02/14/arxiv/" rel="next">后一天 2026-02-14 周六 →' in html
    # The paper the cap left out, with why; the gap-free analyses; formulas as MathML.
    assert "A Paper Submitted One Minute" not in html  # outside the window
    assert "Counting Speakers in Overlapped Meetings" in html and "超出每日上限" in html
    assert html.count('<section class="analysis"') == 3
    assert html.count("<math") >= 3 and 'display="block"' in html and "\\Vert" not in html
    assert '<a href="https://github.com/example/reverb-ssm" rel="nofollow noopener ugc">' in html
    assert f'<a class="topic" href="{BASE}/topics/asr/" data-topic="asr">' in html
    assert "v2 修订版" in html  # 2602.20004v2

    assert "arXiv 尚未公告完这一窗口，之后可能增加" in html  # built before arXiv announced it all
    empty = (out / "2026/02/15/arxiv/index.html").read_text("utf-8")
    assert (
        "arXiv 已公告完这一窗口，其中没有这些分类的新论文。" in empty
        and "尚未公告完" not in empty
        and f'{BASE}/2026/02/14/arxiv/" rel="prev"' in empty
    )
    archive = (out / "archive/index.html").read_text("utf-8")
    assert '<section id="2026-02">' in archive and "arXiv 没有公告新论文" in archive
    assert archive == (out / "archive/2026/index.html").read_text("utf-8")
    assert "找不到" in (out / "404.html").read_text("utf-8")


def test_a_paper_has_its_own_page(site: Bench) -> None:
    out = site.root / "_public"
    page = out / "papers/2602.20003/index.html"
    html = page.read_text("utf-8")
    links = parsed(page)
    # Chinese title first, English beneath; authors, links, translation, abstract.
    assert html.index("论文 2602.20003v1 的中文标题") < html.index("Listening in Rooms")
    for url in (
        "https://arxiv.org/abs/2602.20003v1",
        "https://arxiv.org/pdf/2602.20003v1",
        "https://arxiv.org/html/2602.20003v1",
        f"{BASE}/2026/02/13/arxiv/#arxiv-2602.20003",
        f"{BASE}/papers/2602.20004/",  # the previous paper of the day
    ):
        assert url in links.urls, url
    assert "Hana Sato" in html and "一个 Mamba 编码器" in html and "A Mamba encoder" in html
    # The analysis' parts are headings, named as the analysis prompt names them.
    parts = re.findall(r'<h4 class="part">(.*?)</h4>', html)
    assert parts == [f"{number}. {name}" for number, name in enumerate(ANALYSIS_PARTS, 1)]
    assert "1)" not in html.split("<h3>详细解读</h3>")[1].split("</section>")[0]
    # Its permalink and a BibTeX entry to copy.
    assert '<link rel="canonical" href="https://example.org/digest/papers/2602.20003/">' in html
    assert "@misc{sato2026listening," in html and "eprint = {2602.20003}" in html
    # The first paper of its day has no previous one; the last, no next.
    first = parsed(out / "papers/2602.20005/index.html")
    assert not any("rel" in attrs and attrs["rel"] == "prev" for _, attrs in first.elements)
    assert ("a", {"href": f"{BASE}/papers/2602.20004/", "rel": "next"}) in first.elements
    assert not (out / "papers/2602.20001").exists()  # left out by the cap: no page


def test_a_day_says_the_same_everywhere_and_settles_by_age(tmp_path: Path) -> None:
    bench = make_bench(tmp_path)
    build(bench)
    out = tmp_path / "_public"
    home = (out / "index.html").read_text("utf-8")
    day = (out / "2026/02/15/arxiv/index.html").read_text("utf-8")
    said = "arXiv 已公告完这一窗口，其中没有这些分类的新论文。"
    assert said in home and said in day and "还没有已公告" not in home
    assert "尚未公告完" in (out / "2026/02/13/arxiv/index.html").read_text("utf-8")

    # Three weeks on, a window arXiv may have been slow to announce is settled whatever its
    # record says: the day that was pending is rendered again, and says so no more.
    later = build(bench, now=BENCH_NOW + timedelta(days=21))
    assert later.rendered == 2  # 02-13 and 02-14, built before Tuesday's listing
    for shown_on in ("13", "14"):
        page = (out / f"2026/02/{shown_on}/arxiv/index.html").read_text("utf-8")
        assert "尚未公告完" not in page, shown_on
    assert "尚未公告完" not in (out / "index.html").read_text("utf-8")


def test_topic_pages_and_the_archive_are_paginated(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(site_module, "TOPIC_PAGE_PAPERS", 3)
    bench = make_bench(tmp_path)
    bench.build("2025-12-31")  # a day of another year
    build(bench)
    out = tmp_path / "_public"
    first, second = out / "topics/asr/index.html", out / "topics/asr/page/2/index.html"
    assert first.is_file() and second.is_file()
    assert 'href="/topics/asr/page/2/" rel="next">较早 →' in first.read_text("utf-8")
    assert 'href="/topics/asr/" rel="prev">← 较新' in second.read_text("utf-8")
    assert "第 2 / 2 页" in second.read_text("utf-8")
    archive = (out / "archive/index.html").read_text("utf-8")
    assert "归档 · 2026 年" in archive and 'href="/archive/2025/"' in archive
    assert "2025-12-31" in (out / "archive/2025/index.html").read_text("utf-8")
    assert "2025-12-31" not in archive

    # A page no longer made is removed: fewer papers, one topic page.
    bench.record_path("2025-12-31").unlink()
    bench.record_path("2026-02-13").unlink()
    build(bench)
    assert first.is_file() and not second.exists()
    assert not (out / "archive/2025/index.html").exists()


def test_a_gap_between_days_is_named_as_one(tmp_path: Path) -> None:
    bench = make_bench(tmp_path)
    bench.record_path("2026-02-14").unlink()
    bench.build("2026-02-20")
    build(bench)
    html = (tmp_path / "_public/2026/02/15/arxiv/index.html").read_text("utf-8")
    assert "← 上一期（相隔 2 天） 2026-02-13 周五" in html
    assert "下一期（相隔 5 天） 2026-02-20 周五 →" in html
    assert "前一天" not in html and "后一天" not in html


def test_a_paper_on_two_days_has_one_page_from_the_earlier(tmp_path: Path) -> None:
    bench = make_bench(tmp_path)
    earlier = bench.record_path("2026-02-13")
    later = bench.record_path("2026-02-20")
    later.write_text(
        earlier.read_text("utf-8").replace("2026-02-13", "2026-02-20").replace(
            "2026-02-12", "2026-02-19"
        ),
        "utf-8",
    )  # fmt: skip
    build(bench)
    page = tmp_path / "_public/papers/2602.20003/index.html"
    assert "2026-02-13</time> 周五" in page.read_text("utf-8")
    earlier.unlink()  # now the later day owns it, and writes it though it did not change
    result = build(bench)
    assert result.removed == 1 and "2026-02-20</time> 周五" in page.read_text("utf-8")
    later.unlink()
    build(bench)
    assert not page.exists()


def test_every_link_leads_somewhere(site: Bench) -> None:
    """Under the base path, every page's every internal link and anchor exists."""
    out = site.root / "_public"
    pages = [path for path in out.rglob("*.html") if "pagefind" not in path.parts]
    assert len(pages) >= 9
    checked = 0
    for page in pages:
        links = parsed(page)
        for url in links.urls:
            if urlsplit(url).scheme or url.startswith("mailto:"):
                continue
            target, fragment = urldefrag(url)
            if not target:
                assert fragment in links.ids, (page, url)
                continue
            path = urlsplit(target).path
            assert path.startswith(f"{BASE}/"), (page, url)
            local = out / unquote(path[len(BASE) + 1 :])
            local = local / "index.html" if path.endswith("/") else local
            assert local.is_file(), (page, url)
            if fragment:
                assert fragment in parsed(local).ids, (page, url)
            checked += 1
    assert checked > 50


def test_feeds_are_valid_atom_with_the_days_content(site: Bench) -> None:
    out = site.root / "_public"
    feed = feedparser.parse((out / "feed.xml").read_bytes())
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.feed.title == "测试速递"
    assert [entry.link for entry in feed.entries] == [
        f"https://example.org{BASE}/2026/02/{day}/arxiv/" for day in ("15", "14", "13")
    ]
    assert feed.entries[2].title == "2026-02-13 周五 · 3 篇"
    content = feed.entries[2].content[0].value
    assert "Breathing Room" in content and "<math" in content and "<script" not in content
    topic = feedparser.parse((out / "topics/asr/feed.xml").read_bytes())
    assert not topic.bozo and len(topic.entries) == 4
    assert topic.entries[0].link == f"https://example.org{BASE}/papers/2602.20002/"


def test_rebuilds_render_only_what_changed(tmp_path: Path) -> None:
    bench = make_bench(tmp_path)
    assert build(bench).rendered == 3
    assert (build(bench).rendered, build(bench).removed) == (0, 0)

    record = bench.record_path("2026-02-14")
    record.write_text(record.read_text("utf-8").replace("属于下一天的帖子", "改过的摘要"), "utf-8")
    assert build(bench).rendered == 1

    # A new day is rendered, and so is the day before it (its "next" link is new).
    bench.build("2026-02-16")
    assert build(bench).rendered == 2
    assert (tmp_path / "_public/2026/02/16/arxiv/index.html").is_file()

    bench.record_path("2026-02-16").unlink()
    result = build(bench)
    assert (result.rendered, result.removed) == (1, 1)
    assert not (tmp_path / "_public/2026/02/16/arxiv/index.html").exists()

    # A template of the site's own replaces the default: every page follows.
    override = tmp_path / "templates/site/day.html.j2"
    override.parent.mkdir(parents=True)
    default = Path(__file__).parents[1] / "templates/site/day.html.j2"
    override.write_text(
        default.read_text("utf-8").replace(
            "{{ pager() }}\n{{ article", "<p>自定义</p>\n{{ pager() }}\n{{ article"
        ),
        "utf-8",
    )
    assert build(bench).rendered == 3
    assert "<p>自定义</p>" in (tmp_path / "_public/2026/02/13/arxiv/index.html").read_text("utf-8")


def test_any_module_of_the_package_renders_every_page_again(tmp_path: Path) -> None:
    # A change to models.base_id or jekyll.day_url changes every page's anchors or URL, yet
    # the site once hashed four named modules only and rendered nothing ("0 rendered").
    package = tmp_path / "arxiv_digest"
    shutil.copytree(
        Path(arxiv_digest.__file__).parent, package, ignore=shutil.ignore_patterns("__pycache__")
    )
    before = code_fingerprint(package)
    for module in sorted(package.rglob("*.py")):
        kept = module.read_bytes()
        module.write_bytes(kept + b"\n# changed\n")
        assert code_fingerprint(package) != before, module.name
        module.write_bytes(kept)
    (package / "__pycache__").mkdir()
    (package / "__pycache__" / "models.cpython-311.pyc").write_bytes(b"compiled")
    assert code_fingerprint(package) == before  # compiled files are not the code


def test_a_broken_record_leaves_the_site_as_it_was(tmp_path: Path) -> None:
    bench = make_bench(tmp_path)
    build(bench)
    out = tmp_path / "_public"
    before = {path: path.read_bytes() for path in out.rglob("*") if path.is_file()}
    good = bench.record_path("2026-02-14")
    good.write_text(good.read_text("utf-8").replace("属于下一天的帖子", "改过"), "utf-8")
    broken = bench.record_path("2026-02-13")
    broken.write_text(
        broken.read_text("utf-8").replace('"in_window": 4', '"in_window": "4"'), "utf-8"
    )

    with pytest.raises(BadInputError, match=r"2026-02-13\.json at \$\.in_window"):
        build(bench)
    after = {path: path.read_bytes() for path in out.rglob("*") if path.is_file()}
    assert after == before  # no page changed, nothing staged left behind


def test_site_identity_comes_from_config_yml(tmp_path: Path) -> None:
    assert read_site_identity(tmp_path / "_config.yml").title == "arXiv 每日论文速递"
    config = tmp_path / "_config.yml"
    config.write_text("title: 我的速递\nauthor: {name: 某人}\nbaseurl: /repo/\n", "utf-8")
    identity = read_site_identity(config)
    assert (identity.title, identity.author, identity.base_path) == ("我的速递", "某人", "/repo")
    config.write_text("url: example.org/x\nbaseurl: repo\n", "utf-8")
    with pytest.raises(ConfigError) as raised:
        read_site_identity(config)
    assert raised.value.problems == [
        "url: 'example.org/x' is not an origin such as https://someone.github.io",
        "baseurl: 'repo' is not a path such as /my-digest",
    ]


def test_the_manifest_is_not_published_content(site: Bench) -> None:
    # The manifest is ours: a dotfile GitHub Pages' artifact may carry but no page links.
    assert (site.root / "_public" / MANIFEST).is_file()
    assert not any(MANIFEST in url for url in parsed(site.root / "_public/index.html").urls)


def test_the_preview_takes_a_burst_of_connections_at_once(tmp_path: Path) -> None:
    # Not yet accepting: every connection must wait in the listen queue, as a burst does while
    # the server's thread is busy; one the queue cannot hold would hang until TCP retries it.
    server = site_server(tmp_path, "", 0)
    connections = []
    try:
        for _ in range(24):
            connections.append(socket.create_connection(server.server_address, timeout=0.5))
    finally:
        for connection in connections:
            connection.close()
        server.server_close()
    assert len(connections) == 24


# --- What a reader sees, in headless Chromium -------------------------------------------


@contextlib.contextmanager
def serving(site_dir: Path, base: str) -> Iterator[str]:
    """The preview's server on a free port, in a thread: the site's address."""
    server = site_server(site_dir, base, 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}{base}"
    finally:
        server.shutdown()
        server.server_close()


@contextlib.contextmanager
def launched_chromium() -> Iterator[Any]:
    """Headless Chromium, Debian's, through Playwright. Start it after the site is built:
    Playwright keeps an event loop running, and the builds use asyncio."""
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), "chromium is missing: run `bash .ci/run`, which installs it"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def served(site: Bench) -> Iterator[str]:
    with serving(site.root / "_public", BASE) as url:
        yield url


@pytest.fixture(scope="module")
def chromium(site: Bench) -> Iterator[Any]:
    with launched_chromium() as browser:
        yield browser


def open_page(chromium: Any, served: str, **options: Any) -> tuple[Any, Any, list[str]]:
    """A page whose every request off the site is refused and recorded as a failure."""
    context = chromium.new_context(**options)
    problems: list[str] = []
    origin = served[: -len(BASE)]

    def route(route: Any) -> None:
        if route.request.url.startswith(origin):
            route.continue_()
        else:
            problems.append(f"request off the site: {route.request.url}")
            route.abort()

    context.route("**/*", route)
    page = context.new_page()
    page.on(
        "console",
        lambda message: problems.append(message.text) if message.type == "error" else None,
    )
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("requestfailed", lambda request: problems.append(f"failed: {request.url}"))
    return context, page, problems


def test_every_page_loads_with_nothing_from_elsewhere(chromium: Any, served: str) -> None:
    context, page, problems = open_page(chromium, served)
    for path in PAGES:
        response = page.goto(served + path)
        assert response is not None
        assert response.status == (404 if path == "/no-such-page/" else 200), path
        if "/search/" in path:  # its script fetches the index after the page has loaded
            page.locator("#search-results li").first.wait_for(timeout=10_000)
        if path == "/no-such-page/":
            problems[:] = [p for p in problems if "404" not in p]  # the page itself is a 404
        assert problems == [], (path, problems)
        stylesheet = page.evaluate("getComputedStyle(document.body).maxWidth")
        assert stylesheet != "none", path  # the site's stylesheet applied
    context.close()


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("韵律", "Breathing Room"),  # Chinese, from a translation
        ("codebooks", "Sparse Codebooks"),  # English, from a title
        ("Natarajan", "Sparse Codebooks"),  # an author
    ],
)
def test_search_finds_the_paper(chromium: Any, served: str, query: str, expected: str) -> None:
    context, page, problems = open_page(chromium, served)
    page.goto(f"{served}/search/?q={query}")
    first = page.locator("#search-results li").first
    first.wait_for(timeout=10_000)
    assert expected in first.inner_text()
    href = first.locator("a").first.get_attribute("href")
    assert href is not None and href.startswith(f"{BASE}/papers/2602.")
    assert problems == []
    context.close()


def test_a_pasted_id_opens_its_paper(chromium: Any, served: str) -> None:
    context, page, problems = open_page(chromium, served)
    page.goto(f"{served}/search/?q=https://arxiv.org/abs/2602.20003v1")
    page.wait_for_url(f"{served}/papers/2602.20003/")
    assert "Listening in Rooms" in page.inner_text("h1 + .title-en")
    page.goto(f"{served}/search/?q=2699.00001")  # not on this site: said so, with arXiv's page
    page.get_by_text("本站没有收录 arXiv:2699.00001").wait_for(timeout=10_000)
    assert page.locator("#search-status a").get_attribute("href") == (
        "https://arxiv.org/abs/2699.00001"
    )
    problems[:] = [problem for problem in problems if "404" not in problem]  # the lookup
    assert problems == []
    context.close()


def test_search_from_the_form(chromium: Any, served: str) -> None:
    context, page, problems = open_page(chromium, served)
    page.goto(served + "/")
    page.fill("form.search input", "Mei Lin")
    page.click("form.search button")
    page.wait_for_url(re.compile(r".*/search/\?q=Mei\+Lin$"))
    page.locator("#search-results li a").first.wait_for(timeout=10_000)
    assert "Breathing Room" in page.locator("#search-results").inner_text()
    assert problems == [] and page.locator("#search-results li").count() == 1
    assert problems == []
    context.close()


@pytest.mark.parametrize("width", [1280, 390])
def test_no_page_scrolls_sideways_light_or_dark(chromium: Any, served: str, width: int) -> None:
    context, page, _ = open_page(chromium, served, viewport={"width": width, "height": 900})
    SCREENSHOTS.mkdir(exist_ok=True)
    for path in PAGES:
        page.goto(served + path)
        # Everything open: the analyses with their long formulas too.
        page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
        overflow = page.evaluate("document.documentElement.scrollWidth - innerWidth")
        assert overflow <= 0, (path, overflow)
    page.goto(served + "/2026/02/13/arxiv/")
    page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
    for scheme, background in (("light", "rgb(255, 255, 255)"), ("dark", "rgb(13, 17, 23)")):
        page.emulate_media(color_scheme=scheme)
        assert page.evaluate("document.documentElement.scrollWidth - innerWidth") <= 0
        color = page.evaluate("getComputedStyle(document.documentElement).backgroundColor")
        assert color == background, scheme
        shot = SCREENSHOTS / f"site-day-{width}-{scheme}.png"
        page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 10_000
    context.close()


def test_typography_languages_and_print(chromium: Any, served: str) -> None:
    context, page, _ = open_page(chromium, served, viewport={"width": 390, "height": 900})
    page.goto(served + "/2026/02/13/arxiv/")
    assert page.evaluate("document.documentElement.lang") == "zh-CN"
    page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
    langs = page.evaluate(
        "[...document.querySelectorAll('section.paper .title-en, dl.facts dd:first-of-type')]"
        ".map(e => e.closest('[lang]').lang)"
    )
    assert langs and set(langs) == {"en"}
    # Latin text in Chinese prose is never letter-spaced: each Latin word is exactly as wide
    # there as on its own.
    spread = page.evaluate(
        """() => {
        const widths = [];
        for (const block of document.querySelectorAll('.translation p, .analysis li')) {
          const walker = document.createTreeWalker(block, NodeFilter.SHOW_TEXT);
          for (let node; (node = walker.nextNode()); ) {
            for (const word of node.data.matchAll(/[A-Za-z]{4,}/g)) {
              const range = document.createRange();
              range.setStart(node, word.index);
              range.setEnd(node, word.index + word[0].length);
              if (range.getClientRects().length !== 1) continue;  // broken across lines
              const probe = document.createElement('span');
              probe.textContent = word[0];
              probe.style.whiteSpace = 'nowrap';
              node.parentElement.append(probe);
              widths.push(range.getBoundingClientRect().width - probe.getBoundingClientRect().width);
              probe.remove();
            }
          }
        }
        return widths;
      }"""
    )
    assert len(spread) >= 3 and max(abs(width) for width in spread) < 0.5, spread
    assert page.evaluate("getComputedStyle(document.body).letterSpacing") == "normal"

    page.reload()  # every paper closed again: print shows them all the same
    page.emulate_media(media="print")
    hidden = page.evaluate("getComputedStyle(document.querySelector('header.site nav')).display")
    analysis = page.locator(".analysis li").first
    assert hidden == "none" and analysis.is_visible()
    context.close()


def test_digest_site_and_preview_from_the_command_line(tmp_path: Path) -> None:
    """The installed command: `digest site` builds, `digest preview` builds and serves under
    the base path until Ctrl-C, which ends it with status 0 and one line."""
    # In a thread: the module's browser keeps an event loop on this one, and builds use asyncio.
    with ThreadPoolExecutor(max_workers=1) as thread:
        thread.submit(make_bench, tmp_path, "/mine").result()
    built = subprocess.run(
        [str(DIGEST), "site", "--no-search"], cwd=tmp_path, capture_output=True, text=True,
        timeout=120, check=False,
    )  # fmt: skip
    assert built.returncode == 0, built.stderr
    assert re.search(
        r"Site: 3 days \(3 rendered, 0 removed\), 4 paper pages \(4 written\),"
        r" \d+ index pages written → .*_public \(",
        built.stderr,
    )

    process = subprocess.Popen(
        [str(DIGEST), "preview", "--no-search", "--port", "0"], cwd=tmp_path,
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert process.stderr is not None
    url = ""
    for line in process.stderr:
        found = re.search(r"at (http://127\.0\.0\.1:\d+/mine/)", line)
        if found:
            url = found.group(1)
            break
    try:
        with urllib.request.urlopen(url + "2026/02/13/arxiv/", timeout=10) as response:
            assert "Breathing Room" in response.read().decode("utf-8")
        with pytest.raises(urllib.error.HTTPError) as missing:
            urllib.request.urlopen(url + "nothing/", timeout=10)
        assert missing.value.code == 404 and "找不到这一页" in missing.value.read().decode()
    finally:
        process.send_signal(signal.SIGINT)
        rest = process.stderr.read()
        assert process.wait(timeout=10) == 0
    assert rest.strip() == "Stopped."
