"""Write stage: files appear whole or not at all."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from arxiv_digest.errors import BadInputError, WriteError


def write_atomically(path: Path, content: str | bytes, *, durable: bool = True) -> bool:
    """Write `content` to `path` through a temporary file and a rename.

    Returns False, and leaves the file (and its modification time) alone, when
    it already holds exactly `content`. `durable=False` skips the flush to disk, for
    views that are made again from the records (the site's pages). Text is written as UTF-8.
    """
    data = content.encode("utf-8") if isinstance(content, str) else content
    if _holds(path, data):
        return False
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(
            dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"
        )
    except OSError as error:
        raise WriteError(
            f"{path.parent}: cannot write there ({error.strerror}); check output.posts_dir"
        ) from None
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            if durable:
                stream.flush()
                os.fsync(stream.fileno())
        Path(temporary).chmod(0o644)
        Path(temporary).replace(path)
    except BaseException as error:
        Path(temporary).unlink(missing_ok=True)
        if isinstance(error, OSError):
            raise WriteError(f"{path}: cannot be written ({error.strerror})") from None
        raise
    return True


def stage_file(path: Path, content: str | bytes, by: str = "") -> Path | None:
    """`content` in a temporary file beside `path`, to be renamed onto it once every file of
    a build is staged (or removed if one fails); None when `path` holds `content` already.
    `by` names who stages it, where two may stage the same file and one is chosen after.
    Not flushed to disk: for views that are made again from the records."""
    data = content.encode("utf-8") if isinstance(content, str) else content
    if _holds(path, data):
        return None
    staged = path.with_name(f".{path.name}{'.' + by if by else ''}.staged")
    try:
        try:
            _write_new(staged, data)
        except FileNotFoundError:  # the folder is new: made only then, saving the calls
            path.parent.mkdir(parents=True, exist_ok=True)
            _write_new(staged, data)
    except OSError as error:
        raise WriteError(f"{path}: cannot be written ({error.strerror})") from None
    return staged


def _write_new(path: Path, data: bytes) -> None:
    """`data` in the file at `path`, by the system's calls alone: a site stages tens of
    thousands of pages, and Python's buffered files spend as many calls again on each."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(descriptor, view) :]
    finally:
        os.close(descriptor)


def _holds(path: Path, data: bytes) -> bool:
    """Whether `path` holds exactly `data` already (False when there is no such file)."""
    try:
        descriptor = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return False
    except OSError as error:
        raise WriteError(f"{path}: cannot be read ({error.strerror})") from None
    try:
        # One read past the size tells a longer file from an equal one.
        return (
            os.fstat(descriptor).st_size == len(data) and os.read(descriptor, len(data) + 1) == data
        )
    except OSError as error:
        raise WriteError(f"{path}: cannot be read ({error.strerror})") from None
    finally:
        os.close(descriptor)


def check_writable(directory: Path, setting: str) -> None:
    """Refuse, before any work, a directory that could not be created or written."""
    existing = directory
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise BadInputError(
            f"{directory}: cannot be created, {existing} is not a directory; set {setting}"
        )
    if not os.access(existing, os.W_OK | os.X_OK):
        raise BadInputError(
            f"{directory}: not writable ({existing} denies it); fix its permissions or set {setting}"
        )
