"""`digest preview`'s server: the built site on 127.0.0.1, under the site's base path, as
GitHub Pages would serve it (a folder's index.html, the site's 404 page)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from arxiv_digest.errors import BadInputError


def site_server(directory: Path, base_path: str, port: int) -> ThreadingHTTPServer:
    """A server of `directory` at `base_path` on 127.0.0.1 (port 0: any free port)."""
    handler = functools.partial(_SiteHandler, base_path, directory=str(directory))
    try:
        return _PreviewServer(("127.0.0.1", port), handler)
    except OSError as error:
        raise BadInputError(f"--port {port}: cannot listen there ({error.strerror})") from None


def serve_site(directory: Path, base_path: str, port: int, say: Callable[[str], None]) -> None:
    """Serve `directory` at `base_path` until Ctrl-C."""
    server = site_server(directory, base_path, port)
    say(
        f"Serving {directory} at http://127.0.0.1:{server.server_address[1]}{base_path}/"
        " (Ctrl-C stops)"
    )
    with server:
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            say("Stopped.")


class _PreviewServer(ThreadingHTTPServer):
    # socketserver listens with a backlog of 5, which a browser's burst of connections (a page,
    # its assets, the search's fragments) can overflow while the server's thread is busy; a
    # connection the kernel drops waits a second for TCP to retry it.
    request_queue_size = 64


class _SiteHandler(SimpleHTTPRequestHandler):
    extensions_map = {  # noqa: RUF012 (the base class's own attribute, extended)
        **SimpleHTTPRequestHandler.extensions_map,
        ".js": "text/javascript",
        ".wasm": "application/wasm",
    }

    def __init__(self, base_path: str, *args: Any, **kwargs: Any) -> None:
        self.base_path = base_path
        super().__init__(*args, **kwargs)

    def send_head(self) -> Any:
        path, _, query = self.path.partition("?")
        if self.base_path and path in ("/", ""):
            self.send_response(HTTPStatus.FOUND)
            self.send_header("Location", f"{self.base_path}/")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        if self.base_path:
            if path != self.base_path and not path.startswith(self.base_path + "/"):
                return self._not_found()
            path = path[len(self.base_path) :] or "/"
        self.path = path + ("?" + query if query else "")
        if not Path(self.translate_path(self.path)).exists():
            return self._not_found()
        return super().send_head()

    def _not_found(self) -> Any:
        page = Path(str(self.directory)) / "404.html"
        body = page.read_bytes() if page.is_file() else b"Not found"
        self.send_response(HTTPStatus.NOT_FOUND)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        return None

    def log_message(self, format: str, *args: Any) -> None:
        pass
