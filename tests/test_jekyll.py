"""Real Jekyll builds this repository's site from posts made of hostile input, safely."""

from __future__ import annotations

import html
import re
import shutil
import subprocess
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml

from arxiv_digest.config import CacheSettings, OutputSettings
from arxiv_digest.views.jekyll import PERMALINK, day_url
from arxiv_digest.views.postformat import ANALYSIS_CLOSING, ANALYSIS_OPENING, METADATA_LABELS
from tests import adversarial
from tests.conftest import Site

ROOT = Path(__file__).resolve().parents[1]
SITE_FILES = ["_config.yml", "index.html", "archive.html", "_includes", "assets"]
# The scripts of a post page that come from the layout: structured data, and MathJax.
LAYOUT_SCRIPTS = [
    {"type": "application/ld+json"},
    {"src": "/assets/mathjax-config.js"},
    {
        "id": "MathJax-script",
        "async": "",
        "src": "https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-chtml.js",
    },
]


class Page(HTMLParser):
    """The elements and text of one HTML page, with where the post's content is."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.headings: list[str] = []
        self.text: list[str] = []
        self._in_heading = False
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, {name: value or "" for name, value in attrs}))
        if tag == "h2":
            self._in_heading = True
            self.headings.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "h2":
            self._in_heading = False

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._in_heading:
            self.headings[-1] += data

    def count(self, tag: str) -> int:
        return sum(1 for name, _ in self.elements if name == tag)


def jekyll_build(source: Path) -> subprocess.CompletedProcess[str]:
    jekyll = shutil.which("jekyll")
    assert jekyll, "jekyll is missing: run `bash .ci/run`, which installs Debian's jekyll"
    for name in SITE_FILES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name, dirs_exist_ok=True)
        else:
            shutil.copy(ROOT / name, source / name)
    return subprocess.run(
        [jekyll, "build", "--source", str(source), "--destination", str(source / "_site")],
        cwd=source,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.fixture
def hostile_site(site: Site) -> Site:
    site.arxiv.papers = list(adversarial.PAPERS)
    site.pdfs.pdfs = {paper.arxiv_id: adversarial.pdf(paper) for paper in adversarial.PAPERS}
    site.model.answers = dict(adversarial.ANSWERS)
    run = site.digest("build", "--date", "2026-02-13")
    assert run.status == 3, run.stderr  # the third paper has no translation, on purpose
    return site


def test_hostile_posts_build_cleanly_and_run_no_script(hostile_site: Site) -> None:
    built = jekyll_build(hostile_site.root)

    assert built.returncode == 0, built.stdout + built.stderr
    assert "Liquid" not in built.stdout + built.stderr
    assert "Warning" not in built.stdout + built.stderr
    page = Page((hostile_site.root / "_site/2026/02/13/arxiv/index.html").read_text("utf-8"))

    scripts = [attrs for tag, attrs in page.elements if tag == "script"]
    assert scripts == LAYOUT_SCRIPTS  # the layout's own, and nothing else
    assert page.count("iframe") == page.count("img") == 0
    for tag, attrs in page.elements:
        assert not any(name.startswith("on") for name in attrs), (tag, attrs)
        for name in ("href", "src", "action"):
            assert not attrs.get(name, "").strip().lower().startswith("javascript:"), (tag, attrs)

    # One block per paper, in order, each with its links, and each analysis.
    # kramdown typesets quotes; the theme's footer adds the site's title as a last h2.
    assert page.headings[:-1] == [
        "Liquid {{ site.title }} and {% include nope.html %} in a Title",
        "<script>alert(“title”)</script> Speech <img src=x onerror=alert(2)>",
        "The Translation of This One Fails",
        "Prompt Injection in the PDF",
        "Benign Paper with Code: <seg> Tokens",
    ]
    assert page.count("details") == 5
    assert page.count("hr") == 5
    text = "".join(page.text)
    assert "译文含 {{ site.github }} 与 {% comment %} 未闭合的注释，{%- endraw %}。" in text
    assert "<script>alert('abstract')</script> {{ site }} </details></div>" in text
    assert "## 伪造的论文标题" in text
    assert "{% for x in (1..3) %}{{ x }}{% endfor %}" in text


def test_code_keeps_its_content(hostile_site: Site) -> None:
    built = jekyll_build(hostile_site.root)

    assert built.returncode == 0, built.stdout + built.stderr
    html = (hostile_site.root / "_site/2026/02/13/arxiv/index.html").read_text("utf-8")
    assert '<code class="language-plaintext highlighter-rouge">&lt;seg&gt;</code>' in html
    assert '<code class="language-plaintext highlighter-rouge">{{ raw }}</code>' in html
    assert '<code class="language-plaintext highlighter-rouge">&lt;/details&gt;</code>' in html
    page = Page(html)
    assert "print('<b>{{ x }}</b>')" in "".join(page.text)


def test_reference_format_posts_build_without_warnings(site: Site) -> None:
    run = site.digest("build", "--date", "2026-02-13")
    assert run.status == 0, run.stderr

    built = jekyll_build(site.root)

    assert built.returncode == 0, built.stdout + built.stderr
    assert "Warning" not in built.stdout + built.stderr
    page = Page((site.root / "_site/2026/02/13/arxiv/index.html").read_text("utf-8"))
    assert len(page.headings) == 4 + 1 and page.count("details") == 4
    feed = (site.root / "_site/feed.xml").read_text("utf-8")
    assert "arXiv Daily – 2026-02-13" in feed


def test_the_site_lists_posts_serves_a_feed_and_keeps_formulas(site: Site) -> None:
    formula = r"l_k = \sum_{i \in P} a_i t_{k,i} - \sum_{i \in N} \bar{a}_i t_{k,i}"
    site.model.answers[("2602.20002v1", "analysis")] = (
        f"1)  \n- 定义：\\( {formula} \\)，其中 \\( P \\) 为正类。\n\n"
        "2)  \n- 方法：\\[ x_{spo} = \\frac{x - \\mu}{\\sigma} \\]\n\n3)  \n- 效果良好，在三个公开数据集上均有明显提升，全部代码已经公开，见 https://github.com/example/spo_score。"
    )
    assert site.digest("build", "--date", "2026-02-13").status == 0
    assert site.digest("build", "--date", "2026-02-14").status == 0
    for clutter in ("src/arxiv_digest/cli.py", "tests/test_x.py", "benchmarks/run.py"):
        (site.root / clutter).parent.mkdir(parents=True, exist_ok=True)
        (site.root / clutter).write_text("# not for the site\n", encoding="utf-8")

    built = jekyll_build(site.root)

    assert built.returncode == 0, built.stdout + built.stderr
    assert "Warning" not in built.stdout + built.stderr
    out = site.root / "_site"
    published = {path.relative_to(out).parts[0] for path in out.rglob("*")}
    assert not published & {"src", "tests", "benchmarks", "config.yaml", ".digest-cache.sqlite3"}
    home = (out / "index.html").read_text("utf-8")
    assert home.index("2026-02-14") < home.index("2026-02-13")  # newest first
    assert "1 篇论文" in home and "4 篇论文" in home
    feed = (out / "feed.xml").read_text("utf-8")
    assert feed.count("<entry>") == 2
    post = (out / "2026/02/14/arxiv/index.html").read_text("utf-8")
    assert "\\(" + html.escape(formula, quote=False) + "\\)" in post
    assert "\\(P\\)" in post and "x_{spo} = \\frac{x - \\mu}{\\sigma}" in post
    assert "<em>" not in post.split("<details>")[1]  # no formula turned into emphasis
    # A bare address is a link (an autolink in the post), the sentence's end outside it.
    assert (
        '<a href="https://github.com/example/spo_score">https://github.com/example/spo_score</a>。'
        in post
    )
    assert "<table" not in post  # the header line is text
    archive = (out / "archive/index.html").read_text("utf-8")
    assert '<section id="2026-02">' in archive
    assert archive.index("/2026/02/14/arxiv/") < archive.index("/2026/02/13/arxiv/")


def test_jekyll_publishes_none_of_the_tools_own_folders() -> None:
    """`_config.yml` leaves out what the configuration's defaults put in the repository (the
    records, the reader's site, the templates, the cache and its journal)."""
    exclude = set(yaml.safe_load((ROOT / "_config.yml").read_text("utf-8"))["exclude"])
    output, cache = OutputSettings(), CacheSettings()
    for folder in (output.records_dir, output.site_dir, output.templates_dir):
        assert f"{folder.as_posix()}/" in exclude, folder
    for suffix in ("", "-wal", "-shm"):
        assert f"{cache.path.as_posix()}{suffix}" in exclude, suffix


def test_the_permalink_has_one_owner() -> None:
    """`_config.yml` gives Jekyll the permalink that `digest site` keeps for a day's page."""
    config = yaml.safe_load((ROOT / "_config.yml").read_text("utf-8"))
    assert config["permalink"] == PERMALINK
    assert day_url(date(2026, 2, 13)) == "/2026/02/13/arxiv/"


def test_the_post_template_writes_the_formats_fixed_pieces() -> None:
    """What the importer reads back and the sanitizer guards (postformat.py) is what the
    default template writes: each label once a paper, the block around each analysis."""
    post = (Path(__file__).parent / "golden" / "2026-02-13-arxiv.md").read_text("utf-8")
    papers = post.count("\n## ")
    assert papers == 4
    for label in METADATA_LABELS:
        assert len(re.findall(rf"^- \*\*{label}\*\*: ", post, re.MULTILINE)) == papers, label
    assert post.count("\n".join(ANALYSIS_OPENING)) == post.count("\n".join(ANALYSIS_CLOSING)) == 4
