"""Failures that name their cause, fast: a host that cannot be reached is named with why,
in seconds, and a model endpoint that never answered stops the run before it writes."""

from __future__ import annotations

import itertools
import json
import socket
import ssl
import time

import pytest

from arxiv_digest.netfault import connection_cause
from tests import corpus
from tests.conftest import Site


def closed_port() -> int:
    """A port on 127.0.0.1 where nothing listens (bound, then let go)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def chained(*links: BaseException) -> BaseException:
    """`links[0]` raised from `links[1]`, raised from …, as HTTP stacks wrap OS errors."""
    for outer, inner in itertools.pairwise(links):
        outer.__cause__ = inner
    return links[0]


@pytest.mark.parametrize(
    ("error", "cause"),
    [
        (chained(RuntimeError("Connection error."), OSError("x"), socket.gaierror(-3, "x")),
         "its host name cannot be resolved (DNS)"),
        (chained(RuntimeError("x"), ConnectionRefusedError(111, "x")), "the connection was refused"),
        (chained(RuntimeError("x"), ssl.SSLError("bad certificate")), "the TLS handshake failed"),
        (RuntimeError("HTTP 500"), None),
    ],
)  # fmt: skip
def test_the_cause_of_a_connection_failure_is_named(
    error: BaseException, cause: str | None
) -> None:
    assert connection_cause(error) == cause


def test_a_model_endpoint_that_never_answers_stops_the_run_with_nothing_written(
    site: Site,
) -> None:
    endpoint = f"http://127.0.0.1:{closed_port()}/v1"
    site.write_config(llm={"base_url": endpoint, "max_retries": 4})

    started = time.monotonic()
    run = site.digest("build", "--date", corpus.DAY)
    elapsed = time.monotonic() - started

    assert run.status == 1, run.stderr
    assert run.stderr.strip().splitlines()[-1] == (
        f"Error: the model endpoint {endpoint} cannot be reached: the connection was refused;"
        " check llm.base_url (or OPENAI_BASE_URL), the network, or a proxy"
    )
    assert elapsed < 15, elapsed
    assert not (site.root / "_records").exists() and not (site.root / "_posts").exists()


def test_without_network_every_arxiv_host_is_named_in_seconds(site: Site) -> None:
    port = closed_port()
    site.write_config(
        arxiv={
            "api_url": f"http://127.0.0.1:{port}/api/query",
            "oai_url": f"http://127.0.0.1:{port}/oai",
            "rss_url": f"http://127.0.0.1:{port}/rss",
        }
    )

    started = time.monotonic()
    run = site.digest("build", "--date", corpus.DAY)

    assert run.status == 1
    assert f"arXiv RSS: cannot reach 127.0.0.1:{port}" in run.stderr
    refused = f"cannot reach 127.0.0.1:{port}: the connection was refused; check the network, a proxy (HTTPS_PROXY)"
    assert run.stderr.strip().splitlines()[-1] == (
        f"Error: arXiv API: {refused}, or arxiv.api_url; then arXiv OAI-PMH: {refused},"
        " or arxiv.oai_url"
    )
    assert time.monotonic() - started < 10
    assert site.model.calls == []
    assert not (site.root / "_records").exists()


def test_a_base_url_that_is_not_a_url_is_refused_at_load(site: Site) -> None:
    site.write_config(llm={"base_url": "api.deepseek.com"})
    run = site.digest("build", "--date", corpus.DAY)
    assert run.status == 2
    assert "llm.base_url: must be an http(s) URL of an OpenAI-compatible API" in run.stderr


def test_a_dead_api_is_replaced_by_oai_pmh_and_the_report_says_so(site: Site) -> None:
    port = closed_port()
    site.write_config(arxiv={"api_url": f"http://127.0.0.1:{port}/api/query"})

    run = site.digest("build", "--date", corpus.DAY, "--report", "report.json")

    assert run.status == 0, run.stderr
    assert "asking arXiv OAI-PMH instead" in run.stderr
    assert f"{corpus.DAY}: 4 in window, 4 new, 4 shown, 4 complete" in run.stderr
    assert "via arXiv OAI-PMH" in run.stderr
    report = json.loads((site.root / "report.json").read_text(encoding="utf-8"))
    assert [day["source"] for day in report["days"]] == ["arXiv OAI-PMH"]
    assert site.arxiv.queries == [] and site.arxiv.oai_queries
