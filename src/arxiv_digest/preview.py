"""`digest preview`: the posts as a static HTML site, without Ruby or Jekyll.

The posts' Markdown becomes sanitized HTML (safe_html.py: pulldown-cmark, formulas
as MathML, then nh3), and the Jinja templates in `templates/preview/` make a home
page, one page per post at Jekyll's URL, an archive by month and an Atom feed. The
pages carry a Content-Security-Policy that allows no script at all.

Rebuilds are incremental: a manifest in the output remembers each post's
source hash and what the index pages need of it, so an unchanged post is
neither read as Markdown nor written again.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import date
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jinja2

from arxiv_digest import __version__, jekyll
from arxiv_digest.errors import BadInputError, DigestError
from arxiv_digest.render import template_environment
from arxiv_digest.safe_html import markdown_to_html
from arxiv_digest.write import write_atomically

MANIFEST = ".digest-preview.json"
_PAPER_HEADING = re.compile(r"^## ", re.MULTILINE)
_TEMPLATES = ("base.html.j2", "home.html.j2", "post.html.j2", "archive.html.j2", "feed.xml.j2")


@dataclass(frozen=True)
class PostSummary:
    """What the home page, the archive and the feed need of a post."""

    source: str
    """The post's file name in the posts directory."""
    sha256: str
    day: str
    title: str
    url: str
    papers: int


@dataclass
class PreviewResult:
    posts: int
    rendered: int
    """Post pages rendered this time (the others were unchanged)."""
    removed: int


def build_preview(posts_dir: Path, output_dir: Path, templates_dir: Path) -> PreviewResult:
    """Render the posts in `posts_dir` into a static site in `output_dir`."""
    templates = template_environment(templates_dir)
    fingerprint = _templates_fingerprint(templates)
    manifest_path = output_dir / MANIFEST
    previous = _read_manifest(manifest_path, fingerprint)
    summaries: list[PostSummary] = []
    rendered = 0
    for path in _post_files(posts_dir):
        source = path.read_bytes()
        sha256 = hashlib.sha256(source).hexdigest()
        known = previous.get(path.name)
        if known is not None and known.sha256 == sha256:
            summaries.append(known)
            continue
        summary, page = _render_post(path, source.decode("utf-8"), sha256, templates)
        write_atomically(output_dir / summary.url.strip("/") / "index.html", page)
        summaries.append(summary)
        rendered += 1
    summaries.sort(key=lambda summary: (summary.day, summary.source), reverse=True)
    current = {summary.source for summary in summaries}
    removed = [summary for name, summary in previous.items() if name not in current]
    for summary in removed:
        (output_dir / summary.url.strip("/") / "index.html").unlink(missing_ok=True)
    _write_indexes(summaries, output_dir, templates)
    manifest = {
        "fingerprint": fingerprint,
        "posts": [asdict(summary) for summary in summaries],
    }
    write_atomically(manifest_path, json.dumps(manifest, ensure_ascii=False, indent=1) + "\n")
    return PreviewResult(posts=len(summaries), rendered=rendered, removed=len(removed))


def _post_files(posts_dir: Path) -> Iterator[Path]:
    if not posts_dir.is_dir():
        raise DigestError(f"{posts_dir}: no posts directory; run `digest build` first")
    for path in sorted(posts_dir.iterdir()):
        if path.is_file() and jekyll.parse_post_name(path.name):
            yield path


def _render_post(
    path: Path, text: str, sha256: str, templates: jinja2.Environment
) -> tuple[PostSummary, str]:
    name = jekyll.parse_post_name(path.name)
    assert name is not None  # _post_files only yields matching names
    fields, body, _ = jekyll.split_front_matter(path, text)
    summary = PostSummary(
        source=path.name,
        sha256=sha256,
        day=name.day.isoformat(),
        title=str(fields.get("title", path.stem)),
        url=name.permalink,
        papers=len(_PAPER_HEADING.findall(body)),
    )
    content, toc = markdown_to_html(jekyll.liquid_decode(body))
    page = templates.get_template("preview/post.html.j2").render(
        post=summary, content=content, toc=toc, tags=fields.get("tags", []), version=__version__
    )
    return summary, page


def _write_indexes(
    summaries: list[PostSummary], output_dir: Path, templates: jinja2.Environment
) -> None:
    months: dict[str, list[PostSummary]] = {}
    for summary in summaries:
        months.setdefault(summary.day[:7], []).append(summary)
    pages = {
        "index.html": templates.get_template("preview/home.html.j2").render(
            posts=summaries, version=__version__
        ),
        "archive/index.html": templates.get_template("preview/archive.html.j2").render(
            months=months, version=__version__
        ),
        "feed.xml": templates.get_template("preview/feed.xml.j2").render(
            posts=summaries[:20],
            contents=[_feed_content(output_dir, summary) for summary in summaries[:20]],
            updated=summaries[0].day if summaries else date(1991, 8, 14).isoformat(),
            version=__version__,
        ),
    }
    for name, text in pages.items():
        write_atomically(output_dir / name, text)


def _feed_content(output_dir: Path, summary: PostSummary) -> str:
    """A post's article HTML, taken from its rendered page."""
    page = (output_dir / summary.url.strip("/") / "index.html").read_text(encoding="utf-8")
    start, end = page.find("<article"), page.rfind("</article>")
    return page[start : end + len("</article>")] if start >= 0 else ""


def _templates_fingerprint(templates: jinja2.Environment) -> str:
    # The renderer's own code counts too: a change to it re-renders every page.
    digest = hashlib.sha256(__version__.encode() + Path(__file__).read_bytes())
    for name in _TEMPLATES:
        source, _, _ = templates.loader.get_source(templates, f"preview/{name}")  # type: ignore[union-attr]
        digest.update(source.encode("utf-8"))
    return digest.hexdigest()


def _read_manifest(path: Path, fingerprint: str) -> dict[str, PostSummary]:
    """The posts rendered last time, or nothing when the templates or the tool changed."""
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        if manifest["fingerprint"] != fingerprint:
            return {}
        summaries = [PostSummary(**post) for post in manifest["posts"]]
    except (OSError, ValueError, KeyError, TypeError):
        return {}
    return {summary.source: summary for summary in summaries}


def serve_directory(directory: Path, port: int, say: Callable[[str], None]) -> None:
    """Serve `directory` on 127.0.0.1 until interrupted (port 0: any free port)."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    try:
        server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    except OSError as error:
        raise BadInputError(f"--port {port}: cannot listen there ({error.strerror})") from None
    say(f"Serving {directory} at http://127.0.0.1:{server.server_address[1]}/ (Ctrl-C stops)")
    with server:
        server.serve_forever()


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass
