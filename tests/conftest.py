"""Fixtures: stand-in services on 127.0.0.1 and a site directory that points at them."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests import corpus
from tests.standins import ArxivStandIn, ModelStandIn, PdfHost, running

API_KEY = "sk-test-0123456789abcdef-SECRET"
DIGEST = Path(sys.executable).with_name("digest")
SHARED = Path(__file__).resolve().parents[2] / "shared"


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

    def start_digest(self, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
        """Start the installed `digest` command in the site directory."""
        environment = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith("OPENAI_") and "PROXY" not in key.upper()
        }
        environment["OPENAI_API_KEY"] = API_KEY
        environment["NO_PROXY"] = "127.0.0.1,localhost"
        environment.update(env or {})
        return subprocess.Popen(
            [str(DIGEST), *args],
            cwd=self.root,
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

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
