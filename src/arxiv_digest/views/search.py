"""The site's search index, written by Pagefind beside the pages.

Pagefind (`pip install 'pagefind[extended]'`; the extended build segments Chinese)
reads the built paper pages and writes a static index, which the search page's script
queries in the reader's browser: no server code. One record per paper, so that results
are papers, ranked as papers. What it indexes is marked in the paper page's template:
the titles, the one-line summary, the authors, the translation and the abstract
(`data-pagefind-body`), not the analysis, links or citation (`data-pagefind-ignore`);
the Chinese title, English title, summary, day and topics are the result's metadata.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from arxiv_digest.errors import DigestError

BUNDLE_DIR = "pagefind"
# Paper pages only: /papers/{id}/index.html.
_PAPER_PAGES = "papers/**/index.html"
_INDEXED = re.compile(r"Indexed (\d+) pages?")
_TIMEOUT_SECONDS = 1800


def write_index(site_dir: Path) -> int:
    """Index the paper pages of `site_dir` into `site_dir/pagefind/`, replacing the index
    there at once; the number of pages (papers) indexed."""
    executable = _pagefind()
    staging = site_dir / f".{BUNDLE_DIR}.new"
    shutil.rmtree(staging, ignore_errors=True)
    try:
        done = subprocess.run(
            [
                str(executable), "--site", str(site_dir), "--output-path", str(staging),
                "--glob", _PAPER_PAGES,
            ],
            capture_output=True, text=True, timeout=_TIMEOUT_SECONDS, check=False,
        )  # fmt: skip
        if done.returncode != 0:
            last = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no message"]
            raise DigestError(f"Pagefind failed (exit {done.returncode}): {last[0]}")
        bundle = site_dir / BUNDLE_DIR
        shutil.rmtree(bundle, ignore_errors=True)
        staging.replace(bundle)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise DigestError(f"Pagefind did not index the site: {error}") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)  # gone already when all went well
    found = _INDEXED.search(done.stdout)
    return int(found.group(1)) if found else 0


def _pagefind() -> Path:
    try:
        from pagefind.service import get_executable
    except ImportError:
        executable = None
    else:
        executable = get_executable()
    if executable is None:
        raise DigestError(
            "search needs Pagefind: pip install 'pagefind[extended]' (or build with --no-search)"
        )
    return executable
