"""`digest init`: a new digest site in a folder, ready to build, preview and publish.

It writes `config.yaml` (every key there, commented, with the chosen categories, time
zone and anchor), the Jekyll site's files and the nightly workflow — the same files this
repository's own site uses, shipped with the package — and a `.gitignore`. A file that
exists already is left alone and named.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml
from pydantic import BaseModel, ValidationError

from arxiv_digest import taxonomy
from arxiv_digest.config import (
    ArxivSettings,
    CacheSettings,
    Config,
    OutputSettings,
    WindowSettings,
    describe,
)
from arxiv_digest.errors import BadInputError, ConfigError
from arxiv_digest.templating import BYTECODE_DIR, template_environment
from arxiv_digest.write import check_writable, write_atomically

SITE_FILES = (
    "_config.yml",
    "index.html",
    "_includes/head.html",
    "assets/mathjax-config.js",
    "archive.html",
    ".github/workflows/daily.yml",
    ".github/workflows/pages.yml",
)
"""The site's files, copied as this repository has them (the workflow's install step aside)."""
_INSTALL_STEP = "pip install --require-hashes -r requirements.lock && pip install --no-deps -e ."
_ALWAYS_IGNORED = """\
# Jekyll's output, the virtual environment, the run report
_site/
.jekyll-cache/
.venv/
report.json
"""


def _gitignore() -> str:
    """What a site's git leaves out: the answer cache and its compiled templates, and what
    is built, where the configuration's defaults put them."""
    cache = CacheSettings().path.as_posix()
    return (
        "# The answer cache (cache.path): it only saves time; the records are the truth.\n"
        f"{cache}*\n"
        "# Compiled templates, kept beside the cache to start a rerun faster\n"
        f"{BYTECODE_DIR}/\n"
        "# What `digest site` writes\n"
        f"{OutputSettings().site_dir.as_posix()}/\n" + _ALWAYS_IGNORED
    )


@dataclass
class InitResult:
    created: list[Path] = field(default_factory=list)
    kept: list[Path] = field(default_factory=list)
    """Files that existed already and were left as they were."""


def site_files_dir() -> Path:
    """The site files: shipped in the wheel, or this checkout's own."""
    packaged = Path(__file__).parent / "site"
    return packaged if packaged.is_dir() else Path(__file__).parents[2]


def init_site(
    directory: Path,
    *,
    categories: list[str],
    timezone: str,
    anchor: str,
    install_command: str,
) -> InitResult:
    """Write a new site into `directory` (created if need be); never overwrite a file."""
    try:
        # Categories may be given by their arXiv names: the configuration gets their codes.
        categories = ArxivSettings(categories=categories).categories
        WindowSettings(timezone=timezone, anchor=anchor)
    except ValidationError as error:
        raise ConfigError("digest init", describe(error)) from None
    check_writable(directory, "the folder given to digest init")
    config = (
        template_environment(directory / "templates")
        .get_template("init/config.yaml.j2")
        .render(
            categories=categories,
            timezone=timezone,
            anchor=anchor,
            default=_default_line,
            # Another field than audio and speech gets no audio topics: its own, or none yet.
            audio=set(categories) <= taxonomy.AUDIO,
        )
    )
    files = {"config.yaml": config, ".gitignore": _gitignore()}
    source = site_files_dir()
    for name in SITE_FILES:
        text = (source / name).read_text(encoding="utf-8")
        if name == "_config.yml":
            text = _site_title(text, categories)
        elif name.startswith(".github/workflows/"):
            if _INSTALL_STEP not in text:
                raise BadInputError(f"{name}: its install step is not `{_INSTALL_STEP}`")
            text = text.replace(_INSTALL_STEP, install_command).replace(
                "Install from the lock file (every hash checked)", "Install arxiv-digest"
            )
        files[name] = text
    result = InitResult()
    for name, text in files.items():
        path = directory / name
        if path.exists():
            result.kept.append(path)
        else:
            write_atomically(path, text)
            result.created.append(path)
    return result


def _default_line(section: str, key: str, comment: str = "") -> str:
    """A setting's line as `config.yaml` comments it out: its default, from the schema, and
    what it does."""
    value = getattr(getattr(Config(), section), key)
    if isinstance(value, Path):
        value = value.as_posix()
    elif isinstance(value, BaseModel):
        value = value.model_dump()
    written = yaml.safe_dump(
        value,
        default_flow_style=True,
        allow_unicode=True,
        sort_keys=False,
    )
    line = f"{key}: {written.removesuffix(chr(10)).removesuffix('...').strip()}"
    return f"{line:<30} # {comment}" if comment else line


def _site_title(config: str, categories: list[str]) -> str:
    """This repository's `_config.yml`, titled for the new site's categories."""
    lines = []
    for line in config.splitlines(keepends=True):
        if line.startswith("title:"):
            line = f"title: arXiv 每日速递（{'、'.join(categories)}）\n"
        elif line.startswith("description:"):
            line = f"description: {' 与 '.join(categories)} 每日新论文的中文译文与详细解读\n"
        lines.append(line)
    return "".join(lines)
