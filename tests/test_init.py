"""The first hour: `digest init` in an empty folder gives a site that builds and publishes."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml

from arxiv_digest.cli import main
from arxiv_digest.config import ArxivSettings, Config, WindowSettings, load_config
from arxiv_digest.init import SITE_FILES, init_site, pinned_install
from tests import corpus
from tests.conftest import DIGEST, Site, environment
from tests.test_bad_input import assert_refused
from tests.test_workflows import actionlint, zizmor


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
    # The preview step as printed names only options the command has.
    preview = init.stderr.splitlines()[-1].split("digest preview", 1)[1].split()
    assert all(option in ("--output", "--base-url", "--no-search", "--port") for option in preview)
    config = load_config(folder / "config.yaml")
    assert config.arxiv.categories == ["cs.SD", "eess.AS"] and config.window.anchor == "08:50"
    workflow = (folder / ".github/workflows/daily.yml").read_text(encoding="utf-8")
    assert "pip install my-fork-of-arxiv-digest" in workflow and "-e ." not in workflow
    assert actionlint([folder / ".github/workflows/daily.yml"]) == []
    assert zizmor([folder / ".github/workflows/daily.yml"]).returncode == 0

    # Nothing is ever overwritten.
    again = site.digest("init", "my-digest", "--install", "pip install my-fork-of-arxiv-digest")
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


# What the written config shows instead of a default, on purpose.
EXAMPLES = {
    "llm.base_url": "a provider's endpoint, as an example",
    "triage.topics": "the first of the 13 topics, as an example of the form",
}


def schema_defaults() -> dict[str, object]:
    """Every setting's default, by its dotted key (`llm.max_output_tokens.analysis`), as YAML
    reads it back."""
    return flattened(Config().model_dump(), (*EXAMPLES, ""))


def flattened(values: dict[str, Any], whole: Sequence[str], prefix: str = "") -> dict[str, Any]:
    """`values` by dotted key; a mapping under a key of `whole` stays one value."""
    found: dict[str, Any] = {}
    for key, value in values.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict) and dotted not in whole:
            found.update(flattened(value, whole, f"{dotted}."))
        else:
            found[dotted] = value.as_posix() if isinstance(value, Path) else value
    return found


def test_the_written_config_names_every_key_with_the_schemas_default(tmp_path: Path) -> None:
    init_site(tmp_path, categories=ArxivSettings().categories, timezone=WindowSettings().timezone,
              anchor=WindowSettings().anchor, install_command="pip install arxiv-digest")  # fmt: skip
    written: dict[str, object] = {}
    section = ""
    for line in (tmp_path / "config.yaml").read_text(encoding="utf-8").splitlines():
        if found := re.fullmatch(r"#? ?([a-z_]+):\s*", line):
            section = found.group(1)
        elif found := re.fullmatch(r"\s*#?\s*([a-z_]+):(?: (.*?))?(?:\s+#.*)?", line):
            key, value = found.groups()
            written.setdefault(f"{section}.{key}", yaml.safe_load(value) if value else {})
    written = flattened(written, tuple(EXAMPLES))
    defaults = schema_defaults()
    assert set(defaults) <= set(written)
    for key, default in defaults.items():
        if key not in EXAMPLES:
            assert written[key] == default, key
    # The values init is given by default are the schema's too.
    for option, key in (("--timezone", "window.timezone"), ("--anchor", "window.anchor")):
        parameter = next(p for p in main.commands["init"].params if option in p.opts)
        assert parameter.default == defaults[key], option


def test_init_for_another_field_follows_its_printed_steps(site: Site) -> None:
    """`digest init --category "Computation and Language"`: cs.CL's prompts and no audio
    topics; each step it prints, run as printed, ends in a built site."""
    folder = site.root / "nlp-digest"
    install = (
        'pip install "arxiv-digest @ git+https://github.com/someone/arxiv-digest@' + "a" * 40 + '"'
    )
    init = site.digest(
        "init", "nlp-digest", "--category", "Computation and Language", "--install", install
    )
    assert init.status == 0, init.stderr
    written = (folder / "config.yaml").read_text(encoding="utf-8")
    config = load_config(folder / "config.yaml")
    assert config.arxiv.categories == ["cs.CL"] and config.triage.topics == {}
    assert "asr" not in written and "cs.CL" in (folder / "_config.yml").read_text("utf-8")
    # No audio wording left in any file of the new site.
    for line in init.stdout.split():
        text = (site.root / line).read_text(encoding="utf-8")
        assert "音频" not in text and "语音" not in text, line

    steps = [line.split(": ", 1)[1] for line in init.stderr.splitlines() if line.startswith("  ")]
    build, preview = steps[1], steps[2]
    assert build == "cd nlp-digest && digest build" and preview.startswith("cd nlp-digest && ")
    # The build as printed, against the local stand-ins, on the night of 2026-02-13.
    raw = yaml.safe_load(written)
    for section, values in site.config().items():
        if section != "triage":
            raw.setdefault(section, {}).update(values)
    raw["triage"]["enabled"] = True
    (folder / "config.yaml").write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    night = environment({"DIGEST_NOW": "2026-02-13T02:00:00+00:00"})

    def run(command: str) -> subprocess.CompletedProcess[str]:
        # `cd X && digest …`, as a reader's shell runs it (the command from this checkout).
        where, _, rest = command.partition(" && ")
        arguments = rest.split()
        return subprocess.run(
            [str(DIGEST), *arguments[1:]], cwd=site.root / where.removeprefix("cd "),
            env=night, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip

    built = run(build)
    assert built.returncode == 0, built.stderr
    systems = [
        message["content"]
        for _, path, body in site.model.requests
        if path.endswith("/chat/completions")
        for message in json.loads(body)["messages"]
        if message["role"] == "system"
    ]
    record = json.loads((folder / "_records" / f"{corpus.DAY}.json").read_text("utf-8"))
    # The two cs.CL papers of the night: a translation, an analysis and a triage each.
    assert [shown["paper"]["arxiv_id"] for shown in record["papers"]] == [
        "2602.20005v1", "2602.20001v1",
    ]  # fmt: skip
    assert len(systems) == 6
    assert all("Computation and Language（cs.CL）" in system for system in systems)
    assert not any("音频" in system for system in systems)
    triage = json.loads(record["papers"][0]["answers"]["triage"]["text"])
    assert triage["topics"] == ["asr"]  # the model's own key, kept while the site has none
    # The preview as printed builds the site first; its build alone here (no server).
    site_built = run(preview.replace("digest preview", "digest site --no-search"))
    assert site_built.returncode == 0, site_built.stderr
    assert (folder / "_public" / "2026/02/13/arxiv/index.html").is_file()


def test_the_workflows_install_this_arxiv_digest_pinned(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without --install, a site's workflows install the arxiv-digest that made it, by its
    git URL and commit (pip's record, PEP 610); where there is none, init says to pass one."""
    import importlib.metadata

    commit = "0123456789abcdef0123456789abcdef01234567"
    record = {
        "url": "https://github.com/someone/arxiv-digest",
        "vcs_info": {"vcs": "git", "commit_id": commit},
    }

    class Installed:
        def read_text(self, name: str) -> str | None:
            return json.dumps(record) if name == "direct_url.json" else None

    monkeypatch.setattr(importlib.metadata, "distribution", lambda name: Installed())
    made = site.cli("init", "pinned")
    assert made.status == 0, made.stderr
    workflow = site.root / "pinned/.github/workflows/daily.yml"
    expected = f'pip install "arxiv-digest @ git+https://github.com/someone/arxiv-digest@{commit}"'
    assert expected in workflow.read_text(encoding="utf-8")
    assert actionlint([workflow, site.root / "pinned/.github/workflows/pages.yml"]) == []

    record = {"url": "file:///somewhere/else", "dir_info": {}}
    refused = site.cli("init", "unpinned")
    assert refused.status == 2 and "pass --install" in refused.stderr
    assert not (site.root / "unpinned").exists()


@pytest.mark.parametrize(
    ("url", "commit", "expected"),
    [
        (
            "https://github.com/a/arxiv-digest",
            "f" * 40,
            'pip install "arxiv-digest @ git+https://github.com/a/arxiv-digest@' + "f" * 40 + '"',
        ),
        ("git@github.com:a/arxiv-digest.git", "f" * 40, None),  # not a public https URL
        ("/work/arxiv-digest", "f" * 40, None),
        ("https://github.com/a/arxiv-digest", "main", None),  # a branch moves: not pinned
    ],
)
def test_only_a_public_url_at_a_commit_is_pinned(
    url: str, commit: str, expected: str | None
) -> None:
    assert pinned_install(url, commit) == expected
