"""The Jekyll flavour of the Markdown posts, in one place: file names, permalinks, front
matter and Liquid-safe text. Whatever else knows Jekyll asks this module.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from arxiv_digest.errors import BadInputError, ConfigError, DigestError

PERMALINK = "/:year/:month/:day/:title/"
"""The posts' permalink, as `_config.yml` sets it for Jekyll; `digest site` keeps it."""
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
        """The page's URL path under the site, as `PERMALINK` makes it."""
        return (
            PERMALINK.replace(":year", f"{self.day:%Y}")
            .replace(":month", f"{self.day:%m}")
            .replace(":day", f"{self.day:%d}")
            .replace(":title", self.slug)
        )


def day_url(day: date) -> str:
    """A day's page under the site: its post's permalink, which `digest site` keeps."""
    return PostName(day, POST_SLUG).permalink


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


DEFAULT_TITLE = "arXiv 每日论文速递"


@dataclass(frozen=True)
class SiteIdentity:
    """What both renderers of the site (Jekyll's and `digest site`) call the site, read from
    the site's `_config.yml`: one place for Jekyll and for us."""

    title: str = DEFAULT_TITLE
    description: str = ""
    author: str = ""
    url: str = ""
    """The site's origin, e.g. ``https://someone.github.io`` (for feeds); may be empty."""
    base_path: str = ""
    """Where the site lives under its origin, e.g. ``/my-digest`` (project pages), or empty."""

    @property
    def absolute_base(self) -> str:
        return self.url + self.base_path


def read_site_identity(path: Path) -> SiteIdentity:
    """The identity `path` (a `_config.yml`) gives; the defaults when there is no such file."""
    try:
        fields = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return SiteIdentity()
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise ConfigError(str(path), [f"cannot be read: {error}"]) from None
    if fields is None:
        return SiteIdentity()
    if not isinstance(fields, dict):
        raise ConfigError(str(path), ["the top level must be a mapping (title:, baseurl:, ...)"])
    problems: list[str] = []

    def text(key: str, default: str = "") -> str:
        value = fields.get(key, default)
        if key == "author" and isinstance(value, dict):
            value = value.get("name", "")  # minima's form: `author: {name: …, email: …}`
        if value is None:
            return default
        if not isinstance(value, str | int | float):
            problems.append(f"{key}: must be text")
            return default
        return str(value).strip()

    url = text("url").rstrip("/")
    base_path = text("baseurl").rstrip("/")
    problems += _location_problems(url, base_path)
    identity = SiteIdentity(
        title=text("title", DEFAULT_TITLE) or DEFAULT_TITLE,
        description=text("description"),
        author=text("author"),
        url=url,
        base_path=base_path,
    )
    if problems:
        raise ConfigError(str(path), problems)
    return identity


def at_base_url(identity: SiteIdentity, base_url: str) -> SiteIdentity:
    """`identity` served at `base_url` (e.g. ``https://someone.github.io/my-digest/``)."""
    parts = urlsplit(base_url.strip())
    url = f"{parts.scheme}://{parts.netloc}" if parts.netloc else ""
    base_path = parts.path.rstrip("/")
    problems = _location_problems(url, base_path)
    if not url or problems or parts.query or parts.fragment:
        raise BadInputError(
            f"--base-url {base_url!r}: give the site's address, e.g. https://someone.github.io/my-digest/"
        )
    return replace(identity, url=url, base_path=base_path)


def _location_problems(url: str, base_path: str) -> list[str]:
    problems = []
    if url and (urlsplit(url).scheme not in ("http", "https") or urlsplit(url).path):
        problems.append(f"url: {url!r} is not an origin such as https://someone.github.io")
    if base_path and (not base_path.startswith("/") or any(c in base_path for c in ' "<>#?\\')):
        problems.append(f"baseurl: {base_path!r} is not a path such as /my-digest")
    return problems
