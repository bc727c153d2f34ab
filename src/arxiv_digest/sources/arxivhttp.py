"""Requests to arXiv's services, and what their failures mean.

Every arXiv service a run uses (the API, OAI-PMH, RSS) fails the same few ways, and
each is met the same way here: a timeout on every request; a retryable status or a
timeout waited out within the service's budget (`Patience`), with the server's
`Retry-After` when it names one; a host that cannot be reached at all (DNS, refused,
TLS, proxy) tried twice more, a second apart, then named with its cause and the
setting to check, so that a night without network ends in seconds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import requests

import arxiv_digest
from arxiv_digest.errors import FetchError
from arxiv_digest.netfault import connection_cause, host_of
from arxiv_digest.sources.patience import Patience, retry_after_seconds

RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})
UNREACHABLE_RETRIES = 2
"""How many more times a host that cannot be reached at all is tried, a second apart."""


def status_problem(status: int) -> str:
    """A retryable status in words, for the progress line."""
    return "rate-limiting (HTTP 429)" if status == 429 else f"HTTP {status}"


@dataclass
class Attempts:
    """What one service's failures have cost so far in a run, and what the next one costs."""

    patience: Patience
    url_setting: str
    """The setting that names the service's address, e.g. ``arxiv.api_url``."""
    url: str
    unreachable: int = 0

    def retry_after(self, problem: str, retry_after_seconds: float | None = None) -> None:
        """A failure that waiting may mend: wait within the budget (or raise when it is spent)."""
        self.patience.wait(problem, retry_after_seconds=retry_after_seconds)

    def connection_failed(self, error: BaseException) -> None:
        """A request that got no answer: retried briefly when the host cannot be reached,
        else waited out like a server error."""
        cause = connection_cause(error)
        if cause is None:
            self.retry_after(f"connection failed ({type(error).__name__})")
            return
        self.unreachable += 1
        if self.unreachable > UNREACHABLE_RETRIES:
            raise FetchError(
                f"cannot reach {host_of(self.url)}: {cause}; check the network,"
                f" a proxy (HTTPS_PROXY), or {self.url_setting}",
                service=self.patience.service,
            )
        self.patience.say(f"{self.patience.service}: {cause}; trying again in 1 s")
        self.patience.sleep(1.0)


class HttpGetter:
    """GETs to one service, each answered 200 or failed as the module says."""

    def __init__(self, attempts: Attempts, timeout_seconds: float) -> None:
        self.attempts = attempts
        self.timeout_seconds = timeout_seconds
        self.session = requests.Session()
        self.session.headers["User-Agent"] = f"arxiv-digest/{arxiv_digest.__version__}"
        self.requests_made = 0

    def once(self, url: str) -> bytes | None:
        """The body of one answer to GET `url`, whatever its status; None when none came."""
        self.requests_made += 1
        try:
            return self.session.get(url, timeout=self.timeout_seconds).content
        except requests.RequestException:
            return None

    def get(self, url: str, params: Mapping[str, str]) -> bytes:
        """The body of a 200 answer to GET `url` with `params`."""
        while True:
            self.requests_made += 1
            try:
                response = self.session.get(url, params=params, timeout=self.timeout_seconds)
            except requests.Timeout:
                self.attempts.retry_after(f"no answer within {self.timeout_seconds:g} s")
                continue
            except requests.RequestException as error:
                self.attempts.connection_failed(error)
                continue
            if response.status_code == 200:
                return response.content
            if response.status_code not in RETRYABLE_STATUS:
                raise FetchError(
                    f"HTTP {response.status_code}",
                    service=self.attempts.patience.service,
                    url=response.url,
                )
            self.attempts.retry_after(
                status_problem(response.status_code),
                retry_after_seconds(response.headers.get("Retry-After")),
            )
