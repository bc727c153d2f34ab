"""arxiv-digest: a daily Chinese digest of new arXiv papers, as a Jekyll site."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("arxiv-digest")
except PackageNotFoundError:  # running from a checkout that was never installed
    __version__ = "0+unknown"
