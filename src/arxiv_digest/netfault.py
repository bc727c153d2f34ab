"""What a failure to reach a host comes down to, in words a user can act on.

Both HTTP stacks (requests for the arXiv client, httpx2 for the SDK and the PDFs) wrap
the operating system's error a few levels deep; the chain of causes holds it.
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator
from urllib.parse import urlsplit


def connection_cause(error: BaseException) -> str | None:
    """Why a connection could not be made (DNS, refused, TLS, proxy), or None when `error`
    is not a connection-level failure."""
    for link in _chain(error):
        if isinstance(link, socket.gaierror):
            return "its host name cannot be resolved (DNS)"
        if isinstance(link, ConnectionRefusedError):
            return "the connection was refused"
        if isinstance(link, ssl.SSLError):
            return "the TLS handshake failed"
        if type(link).__name__ == "ProxyError":
            return "the proxy failed"
        if isinstance(link, (ConnectionResetError, ConnectionAbortedError)):
            return "the connection was dropped"
    return None


def host_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.netloc or url


def _chain(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    link: BaseException | None = error
    while link is not None and id(link) not in seen:
        seen.add(id(link))
        yield link
        link = link.__cause__ or link.__context__
