"""The hostile corpus (tests/hostile.py) published both ways — real Jekyll (kramdown) and
our own site (`digest site`) — and every page and feed read by headless Chromium
with script and network blocked: no script but the layout's, no event handler, no URL
but http(s), mailto or the site's own, no image, no element off the allowlist, one
heading and one rule per paper, one details block per analysis, nothing after the last
paper. The same corpus rendered without sanitizing must fail these checks.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from arxiv_digest import render
from arxiv_digest.safe_html import ATTRIBUTES, TAGS
from arxiv_digest.website import build_site, site_settings
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
SITE_LAYOUT_TAGS = {"article", "header", "h1", "h2", "time", "p", "details", "summary", "ol",
                    "li", "a", "span", "section", "dl", "dt", "dd", "div", "ul"}  # fmt: skip
SITE_LAYOUT_ATTRIBUTES = {
    "article@class", "article@data-pagefind-body", "h1@data-pagefind-meta", "time@datetime",
    "p@class", "p@data-pagefind-ignore", "details@class", "details@open", "dt@data-pagefind-ignore",
    "span@data-pagefind-ignore",
    "details@data-pagefind-ignore", "a@href", "a@rel", "a@lang", "a@class", "span@lang",
    "section@class", "section@data-pagefind-ignore", "h2@id", "h2@lang", "dl@class", "dd@lang",
    "div@class", "div@lang", "ol@start", "span@class",
}  # fmt: skip
SITE_CONTENT_ATTRIBUTES = SITE_LAYOUT_ATTRIBUTES | {
    f"{tag}@{name}" for tag, names in ATTRIBUTES.items() for name in names
}
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


def publish(root: Path, *, sanitized: bool = True) -> Published:
    # In a thread of its own: Playwright's sync API keeps an event loop on this one.
    with ThreadPoolExecutor(max_workers=1) as thread:
        return thread.submit(_publish, root, sanitized).result()


def _publish(root: Path, sanitized: bool) -> Published:
    bench = Bench.of(root, hostile.PAPERS)
    bench.model.answers = hostile.answers()
    bench.configure(llm={"max_attempts": 1, "require_chinese": False})
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
    else:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr("arxiv_digest.website.sanitize.block", lambda text: text)
            patch.setattr("arxiv_digest.website.sanitize.inline", lambda text: text)
            build_site(config.output.records_dir, root / "_public", site_settings(config, root))
    return Published(
        jekyll_page=root / "_site/2026/02/13/arxiv/index.html",
        jekyll_feed=root / "_site/feed.xml",
        site_page=root / "_public/2026/02/13/arxiv/index.html",
        site_feed=root / "_public/feed.xml",
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
    ours = Surface(
        "site page", published.site_page.as_uri(), "article.day", [],
        SITE_LAYOUT_TAGS | TAGS, SITE_CONTENT_ATTRIBUTES, structure=True,
        heading="section.paper > h2", details="details.analysis", rule="section.paper",
        label="strong", labels=0, text_after=True,
    )  # fmt: skip
    checked: list[tuple[Surface, str | None]] = [(jekyll, None), (ours, None)]
    if not feeds:
        return checked
    for feed, page in ((published.jekyll_feed, jekyll), (published.site_feed, ours)):
        for number, content in enumerate(feed_entries(feed)):
            entry = Surface(
                f"{page.name.split()[0]} feed entry {number}", "", "article", [],
                page.tags | {"article", "header", "h1", "time", "p", "nav", "strong", "ol"},
                page.attributes | {"article@class", "time@datetime", "a@rel", "h2@id",
                                   "div@class", "nav@class", "nav@aria-label", "p@class",
                                   "span@class"},
                structure=False,
            )  # fmt: skip
            checked.append((entry, content))
    return checked


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
                          "{{ site.github.owner_name }}", "javascript:alert(10)"):  # fmt: skip
                assert shown in text, (surface.name, shown)


def test_without_sanitizing_the_same_corpus_fails_the_checks(
    browser: Browser, tmp_path: Path
) -> None:
    published = publish(tmp_path, sanitized=False)
    for surface, content in surfaces(published, feeds=False):
        assert violations(browser.inspect(surface, content), surface), surface.name
    # The control characters alone make Jekyll's feed malformed XML.
    with pytest.raises(etree.XMLSyntaxError):
        feed_entries(published.jekyll_feed)
