"""The first hour: `digest init` in an empty folder gives a site that builds and publishes."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import yaml

from arxiv_digest.config import Config, load_config
from arxiv_digest.init import SITE_FILES
from tests import corpus
from tests.conftest import Site
from tests.test_bad_input import assert_refused
from tests.test_workflows import actionlint, zizmor

INIT_TEMPLATE = Path(__file__).resolve().parents[1] / "templates" / "init" / "config.yaml.j2"


def test_init_then_build_then_the_site_builds(site: Site) -> None:
    folder = site.root / "my-digest"
    init = site.digest("init", "my-digest", "--category", "cs.SD", "--category", "cs.Sound",
                       "--install", "pip install my-fork-of-arxiv-digest")  # fmt: skip
    assert init.status == 2  # cs.Sound is named, not coded: the message says which it means
    assert "'cs.Sound' is not an arXiv category; did you mean cs.SD?" in init.stderr

    init = site.digest("init", "my-digest", "--category", "cs.SD", "--category", "eess.AS",
                       "--timezone", "Asia/Shanghai", "--anchor", "08:50",
                       "--install", "pip install my-fork-of-arxiv-digest")  # fmt: skip

    assert init.status == 0, init.stderr
    created = {Path(line).relative_to("my-digest").as_posix() for line in init.stdout.split()}
    assert created == {"config.yaml", ".gitignore", *SITE_FILES}
    assert "export OPENAI_API_KEY" in init.stderr and "cd my-digest && digest build" in init.stderr
    config = load_config(folder / "config.yaml")
    assert config.arxiv.categories == ["cs.SD", "eess.AS"] and config.window.anchor == "08:50"
    workflow = (folder / ".github/workflows/daily.yml").read_text(encoding="utf-8")
    assert "pip install my-fork-of-arxiv-digest" in workflow and "-e ." not in workflow
    assert actionlint([folder / ".github/workflows/daily.yml"]) == []
    assert zizmor([folder / ".github/workflows/daily.yml"]).returncode == 0

    # Nothing is ever overwritten.
    again = site.digest("init", "my-digest")
    assert again.status == 0 and again.stdout == ""
    assert again.stderr.count("Left alone (it exists)") == 2 + len(SITE_FILES)

    # Build there, against the local stand-ins instead of arXiv and a provider.
    raw = yaml.safe_load((folder / "config.yaml").read_text(encoding="utf-8"))
    for section, values in site.config().items():
        raw.setdefault(section, {}).update(values)
    (folder / "config.yaml").write_text(yaml.safe_dump(raw), encoding="utf-8")
    built = site.digest("build", "--date", corpus.DAY, "--config", str(folder / "config.yaml"))
    assert built.status == 0, built.stderr
    assert (folder / "_records" / f"{corpus.DAY}.json").exists()

    # Jekyll on the folder as init left it (no file of this repository copied in).
    jekyll = subprocess.run(
        [shutil.which("jekyll") or "jekyll", "build", "--source", str(folder),
         "--destination", str(folder / "_site")],
        cwd=folder, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert jekyll.returncode == 0, jekyll.stdout + jekyll.stderr
    page = (folder / "_site/2026/02/13/arxiv/index.html").read_text(encoding="utf-8")
    assert page.count("<details>") == 4 and "arXiv 每日速递（cs.SD、eess.AS）" in page


def test_a_bad_time_zone_or_anchor_is_refused_with_nothing_written(site: Site) -> None:
    run = site.digest("init", "other", "--timezone", "Mars/Base", "--anchor", "8:50")
    text = assert_refused(run.status, run.stderr, site)
    assert "timezone: unknown time zone 'Mars/Base'" in text
    assert 'anchor: must be a time of day as "HH:MM"' in text
    assert not (site.root / "other").exists()


def test_the_written_config_names_every_key(site: Site) -> None:
    template = INIT_TEMPLATE.read_text(encoding="utf-8")
    for section, field in Config.model_fields.items():
        assert re.search(rf"^#? ?{section}:", template, re.MULTILINE), section
        annotation = field.annotation
        assert annotation is not None
        for key in annotation.model_fields:
            assert re.search(rf"^\s*#?\s*{key}:", template, re.MULTILINE), f"{section}.{key}"
