"""Render stage: posts and prompts from Jinja templates. No I/O beyond loading templates.

Templates are looked up in the site's own templates directory first and in the
package's defaults second, so a site overrides one template without copying all.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TypedDict

import jinja2

from arxiv_digest import sanitize
from arxiv_digest.errors import DigestError
from arxiv_digest.jekyll import liquid_safe
from arxiv_digest.models import Paper
from arxiv_digest.record import DayRecord, ShownPaper
from arxiv_digest.tasks import ANALYSIS, TRANSLATION

POST_TEMPLATE = "post.md.j2"
ABS_URL = "https://arxiv.org/abs/{id}"
PDF_URL = "https://arxiv.org/pdf/{id}"


def default_templates_dir() -> Path:
    """The package's default templates: shipped in the wheel, or the checkout's templates/."""
    packaged = Path(__file__).parent / "default_templates"
    return packaged if packaged.is_dir() else Path(__file__).parents[2] / "templates"


def template_environment(site_templates_dir: Path) -> jinja2.Environment:
    loader = jinja2.ChoiceLoader(
        [
            jinja2.FileSystemLoader(site_templates_dir),
            jinja2.FileSystemLoader(default_templates_dir()),
        ]
    )
    # Autoescape HTML templates only: Markdown is not HTML.
    # StrictUndefined: a misspelt name fails the build instead of printing nothing.
    return jinja2.Environment(
        loader=loader,
        autoescape=jinja2.select_autoescape(
            enabled_extensions=("html", "html.j2", "xml", "xml.j2"), default=False
        ),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )


class EntryContext(TypedDict):
    """One paper, its untrusted text made safe to publish (see sanitize)."""

    arxiv_id: str
    title: str
    authors: list[str]
    categories: list[str]
    abs_url: str
    pdf_url: str
    body: str
    """The translation, or the original abstract where there is none."""
    analysis: str | None


class PostContext(TypedDict):
    date: str
    categories: list[str]
    timezone: str
    zone_abbreviation: str
    anchor: str
    window_start: str
    window_end: str
    fetched_count: int
    shown_count: int
    entries: list[EntryContext]


def post_context(record: DayRecord, categories: list[str]) -> PostContext:
    """What the post template sees of a day: its record, the untrusted text made safe."""
    window = record.zoned_window()
    return PostContext(
        date=record.day.isoformat(),
        categories=categories,
        timezone=record.window.timezone,
        zone_abbreviation=window.end.strftime("%Z"),
        anchor=window.end.strftime("%H:%M"),
        window_start=window.start.strftime("%Y-%m-%d %H:%M"),
        window_end=window.end.strftime("%Y-%m-%d %H:%M"),
        fetched_count=record.in_window,
        shown_count=len(record.papers),
        entries=[_entry_context(shown) for shown in record.papers],
    )


def _entry_context(shown: ShownPaper) -> EntryContext:
    paper = shown.paper
    translation = shown.answers.get(TRANSLATION.name)
    analysis = shown.answers.get(ANALYSIS.name)
    return EntryContext(
        arxiv_id=paper.arxiv_id,
        title=_inline(paper.title),
        authors=[_inline(author) for author in paper.authors],
        categories=[_inline(category) for category in paper.categories],
        abs_url=ABS_URL.format(id=paper.arxiv_id),
        pdf_url=PDF_URL.format(id=paper.arxiv_id),
        body=_block(translation.text if translation else paper.abstract or ""),
        analysis=None if analysis is None else _block(analysis.text),
    )


# Untrusted text in a Jekyll post: the allowlisted Markdown, then safe from Liquid.
def _inline(text: str) -> str:
    return liquid_safe(sanitize.inline(text))


def _block(text: str) -> str:
    return liquid_safe(sanitize.block(text))


def render_post(environment: jinja2.Environment, context: PostContext) -> str:
    return _render(environment, POST_TEMPLATE, dict(context))


class Prompt(TypedDict):
    system: str
    user: str


def render_prompt(
    environment: jinja2.Environment, name: str, paper: Paper, text: str | None = None
) -> Prompt:
    """The two messages of a model request, from the prompt template `name`."""
    template = _template(environment, name)
    missing = [block for block in ("system", "user") if block not in template.blocks]
    if missing:
        raise DigestError(f"template {name}: add the missing {{% block {missing[0]} %}}")
    values = {"paper": paper, "text": text}
    try:
        parts = {
            block: "".join(template.blocks[block](template.new_context(values))).strip()
            for block in ("system", "user")
        }
    except jinja2.TemplateError as error:
        raise DigestError(f"template {name}: {error}") from None
    return Prompt(system=parts["system"], user=parts["user"])


def prompt_sha256(prompt: Prompt, model: str) -> str:
    payload = json.dumps([model, prompt["system"], prompt["user"]], ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _template(environment: jinja2.Environment, name: str) -> jinja2.Template:
    try:
        return environment.get_template(name)
    except jinja2.TemplateNotFound:
        raise DigestError(
            f"template {name} not found in the site's or the package's templates"
        ) from None
    except jinja2.TemplateSyntaxError as error:
        raise DigestError(
            f"template {error.filename or name}:{error.lineno}: {error.message}"
        ) from None


def _render(environment: jinja2.Environment, name: str, values: dict[str, object]) -> str:
    template = _template(environment, name)
    try:
        return template.render(values)
    except jinja2.TemplateError as error:
        raise DigestError(f"template {name}: {error}") from None
