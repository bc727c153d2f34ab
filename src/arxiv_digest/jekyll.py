"""The Jekyll flavour of the Markdown posts, in one place: file names, permalinks, front
matter and Liquid-safe text. Whatever else knows Jekyll asks this module.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from arxiv_digest.errors import DigestError

POST_SLUG = "arxiv"
"""Posts are `_posts/{day}-arxiv.md`, so their permalink ends in `/arxiv/`."""
_POST_NAME = re.compile(r"^(\d{4}-\d\d-\d\d)-(.+)\.(?:md|markdown)$")
_FRONT_MATTER = re.compile(r"\A---\n(.*?)\n---\n", re.DOTALL)
_LIQUID_START = re.compile(r"\{[{%]")
LIQUID_BRACE = '{{ "{" }}'
"""A `{` written so that Liquid prints it: the one piece of Liquid that posts hold."""


@dataclass(frozen=True)
class PostName:
    day: date
    slug: str

    @property
    def permalink(self) -> str:
        """The page's URL path under the site, as `permalink: /:year/:month/:day/:title/`."""
        return f"/{self.day:%Y/%m/%d}/{self.slug}/"


def post_filename(day: date) -> str:
    return f"{day.isoformat()}-{POST_SLUG}.md"


def post_path(posts_dir: Path, day: date) -> Path:
    return posts_dir / post_filename(day)


def parse_post_name(filename: str) -> PostName | None:
    """The date and slug of a Jekyll post file name, None for any other file."""
    found = _POST_NAME.match(filename)
    if found is None:
        return None
    try:
        day = date.fromisoformat(found.group(1))
    except ValueError:
        return None
    return PostName(day=day, slug=found.group(2))


def split_front_matter(path: Path, text: str) -> tuple[dict[str, Any], str, int]:
    """A post's front matter, its body, and the number of lines before the body."""
    found = _FRONT_MATTER.match(text)
    if found is None:
        return {}, text, 0
    try:
        fields = yaml.safe_load(found.group(1))
    except yaml.YAMLError as error:
        raise DigestError(f"{path}: front matter is not valid YAML ({error})") from None
    return (
        fields if isinstance(fields, dict) else {},
        text[found.end() :],
        found.group(0).count("\n"),
    )


def liquid_safe(text: str) -> str:
    """`text` such that Liquid prints it as it is: where it could start a tag or an output
    (`{{`, `{%`), every `{` becomes `{{ "{" }}`. Text without them is left byte-identical."""
    if not _LIQUID_START.search(text):
        return text
    return text.replace("{", LIQUID_BRACE)


def liquid_decode(text: str) -> str:
    """The text that `liquid_safe` protected."""
    return text.replace(LIQUID_BRACE, "{")
