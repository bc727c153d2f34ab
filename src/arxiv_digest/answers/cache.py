"""The cache: a small SQLite store of accepted model answers, extracted papers' texts, and
the requests sent in providers' batches (batch mode), until they are collected.

Answers are keyed by arXiv id with version, task, model and a hash of the
rendered prompt, so any change to what the model would be asked misses the
cache, and a rerun with the same inputs asks nothing. Each answer is committed
as soon as it is accepted, so an interrupted run resumes where it stopped.

The cache only saves time and money: what a day has published lives in its
record (see record.py), and a lost cache loses nothing.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from arxiv_digest.errors import DigestError
from arxiv_digest.models import Answer

_WAIT_SECONDS = 30.0
"""How long a build waits for another's hold on the cache."""
# Numbered migrations: the store's user_version is the number applied last.
_MIGRATIONS = (
    """
    CREATE TABLE answers (
        arxiv_id TEXT NOT NULL,
        task TEXT NOT NULL,
        model TEXT NOT NULL,
        prompt_sha256 TEXT NOT NULL,
        answer TEXT NOT NULL,
        tokens_in INTEGER NOT NULL,
        tokens_out INTEGER NOT NULL,
        PRIMARY KEY (arxiv_id, task, model, prompt_sha256)
    );
    CREATE TABLE texts (
        arxiv_id TEXT NOT NULL,
        extractor TEXT NOT NULL,
        text TEXT NOT NULL,
        page_count INTEGER NOT NULL,
        PRIMARY KEY (arxiv_id, extractor)
    );
    """,
    """
    CREATE TABLE papers (
        arxiv_id TEXT PRIMARY KEY,
        paper_json TEXT NOT NULL
    );
    """,
    # What a day shows now lives in its record.
    "DROP TABLE papers;",
    # A paper's text comes from its HTML version or its PDF; the record says which.
    "ALTER TABLE texts ADD COLUMN source TEXT NOT NULL DEFAULT 'pdf';",
    # Batch mode: the requests of each batch, written before it is sent (batch_id NULL until
    # the provider names it), so that a killed run never sends them twice.
    """
    CREATE TABLE batch_requests (
        custom_id TEXT PRIMARY KEY,
        arxiv_id TEXT NOT NULL,
        task TEXT NOT NULL,
        submission TEXT NOT NULL,
        batch_id TEXT
    );
    """,
)


@dataclass(frozen=True)
class AnswerKey:
    arxiv_id: str
    task: str
    model: str
    prompt_sha256: str


@dataclass(frozen=True)
class StoredText:
    text: str
    page_count: int
    source: str = "pdf"
    """Where the text was read: "html" (arXiv's HTML version) or "pdf"."""


class Store:
    def __init__(self, connection: sqlite3.Connection) -> None:
        self._db = connection

    @classmethod
    def open(cls, path: Path) -> Store:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # Two builds of one site at once wait for each other's writes instead of failing.
            connection = sqlite3.connect(path, timeout=_WAIT_SECONDS, isolation_level=None)
            _use_wal(connection)
            connection.execute("PRAGMA synchronous=NORMAL")
            _migrate(connection)
        except sqlite3.Error as error:
            raise DigestError(
                f"cache {path}: {error}; check cache.path, or delete the file to start afresh"
            ) from None
        return cls(connection)

    def close(self) -> None:
        self._db.close()

    def answer(self, key: AnswerKey) -> Answer | None:
        row = self._db.execute(
            "SELECT answer, tokens_in, tokens_out FROM answers"
            " WHERE arxiv_id = ? AND task = ? AND model = ? AND prompt_sha256 = ?",
            (key.arxiv_id, key.task, key.model, key.prompt_sha256),
        ).fetchone()
        if row is None:
            return None
        return Answer(
            text=row[0],
            model=key.model,
            prompt_sha256=key.prompt_sha256,
            tokens_in=row[1],
            tokens_out=row[2],
        )

    def save_answer(self, key: AnswerKey, answer: Answer) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO answers VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                key.arxiv_id, key.task, key.model, key.prompt_sha256,
                answer.text, answer.tokens_in, answer.tokens_out,
            ),
        )  # fmt: skip

    def text(self, arxiv_id: str, extractor: str) -> StoredText | None:
        row = self._db.execute(
            "SELECT text, page_count, source FROM texts WHERE arxiv_id = ? AND extractor = ?",
            (arxiv_id, extractor),
        ).fetchone()
        return None if row is None else StoredText(text=row[0], page_count=row[1], source=row[2])

    def save_text(self, arxiv_id: str, extractor: str, stored: StoredText) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO texts (arxiv_id, extractor, text, page_count, source)"
            " VALUES (?, ?, ?, ?, ?)",
            (arxiv_id, extractor, stored.text, stored.page_count, stored.source),
        )

    def begin_submission(self, submission: str, requests: list[tuple[str, str, str]]) -> None:
        """Note a batch's requests (custom id, arXiv id, task) before it is sent."""
        with self._transaction():
            self._db.executemany(
                "INSERT OR REPLACE INTO batch_requests VALUES (?, ?, ?, ?, NULL)",
                [(custom, arxiv_id, task, submission) for custom, arxiv_id, task in requests],
            )

    def submitted(self, submission: str, batch_id: str) -> None:
        self._db.execute(
            "UPDATE batch_requests SET batch_id = ? WHERE submission = ?", (batch_id, submission)
        )

    def forget_submission(self, submission: str) -> None:
        """A submission that was never sent."""
        self._db.execute("DELETE FROM batch_requests WHERE submission = ?", (submission,))

    def unsent_submissions(self) -> list[str]:
        """Submissions noted but not known to be sent (a run was killed in between)."""
        rows = self._db.execute(
            "SELECT DISTINCT submission FROM batch_requests WHERE batch_id IS NULL"
        ).fetchall()
        return [row[0] for row in rows]

    def waiting_batches(self) -> dict[tuple[str, str], str]:
        """The batch each sent request waits in, by (arXiv id, task)."""
        rows = self._db.execute(
            "SELECT arxiv_id, task, batch_id FROM batch_requests WHERE batch_id IS NOT NULL"
            " ORDER BY rowid"
        ).fetchall()
        return {(arxiv_id, task): batch_id for arxiv_id, task, batch_id in rows}

    def settle(self, batch_ids: list[str], needs: set[tuple[str, str]]) -> None:
        """Forget the requests of finished batches whose needs (arXiv id, task) are settled."""
        with self._transaction():
            for batch_id in batch_ids:
                rows = self._db.execute(
                    "SELECT custom_id, arxiv_id, task FROM batch_requests WHERE batch_id = ?",
                    (batch_id,),
                ).fetchall()
                self._db.executemany(
                    "DELETE FROM batch_requests WHERE custom_id = ?",
                    [(custom,) for custom, arxiv_id, task in rows if (arxiv_id, task) in needs],
                )

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")


def _use_wal(connection: sqlite3.Connection) -> None:
    """Write-ahead logging. Turning it on takes a lock that SQLite's busy timeout does not
    wait for (two builds opening a new cache at once): waited for here, as long."""
    deadline = time.monotonic() + _WAIT_SECONDS
    while True:
        try:
            connection.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _migrate(connection: sqlite3.Connection) -> None:
    connection.execute("BEGIN IMMEDIATE")
    try:
        applied = connection.execute("PRAGMA user_version").fetchone()[0]
        for number, script in enumerate(_MIGRATIONS[applied:], start=applied + 1):
            for statement in script.split(";"):
                if statement.strip():
                    connection.execute(statement)
            connection.execute(f"PRAGMA user_version = {number}")
        connection.execute("COMMIT")
    except BaseException:
        connection.execute("ROLLBACK")
        raise
