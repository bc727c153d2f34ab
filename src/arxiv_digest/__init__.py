"""arxiv-digest: a daily Chinese digest of new arXiv papers, as a Jekyll site."""

import functools
from typing import Any


@functools.cache
def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("arxiv-digest")
    except PackageNotFoundError:  # running from a checkout that was never installed
        return "0+unknown"


def __getattr__(name: str) -> Any:
    # `__version__` is looked up when asked for: the lookup costs a command's start 45 ms.
    if name == "__version__":
        return _version()
    raise AttributeError(name)
