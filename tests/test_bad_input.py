"""Bad input gets one line naming the problem and the fix, a documented status, no traceback."""

from __future__ import annotations

import pytest

from tests import corpus
from tests.conftest import Site


def assert_refused(run_status: int, stderr: str, site: Site) -> str:
    assert run_status == 2
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("Error: ")
    assert "Traceback" not in stderr
    assert site.arxiv.requests == [] and site.model.requests == []
    assert not (site.root / "_posts").exists()
    return lines[0]


def test_every_config_error_is_reported_at_once_by_key_path(site: Site) -> None:
    (site.root / "config.yaml").write_text(
        "arxiv:\n"
        "  categories: [cs.SD, cs.SDD, 'not a category']\n"
        "  page_size: 0\n"
        "window:\n"
        "  anchor: 8:50\n"
        "  timezone: Mars/Olympus_Mons\n"
        "llm:\n"
        "  concurrency: many\n"
        "  api_key: sk-in-a-file\n"
        "output:\n"
        "  post_dir: _posts\n",
        encoding="utf-8",
    )

    run = site.digest("build", "--date", corpus.DAY)

    line = assert_refused(run.status, run.stderr, site)
    for expected in (
        "arxiv.categories: 'cs.SDD' is not an arXiv category; did you mean cs.SD?;"
        " 'not a category' is not an arXiv category; see https://arxiv.org/category_taxonomy",
        "arxiv.page_size: Input should be greater than or equal to 1",
        'window.anchor: write the anchor as a quoted "HH:MM" string',
        "window.timezone: unknown time zone 'Mars/Olympus_Mons'",
        "llm.concurrency: Input should be a valid integer",
        "llm.api_key: the key is read from the OPENAI_API_KEY environment variable",
        "output.post_dir: unknown key",
    ):
        assert expected in line


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("arxiv: [unclosed", "invalid YAML: line 1"),
        ("- just\n- a list\n", "the top level must be a mapping"),
        ("arxiv:\n  categories: cs.SD\n", "arxiv.categories: Input should be a valid list"),
    ],
)
def test_unreadable_yaml_is_refused(site: Site, content: str, message: str) -> None:
    (site.root / "config.yaml").write_text(content, encoding="utf-8")

    run = site.digest("build", "--date", corpus.DAY)

    assert message in assert_refused(run.status, run.stderr, site)


def test_missing_config_file_names_the_fix(site: Site) -> None:
    run = site.digest("build", "--date", corpus.DAY, "--config", "elsewhere.yaml")

    line = assert_refused(run.status, run.stderr, site)
    assert "elsewhere.yaml: file not found; create it (see README) or pass --config PATH" in line


@pytest.mark.parametrize(
    ("date", "message"),
    [
        ("2026-02-30", "--date '2026-02-30' is not a date; use YYYY-MM-DD"),
        ("13/02/2026", "--date '13/02/2026' is not a date"),
        ("2999-01-01", "--date 2999-01-01 is in the future"),
        ("1980-01-01", "--date 1980-01-01 is before arXiv existed"),
    ],
)
def test_impossible_dates_are_refused(site: Site, date: str, message: str) -> None:
    run = site.digest("build", "--date", date)

    assert message in assert_refused(run.status, run.stderr, site)


def test_missing_api_key_is_reported_before_any_request(site: Site) -> None:
    run = site.digest("build", "--date", corpus.DAY, env={"OPENAI_API_KEY": ""})

    assert "OPENAI_API_KEY is not set" in assert_refused(run.status, run.stderr, site)


def test_debug_shows_the_traceback(site: Site) -> None:
    run = site.digest("build", "--date", "2026-02-30", "--debug")

    assert run.status == 2
    assert "Traceback" in run.stderr
    assert "BadInputError" in run.stderr
