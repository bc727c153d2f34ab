"""The Jinja templates of posts, prompts and the site: the site's own first, the package's
defaults second, so a site overrides one template without copying all.
"""

from __future__ import annotations

from pathlib import Path

import jinja2

from arxiv_digest.errors import DigestError


def default_templates_dir() -> Path:
    """The package's default templates: shipped in the wheel, or the checkout's templates/."""
    packaged = Path(__file__).parent / "default_templates"
    return packaged if packaged.is_dir() else Path(__file__).parents[2] / "templates"


BYTECODE_DIR = ".digest-templates"
"""Compiled templates, beside the answer cache and in the site's output: hidden, so that
neither Jekyll nor Pages publishes them."""


def template_environment(
    site_templates_dir: Path, bytecode_dir: Path | None = None
) -> jinja2.Environment:
    """The templates, the site's first; compiled ones kept in `bytecode_dir` when given (Jinja
    checks each against its source), which saves a command's start most of its time."""
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
        # A run renders with the templates it started with: no stat of each at every use.
        auto_reload=False,
        bytecode_cache=_bytecode_cache(bytecode_dir) if bytecode_dir else None,
    )


def _bytecode_cache(directory: Path) -> jinja2.BytecodeCache | None:
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None  # a cache that cannot be made is only slower
    return jinja2.FileSystemBytecodeCache(str(directory))


def get_template(environment: jinja2.Environment, name: str) -> jinja2.Template:
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
