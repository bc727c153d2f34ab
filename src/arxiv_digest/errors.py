"""The one error tree of arxiv-digest, and the exit statuses the CLI maps it to.

Every failure a user can meet is a `DigestError` with a message that names the
problem and, where there is one, the fix. The CLI prints it as one line.
"""

from __future__ import annotations

EXIT_OK = 0
"""The post was written complete, or the window held no papers."""
EXIT_FAILURE = 1
"""A run-time failure (arXiv, the model's authentication, the file system): nothing was written."""
EXIT_BAD_INPUT = 2
"""Bad input: an option, the date, the configuration, a missing API key. Nothing was written."""
EXIT_INCOMPLETE = 3
"""The post was written, but some translations or analyses are missing; a rerun fills the gaps."""


class DigestError(Exception):
    """Base of every error arxiv-digest reports to its user."""

    exit_status = EXIT_FAILURE


class BadInputError(DigestError):
    """Something the user gave is wrong: an option, a date, the environment."""

    exit_status = EXIT_BAD_INPUT


class ConfigError(BadInputError):
    """The configuration file is unreadable or invalid; `problems` lists every one."""

    def __init__(self, path: str, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        if len(problems) == 1:
            super().__init__(f"{path}: {problems[0]}")
        else:
            listed = "".join(f"\n  - {problem}" for problem in problems)
            super().__init__(f"{path}: {len(problems)} problems{listed}")


class FetchError(DigestError):
    """An arXiv service (the API, OAI-PMH, RSS) could not be queried."""

    def __init__(
        self, message: str, *, service: str | None = "arXiv API", url: str | None = None
    ) -> None:
        self.service = service
        self.url = url
        where = f" ({url})" if url else ""
        super().__init__(f"{service}: {message}{where}" if service else f"{message}{where}")


class ModelError(DigestError):
    """The model endpoint refused in a way no retry can mend (authentication, unknown model)."""


class PdfError(DigestError):
    """A paper's PDF could not be downloaded or read. Costs the paper its analysis only."""

    def __init__(self, arxiv_id: str, message: str) -> None:
        self.arxiv_id = arxiv_id
        super().__init__(f"{arxiv_id}: {message}")


class WriteError(DigestError):
    """An output file could not be written."""
