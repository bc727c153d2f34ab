"""Failures that name their cause, fast: a host that cannot be reached is named with why,
in seconds, and a model endpoint that never answered stops the run before it writes."""

from __future__ import annotations

import itertools
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


def test_an_arxiv_host_that_cannot_be_reached_is_named_in_seconds(site: Site) -> None:
    port = closed_port()
    site.write_config(arxiv={"api_url": f"http://127.0.0.1:{port}/api/query"})

    started = time.monotonic()
    run = site.digest("build", "--date", corpus.DAY)

    assert run.status == 1
    assert run.stderr.strip().splitlines()[-1] == (
        f"Error: arXiv API: cannot reach 127.0.0.1:{port}: the connection was refused; check the"
        " network, a proxy (HTTPS_PROXY), or arxiv.api_url"
    )
    assert time.monotonic() - started < 10
    assert site.model.calls == []


def test_a_base_url_that_is_not_a_url_is_refused_at_load(site: Site) -> None:
    site.write_config(llm={"base_url": "api.deepseek.com"})
    run = site.digest("build", "--date", corpus.DAY)
    assert run.status == 2
    assert "llm.base_url: must be an http(s) URL of an OpenAI-compatible API" in run.stderr
