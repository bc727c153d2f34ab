"""The hostile corpus (tests/hostile.py) published both ways — real Jekyll (kramdown) and
our own site (`digest site`, with its search index) — and every page and feed read by
headless Chromium with script and network blocked: no script but the layout's, no event
handler, no URL but http(s), mailto or the site's own, no image, no element off the
allowlist, one heading and one rule per paper, one details block per analysis, nothing
after the last paper. Every file the site writes is checked, found by walking the output
(a new kind of file fails until it has a check); the search is run in Chromium against
the hostile index. The same corpus rendered without sanitizing must fail these checks.
"""

from __future__ import annotations

import gzip
import json
import re
import shutil
import subprocess
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from arxiv_digest.templating import default_templates_dir
from arxiv_digest.views import post as render
from arxiv_digest.views.safe_html import ATTRIBUTES, TAGS
from arxiv_digest.views.search import BUNDLE_DIR, write_index
from arxiv_digest.views.serve import site_server
from arxiv_digest.views.site import build_site, site_settings
from tests import hostile
from tests.inprocess import Bench
from tests.test_jekyll import ROOT, SITE_FILES
from tests.test_site import CHROMIUM

JEKYLL_CONTENT_TAGS = {
    "p", "ul", "ol", "li", "strong", "em", "code", "pre", "a", "h2", "hr", "details",
    "summary", "div", "span", "br",
}  # fmt: skip
JEKYLL_CONTENT_ATTRIBUTES = {
    "a@href", "h2@id", "div@class", "pre@class", "code@class", "span@class", "ol@start",
}  # fmt: skip
# What the site's own article template writes around the answers.
SITE_LAYOUT_TAGS = {"article", "header", "h1", "h2", "h3", "h4", "time", "p", "details", "summary",
                    "ol", "li", "a", "span", "section", "dl", "dt", "dd", "div", "ul"}  # fmt: skip
SITE_LAYOUT_ATTRIBUTES = {
    "article@class", "article@data-pagefind-body", "article@data-filter",
    "article@data-pagefind-meta", "h1@data-pagefind-meta", "h1@data-pagefind-weight",
    "time@datetime", "p@class", "p@lang", "p@data-pagefind-ignore", "p@data-pagefind-meta",
    "p@data-pagefind-weight", "details@class", "details@open", "dt@data-pagefind-ignore",
    "dd@data-pagefind-ignore", "span@data-pagefind-ignore", "span@title", "h3@class", "h4@class", "h3@data-pagefind-ignore",
    "details@data-pagefind-ignore", "a@href", "a@rel", "a@lang", "a@class", "a@title",
    "a@aria-label", "a@data-topic", "span@lang", "section@class", "section@id",
    "section@data-topics", "section@data-pagefind-ignore", "h2@id", "h2@lang", "dl@class",
    "dd@lang", "h2@data-pagefind-ignore", "div@class", "div@lang", "div@data-pagefind-ignore", "div@data-pagefind-meta",
    "ol@start", "span@class", "pre@class", "pre@lang",
}  # fmt: skip
SITE_CONTENT_ATTRIBUTES = SITE_LAYOUT_ATTRIBUTES | {
    f"{tag}@{name}" for tag, names in ATTRIBUTES.items() for name in names
}
# What the other pages' templates write in <main> (home, archive, topics, search, 404).
SITE_PAGE_TAGS = SITE_LAYOUT_TAGS | TAGS | {"form", "input", "button", "br", "nav"}
SITE_PAGE_ATTRIBUTES = SITE_CONTENT_ATTRIBUTES | {
    "form@class", "form@action", "form@method", "form@role", "input@type", "input@name",
    "input@placeholder", "input@aria-label", "input@autofocus", "button@type", "p@id",
    "p@role", "ol@id", "ol@class", "ul@class", "section@id", "section@data-filter",
    "li@class", "li@data-topics", "nav@class", "nav@aria-label", "strong@aria-current",
}  # fmt: skip
FEED_ENTRY_TAGS = {"article", "header", "h1", "time", "p", "nav", "strong", "ol"}
FEED_ENTRY_ATTRIBUTES = {
    "article@class", "time@datetime", "a@rel", "h2@id", "div@class", "nav@class",
    "nav@aria-label", "p@class", "span@class", "p@lang",
}  # fmt: skip
# A search result as the search page's script builds it (text, and Pagefind's <mark>).
SEARCH_RESULT_TAGS = {"li", "a", "div", "p", "mark", "span"}
SEARCH_RESULT_ATTRIBUTES = {"a@href", "a@class", "span@class", "span@lang", "div@class", "p@class"}
# The outputs that show the first paper's triage (its one-line fields are hostile).
SHOWS_TRIAGE = {
    "index.html", "2026/02/13/arxiv/index.html", "topics/asr/index.html",
    "topics/speaker/index.html", "topics/asr/feed.xml", "topics/speaker/feed.xml",
}  # fmt: skip
SHOWS_LITERAL_TITLE = {"index.html", "2026/02/13/arxiv/index.html", "topics/asr/index.html"}
DAY_PAGE = re.compile(r"\d{4}/\d\d/\d\d/arxiv/index\.html")
PAPERS = len(hostile.PAPERS)
ANALYSES = len(hostile.ANALYSES)

INSPECT = """({root, heading, details, rule, label}) => {
  const all = [...document.querySelectorAll('*')];
  const content = document.querySelector(root);
  const urlNames = ['href', 'src', 'action', 'formaction', 'xlink:href', 'data', 'poster',
                    'background', 'srcset'];
  const urls = all.flatMap(e => urlNames.map(n => e.getAttribute(n)).filter(v => v !== null));
  const hrs = content ? content.querySelectorAll(rule) : [];
  let after = '';
  if (hrs.length) {
    const range = document.createRange();
    range.setStartAfter(hrs[hrs.length - 1]);
    range.setEnd(content, content.childNodes.length);
    after = range.toString().trim();
  }
  const looksLikeUrl = t => /^(https?:\\/\\/|www\\.)/i.test(t.trim());
  return {
    scripts: [...document.scripts].map(s => s.getAttribute('src') || s.type || 'inline'),
    handlers: all.flatMap(e => [...e.attributes].filter(a => a.name.toLowerCase().startsWith('on'))
                                 .map(a => e.localName + '@' + a.name)),
    urls: urls,
    media: (content || document).querySelectorAll(
      'img, image, picture, video, audio, iframe, frame, object, embed, svg, source').length,
    tags: content ? [...new Set([...content.querySelectorAll('*')].map(e => e.localName))] : [],
    attributes: content ? [...new Set([...content.querySelectorAll('*')].flatMap(
      e => [...e.attributes].map(a => e.localName + '@' + a.name)))] : [],
    headings: content ? content.querySelectorAll(heading).length : 0,
    details: content ? content.querySelectorAll(details).length : 0,
    rules: hrs.length,
    after: after,
    dishonest: content ? [...content.querySelectorAll('a')].filter(
      a => looksLikeUrl(a.textContent) && a.textContent.trim().replace(/\\/$/, '')
           !== (a.getAttribute('href') || '').replace(/\\/$/, '')).map(a => a.outerHTML) : [],
    labels: content ? [...content.querySelectorAll(label)].filter(
      e => ['Authors', 'Categories', 'arXiv', 'PDF'].includes(e.textContent.trim())).length : 0,
    text: content ? content.textContent : '',
  };
}"""


@dataclass
class Surface:
    """One page or feed entry to check, and what its layout may add."""

    name: str
    url: str
    root: str
    layout_scripts: list[str]
    tags: set[str]
    attributes: set[str]
    structure: bool
    """Whether the checks of a whole post's structure apply (pages, not feed entries)."""
    heading: str = "h2"
    """A paper's heading; and below, an analysis, what follows each paper, a metadata label."""
    details: str = "details"
    rule: str = "hr"
    label: str = "strong"
    labels: int = 4 * PAPERS
    """Metadata labels the layout writes: Authors, Categories, arXiv, PDF in a post, none on
    the site (which labels its facts in Chinese); any other is an answer's lookalike."""
    text_after: bool = False
    """Whether text may follow the last paper (the site's list of unshown papers)."""


def violations(report: dict[str, Any], surface: Surface) -> list[str]:
    found = []
    if report["scripts"] != surface.layout_scripts:
        found.append(f"scripts {report['scripts']}")
    if report["handlers"]:
        found.append(f"event handlers {report['handlers']}")
    bad_urls = [
        url for url in report["urls"]
        if not url.strip().lower().startswith(("http://", "https://", "mailto:", "#", "/"))
        and ":" in url.split("/")[0]
    ]  # fmt: skip
    if bad_urls:
        found.append(f"URLs {bad_urls}")
    if report["media"]:
        found.append(f"{report['media']} images or embeds")
    if set(report["tags"]) - surface.tags:
        found.append(f"elements {sorted(set(report['tags']) - surface.tags)}")
    if set(report["attributes"]) - surface.attributes:
        found.append(f"attributes {sorted(set(report['attributes']) - surface.attributes)}")
    if report["dishonest"]:
        found.append(f"links {report['dishonest']}")
    if surface.structure:
        if report["headings"] != PAPERS:
            found.append(f"{report['headings']} headings for {PAPERS} papers")
        if report["details"] != ANALYSES:
            found.append(f"{report['details']} details blocks for {ANALYSES} analyses")
        if report["labels"] != surface.labels:
            found.append(f"{report['labels']} metadata labels for {PAPERS} papers")
        if report["rules"] != PAPERS:
            found.append(f"{report['rules']} rules for {PAPERS} papers")
        if report["after"] and not surface.text_after:
            found.append(f"text after the last paper: {report['after'][:80]!r}")
    return found


@dataclass
class Published:
    jekyll_page: Path
    jekyll_feed: Path
    site_page: Path
    site_feed: Path
    site_dir: Path


def publish(root: Path, *, sanitized: bool = True) -> Published:
    # In a thread of its own: Playwright's sync API keeps an event loop on this one.
    with ThreadPoolExecutor(max_workers=1) as thread:
        return thread.submit(_publish, root, sanitized).result()


def _publish(root: Path, sanitized: bool) -> Published:
    bench = Bench.of(root, hostile.PAPERS)
    bench.model.answers = hostile.answers()
    bench.configure(
        llm={"max_attempts": 1, "require_chinese": False},
        triage={"enabled": True, "max_summary_chars": 200},
    )
    bench.build(hostile.DAY)
    if not sanitized:
        # The self-test: the same records, rendered with the untrusted text as it came.
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(render.sanitize, "block", lambda text: text)
            patch.setattr(render.sanitize, "inline", lambda text: text)
            bench.render()
    for name in SITE_FILES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, root / name, dirs_exist_ok=True)
        else:
            shutil.copy(ROOT / name, root / name)
    jekyll = shutil.which("jekyll")
    assert jekyll, "jekyll is missing: run `bash .ci/run`, which installs Debian's jekyll"
    built = subprocess.run(
        [jekyll, "build", "--source", str(root), "--destination", str(root / "_site")],
        cwd=root, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert built.returncode == 0, built.stdout + built.stderr
    config = bench.config
    if sanitized:
        build_site(config.output.records_dir, root / "_public", site_settings(config, root))
        write_index(root / "_public")
    else:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr("arxiv_digest.views.site.sanitize.block", lambda text, **_: text)
            patch.setattr("arxiv_digest.views.site.sanitize.inline", lambda text: text)
            build_site(config.output.records_dir, root / "_public", site_settings(config, root))
    return Published(
        jekyll_page=root / "_site/2026/02/13/arxiv/index.html",
        jekyll_feed=root / "_site/feed.xml",
        site_page=root / "_public/2026/02/13/arxiv/index.html",
        site_feed=root / "_public/feed.xml",
        site_dir=root / "_public",
    )


def feed_entries(feed: Path) -> list[str]:
    """The HTML content of each entry of a well-formed Atom feed."""
    tree = etree.parse(str(feed), etree.XMLParser(resolve_entities=False, no_network=True))
    atom = "{http://www.w3.org/2005/Atom}"
    return [entry.findtext(f"{atom}content") or "" for entry in tree.iter(f"{atom}entry")]


class Browser:
    """Headless Chromium with JavaScript off and every request outside file:// refused."""

    def __init__(self) -> None:
        from playwright.sync_api import sync_playwright

        self._playwright = sync_playwright().start()
        self._browser = self._playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"],
        )  # fmt: skip
        self._context = self._browser.new_context(java_script_enabled=False)
        self._context.route(
            "**/*",
            lambda route: (
                route.continue_()
                if route.request.url.startswith(("file:", "data:", "about:"))
                else route.abort()
            ),
        )
        self.page = self._context.new_page()

    def inspect(self, surface: Surface, html: str | None = None) -> dict[str, Any]:
        if html is None:
            self.page.goto(surface.url)
        else:
            self.page.set_content(f"<!doctype html><article>{html}</article>")
        selectors = {
            "root": surface.root, "heading": surface.heading, "details": surface.details,
            "rule": surface.rule, "label": surface.label,
        }  # fmt: skip
        return dict(self.page.evaluate(INSPECT, selectors))

    def search(self, site_dir: Path, query: str) -> dict[str, Any]:
        """The search page of `site_dir`, served on loopback, with its script on: the report
        on the results it shows for `query`."""
        server = site_server(site_dir, "", 0)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        origin = f"http://127.0.0.1:{server.server_address[1]}"
        context = self._browser.new_context()
        context.route(
            "**/*",
            lambda route: (
                route.continue_() if route.request.url.startswith(origin) else route.abort()
            ),
        )
        try:
            page = context.new_page()
            page.goto(f"{origin}/search/?q={query}")
            page.locator("#search-results li").first.wait_for(timeout=10_000)
            selectors = {"root": "#search-results", "heading": "h2", "details": "details",
                         "rule": "hr", "label": "strong"}  # fmt: skip
            return dict(page.evaluate(INSPECT, selectors))
        finally:
            context.close()
            server.shutdown()
            server.server_close()

    def close(self) -> None:
        self._context.close()
        self._browser.close()
        self._playwright.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    assert Path(CHROMIUM).exists(), "chromium is missing: run `bash .ci/run`, which installs it"
    opened = Browser()
    yield opened
    opened.close()


MATHJAX = "https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-chtml.js"


def surfaces(published: Published, *, feeds: bool = True) -> list[tuple[Surface, str | None]]:
    jekyll = Surface(
        "jekyll page", published.jekyll_page.as_uri(), ".post-content",
        ["application/ld+json", "/assets/mathjax-config.js", MATHJAX],
        JEKYLL_CONTENT_TAGS, JEKYLL_CONTENT_ATTRIBUTES, structure=True,
    )  # fmt: skip
    ours = day_page(published.site_page.as_uri())
    checked: list[tuple[Surface, str | None]] = [(jekyll, None), (ours, None)]
    if not feeds:
        return checked
    for feed, page in ((published.jekyll_feed, jekyll), (published.site_feed, ours)):
        for number, content in enumerate(feed_entries(feed)):
            checked.append((feed_entry(f"{page.name.split()[0]} feed", number, page), content))
    return checked


def feed_entry(feed: str, number: int, page: Surface) -> Surface:
    """An entry of a feed whose content comes from `page`'s kind of page."""
    return Surface(
        f"{feed} entry {number}", "", "article", [], page.tags | FEED_ENTRY_TAGS,
        page.attributes | FEED_ENTRY_ATTRIBUTES, structure=False,
    )  # fmt: skip


SITE_SCRIPT = "/assets/site.js"


def day_page(url: str, scripts: tuple[str, ...] = (SITE_SCRIPT,)) -> Surface:
    return Surface(
        "site page", url, "article.day", list(scripts),
        SITE_LAYOUT_TAGS | TAGS, SITE_CONTENT_ATTRIBUTES, structure=True,
        heading="section.paper > h2", details="section.analysis", rule="section.paper",
        label="strong", labels=0, text_after=True,
    )  # fmt: skip


def site_page(name: str, url: str, scripts: tuple[str, ...] = (SITE_SCRIPT,)) -> Surface:
    """Any other page of the site: what its <main> holds; every page runs the site's own
    script, the search page its search script too."""
    if name == "search/index.html":
        scripts = (*scripts, "/assets/search.js")
    return Surface(
        name, url, "main", list(scripts), SITE_PAGE_TAGS, SITE_PAGE_ATTRIBUTES, structure=False
    )


def published_files(site_dir: Path) -> list[str]:
    """Every file `digest site` wrote that GitHub Pages publishes (hidden ones are not)."""
    return sorted(
        path.relative_to(site_dir).as_posix()
        for path in site_dir.rglob("*")
        if path.is_file()
        and not any(part.startswith(".") for part in path.relative_to(site_dir).parts)
    )


def search_records(site_dir: Path) -> list[dict[str, Any]]:
    """The search index's records: one per indexed page, as Pagefind stores them."""
    records = []
    for fragment in sorted((site_dir / BUNDLE_DIR / "fragment").glob("*.pf_fragment")):
        data = gzip.decompress(fragment.read_bytes())
        assert data.startswith(b"pagefind_dcd"), fragment
        records.append(json.loads(data[len(b"pagefind_dcd") :]))
    return records


def test_the_hostile_corpus_reaches_no_reader(browser: Browser, tmp_path: Path) -> None:
    published = publish(tmp_path)
    checked = surfaces(published)
    assert len(checked) >= 4  # two pages and at least one entry of each feed

    for surface, content in checked:
        report = browser.inspect(surface, content)
        assert violations(report, surface) == [], surface.name
        if surface.structure:
            # Nothing was dropped: what could not be allowed is there, as text.
            text = report["text"]
            for shown in ("## 伪造标题", "p(y|x)", "<script>alert(6)</script>", "深层引用",
                          "{{ site.github.owner_name }}", "javascript:alert(10)",
                          hostile.LITERAL_TITLE):  # fmt: skip
                assert shown in text, (surface.name, shown)
    # arXiv's plain text stays plain on the Jekyll page: its authors too.
    assert hostile.LITERAL_AUTHORS in browser.inspect(checked[0][0])["text"]


def test_every_file_the_site_writes_holds_only_the_allowlist(
    browser: Browser, tmp_path: Path
) -> None:
    published = publish(tmp_path)
    site_dir = published.site_dir
    assets = default_templates_dir() / "site" / "assets"
    kinds: dict[str, int] = {}
    for name in published_files(site_dir):
        path = site_dir / name
        if name.startswith(f"{BUNDLE_DIR}/"):
            kind = "search index"  # Pagefind's program and index; its records are read below
        elif name.startswith("assets/"):
            kind = "asset"  # shipped as they are, made from no record
            assert path.read_bytes() == (assets / name.removeprefix("assets/")).read_bytes()
        elif name.endswith(".html"):
            kind = "page"
            surface = (
                day_page(path.as_uri())
                if DAY_PAGE.fullmatch(name)
                else site_page(name, path.as_uri())
            )
            report = browser.inspect(surface)
            assert violations(report, surface) == [], name
            if name in SHOWS_TRIAGE:  # as written
                assert hostile.IFRAME in report["text"], name
            if name in SHOWS_LITERAL_TITLE:  # as arXiv gives it
                assert hostile.LITERAL_TITLE in report["text"], name
        elif name.endswith(".xml"):
            kind = "feed"
            page = day_page("", ()) if name == "feed.xml" else site_page(name, "", ())
            texts = []
            for number, content in enumerate(feed_entries(path)):
                entry = feed_entry(name, number, page)
                report = browser.inspect(entry, content)
                assert violations(report, entry) == [], entry.name
                texts.append(report["text"])
            if name in SHOWS_TRIAGE:
                assert any(hostile.IFRAME in text for text in texts), name
        else:
            pytest.fail(f"{name}: no check for this kind of output; add one to this test")
        kinds[kind] = kinds.get(kind, 0) + 1
    # Home, the archive (and its year), topics, three topic pages, search, 404, the day and
    # a page per paper; the feed and three topic feeds; the stylesheet and the two scripts.
    assert kinds == {
        "page": 10 + PAPERS,
        "feed": 4,
        "asset": 3,
        "search index": kinds["search index"],
    }, kinds

    # The search index's records: one per paper, site paths only, the titles as text.
    records = search_records(site_dir)
    assert len(records) == PAPERS
    assert all(re.fullmatch(r"/papers/[\w./-]+/", record["url"]) for record in records)
    titles = {record["meta"].get("title_en", record["meta"]["title"]) for record in records}
    assert hostile.LITERAL_TITLE in titles
    assert all(
        set(record["meta"]) <= {"title", "title_en", "summary", "day", "topics"}
        for record in records
    )
    # ... and the results the search page shows from them, with its script on.
    for query in ("alert", "iframe", "javascript"):
        report = browser.search(site_dir, query)
        results = Surface(f"search for {query}", "", "#search-results", [SITE_SCRIPT, "/assets/search.js"],
                          SEARCH_RESULT_TAGS, SEARCH_RESULT_ATTRIBUTES, structure=False)  # fmt: skip
        assert violations(report, results) == [], query


def test_without_sanitizing_the_same_corpus_fails_the_checks(
    browser: Browser, tmp_path: Path
) -> None:
    published = publish(tmp_path, sanitized=False)
    for surface, content in surfaces(published, feeds=False):
        assert violations(browser.inspect(surface, content), surface), surface.name
    # The control characters alone make Jekyll's feed malformed XML.
    with pytest.raises(etree.XMLSyntaxError):
        feed_entries(published.jekyll_feed)
