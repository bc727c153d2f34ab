"""`digest init`: a new digest site in a folder, ready to build, preview and publish.

It writes `config.yaml` (every key there, commented, with the chosen categories, time
zone and anchor), the Jekyll site's files and the nightly workflow — the same files this
repository's own site uses, shipped with the package — and a `.gitignore`. A file that
exists already is left alone and named.
"""

from __future__ import annotations

import re
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
    install_command: str | None,
) -> InitResult:
    """Write a new site into `directory` (created if need be); never overwrite a file. The
    workflows install arxiv-digest with `install_command`, or else pinned as it is installed
    now (`default_install_command`)."""
    try:
        # Categories may be given by their arXiv names: the configuration gets their codes.
        categories = ArxivSettings(categories=categories).categories
        WindowSettings(timezone=timezone, anchor=anchor)
    except ValidationError as error:
        raise ConfigError("digest init", describe(error)) from None
    install_command = install_command or default_install_command()
    if install_command is None:
        raise BadInputError(
            "digest init: this arxiv-digest was not installed from a public git URL, so the"
            " site's workflows cannot install it pinned; pass --install, e.g. --install"
            " 'pip install \"arxiv-digest @ git+https://github.com/OWNER/arxiv-digest@COMMIT\"'"
        )
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


def default_install_command() -> str | None:
    """How a site repository's workflows install the arxiv-digest running now, pinned: the
    git URL and commit it was installed from (pip's record of it, PEP 610), or those of the
    checkout it runs from (its origin and HEAD); None when neither is a public git URL."""
    import importlib.metadata
    import json
    import shutil
    import subprocess

    try:
        found = importlib.metadata.distribution("arxiv-digest").read_text("direct_url.json")
        direct = json.loads(found) if found else {}
    except (importlib.metadata.PackageNotFoundError, ValueError):
        direct = {}
    vcs = direct.get("vcs_info", {})
    url, commit = direct.get("url", ""), vcs.get("commit_id", "")
    executable = shutil.which("git")
    if not vcs and url.startswith("file://") and executable:
        checkout = url.removeprefix("file://")

        def git(*arguments: str) -> str:
            done = subprocess.run(
                [executable, "-C", checkout, *arguments],
                capture_output=True, text=True, check=False,
            )  # fmt: skip
            return done.stdout.strip() if done.returncode == 0 else ""

        url, commit = git("remote", "get-url", "origin"), git("rev-parse", "HEAD")
    return pinned_install(url, commit)


def pinned_install(url: str, commit: str) -> str | None:
    """`pip install` of arxiv-digest at `commit` of the git repository at `url`, if it is a
    public https URL and a full commit; else None."""
    if not url.startswith("https://") or not re.fullmatch(r"[0-9a-f]{40}", commit):
        return None
    return f'pip install "arxiv-digest @ git+{url.removeprefix("git+")}@{commit}"'


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
