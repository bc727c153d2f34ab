"""A whole generated site against committed expected output: every page and feed of the
small fixture site of test_site (three days: papers with triage, formulas and a link; a
day of one paper; a settled empty day), so that a change that alters any page is seen.

After a change meant to alter pages, regenerate on purpose and read the diff:
`DIGEST_REGENERATE_GOLDEN=1 pytest tests/test_golden_site.py`.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from arxiv_digest import __version__
from tests.test_hostile import published_files
from tests.test_site import BASE, build, make_bench

GOLDEN_SITE = Path(__file__).parent / "golden" / "site"
# Made by the tool from no record: the assets are its templates, the index is Pagefind's.
_NOT_PAGES = ("assets/", "pagefind/")


def normalised(text: str) -> str:
    """A page without what changes with every release: the tool's version."""
    return text.replace(f"arxiv-digest {__version__}", "arxiv-digest VERSION").replace(
        f'version="{__version__}"', 'version="VERSION"'
    )


def test_every_page_of_a_small_site_matches_the_golden_site(tmp_path: Path) -> None:
    bench = make_bench(tmp_path, BASE)
    build(bench)
    site_dir = bench.root / "_public"
    written = {
        name: normalised((site_dir / name).read_text(encoding="utf-8"))
        for name in published_files(site_dir)
        if not name.startswith(_NOT_PAGES)
    }
    if os.environ.get("DIGEST_REGENERATE_GOLDEN"):
        shutil.rmtree(GOLDEN_SITE, ignore_errors=True)
        for name, text in written.items():
            (GOLDEN_SITE / name).parent.mkdir(parents=True, exist_ok=True)
            (GOLDEN_SITE / name).write_text(text, encoding="utf-8")
    expected = {
        path.relative_to(GOLDEN_SITE).as_posix(): path.read_text(encoding="utf-8")
        for path in GOLDEN_SITE.rglob("*")
        if path.is_file()
    }
    assert sorted(written) == sorted(expected)
    for name, text in written.items():
        assert text == expected[name], name
