"""Fixtures: stand-in services on 127.0.0.1 and a site directory that points at them."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from arxiv_digest.cli import main
from tests import corpus
from tests.standins import ArxivStandIn, ModelStandIn, PdfHost, running

API_KEY = "sk-test-0123456789abcdef-SECRET"
DIGEST = Path(sys.executable).with_name("digest")
SHARED = Path(__file__).resolve().parents[2] / "shared"


def environment(extra: dict[str, str] | None = None) -> dict[str, str]:
    """What `digest` runs with in the tests: no key or proxy of the machine's, the test key."""
    found = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("OPENAI_") and "PROXY" not in key.upper()
    }
    found["OPENAI_API_KEY"] = API_KEY
    found["NO_PROXY"] = "127.0.0.1,localhost"
    found.update(extra or {})
    return found


@dataclass
class Run:
    status: int
    stdout: str
    stderr: str


@dataclass
class Site:
    """A site directory with a config.yaml that points `digest` at the stand-ins."""

    root: Path
    arxiv: ArxivStandIn
    pdfs: PdfHost
    model: ModelStandIn

    def config(self, **sections: dict[str, Any]) -> dict[str, Any]:
        config: dict[str, Any] = {
            "arxiv": {
                "api_url": f"{self.arxiv.url}/api/query",
                "oai_url": f"{self.arxiv.url}/oai",
                "rss_url": f"{self.arxiv.url}/rss",
                "pdf_url": f"{self.pdfs.url}/pdf/{{id}}",
                "html_url": f"{self.pdfs.url}/html/{{id}}",
                "delay_seconds": 0.01,
                "timeout_seconds": 5,
            },
            "llm": {
                "base_url": f"{self.model.url}/v1",
                "model": "standin-model",
                "max_retries": 1,
                "timeout_seconds": 10,
            },
            "pdf": {"timeout_seconds": 20},
            # Off unless a test turns it on: most tests count two requests a paper.
            "triage": {"enabled": False},
        }
        for section, values in sections.items():
            config.setdefault(section, {}).update(values)
        return config

    def write_config(self, **sections: dict[str, Any]) -> Path:
        path = self.root / "config.yaml"
        path.write_text(yaml.safe_dump(self.config(**sections)), encoding="utf-8")
        return path

    def digest(self, *args: str, env: dict[str, str] | None = None, timeout: float = 120) -> Run:
        """Run the installed `digest` command in the site directory, to its end."""
        process = self.start_digest(*args, env=env)
        stdout, stderr = process.communicate(timeout=timeout)
        return Run(process.returncode, stdout, stderr)

    def digest_ok(self, *args: str, env: dict[str, str] | None = None) -> Run:
        """`digest` run as `digest` does, which must succeed (a step before what is tested)."""
        run = self.digest(*args, env=env)
        assert run.status == 0, run.stderr
        return run

    def start_digest(self, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
        """Start the installed `digest` command in the site directory."""
        return subprocess.Popen(
            [str(DIGEST), *args],
            cwd=self.root,
            env=environment(env),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def cli(self, *args: str, env: dict[str, str] | None = None) -> Run:
        """The `digest` command run in this process (click's runner) in the site directory,
        with the environment the installed command gets: for what ends before any network."""
        wanted = environment(env)
        unset: dict[str, str | None] = {key: None for key in os.environ if key not in wanted}
        with contextlib.chdir(self.root):
            result = CliRunner().invoke(main, list(args), env={**unset, **wanted})
        return Run(result.exit_code, result.stdout, result.stderr)

    def post(self, day: str = corpus.DAY) -> Path:
        return self.root / "_posts" / f"{day}-arxiv.md"


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    arxiv = ArxivStandIn(list(corpus.PAPERS))
    pdfs = PdfHost(corpus.pdfs())
    model = ModelStandIn(corpus.model_answers())
    with running(arxiv, pdfs, model):
        site = Site(root=tmp_path, arxiv=arxiv, pdfs=pdfs, model=model)
        site.write_config()
        yield site
