"""Bad input gets one line naming the problem and the fix, a documented status, no traceback.

The command runs in this process (click's runner), as it ends before any network: the
installed command is run as a process by the scenario tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from arxiv_digest.config import load_config
from tests import corpus
from tests.conftest import Site


def assert_refused(run_status: int, stderr: str, site: Site) -> str:
    """One line, or (for several configuration problems) a header and one line a problem."""
    assert run_status == 2
    lines = stderr.strip().splitlines()
    assert lines[0].startswith("Error: ")
    assert all(line.startswith("  - ") for line in lines[1:]), stderr
    assert "Traceback" not in stderr
    assert site.arxiv.requests == [] and site.model.requests == []
    assert not (site.root / "_posts").exists()
    return "\n".join(lines)


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

    run = site.cli("build", "--date", corpus.DAY)

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
        ("arxiv:\n  categories: {cs: SD}\n", "arxiv.categories: Input should be a valid list"),
    ],
)
def test_unreadable_yaml_is_refused(site: Site, content: str, message: str) -> None:
    (site.root / "config.yaml").write_text(content, encoding="utf-8")

    run = site.cli("build", "--date", corpus.DAY)

    assert message in assert_refused(run.status, run.stderr, site)


def test_misspelt_keys_get_the_key_they_meant_one_problem_a_line(site: Site) -> None:
    (site.root / "config.yaml").write_text(
        "arxiv:\n  categorys: [cs.SD]\nfilter:\n  max_paper: 3\nllm:\n  modl: x\nwindw: {}\n",
        encoding="utf-8",
    )

    run = site.cli("build", "--date", corpus.DAY)

    text = assert_refused(run.status, run.stderr, site)
    assert text.splitlines() == [
        "Error: config.yaml: 4 problems",
        "  - arxiv.categorys: unknown key; did you mean arxiv.categories?",
        "  - filter.max_paper: unknown key; did you mean filter.max_papers?",
        "  - llm.modl: unknown key; did you mean llm.model?",
        "  - windw: unknown key; did you mean window?",
    ]


def test_a_single_string_where_a_list_is_expected_is_a_list_of_one(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("arxiv:\n  categories: cs.SD\nfilter:\n  interests: Hana Sato\n", "utf-8")
    config = load_config(path)
    assert config.arxiv.categories == ["cs.SD"]
    assert config.filter.interests == ["Hana Sato"]


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("2026-02-30", "--date '2026-02-30' is not a date: February 2026 has no day 30"),
        ("2026-13-01", "--date '2026-13-01' is not a date: there is no month 13"),
        ("13/02/2026", "--date '13/02/2026' is not a date; use YYYY-MM-DD"),
        ("2999-01-01", "--date 2999-01-01 is in the future"),
        ("1980-01-01", "--date 1980-01-01 is before arXiv existed"),
    ],
)
def test_an_impossible_date_says_why(site: Site, value: str, reason: str) -> None:
    run = site.cli("build", "--date", value)
    assert reason in assert_refused(run.status, run.stderr, site)


def test_the_command_alone_shows_its_help_and_build_help_ends_with_env_and_statuses(
    site: Site,
) -> None:
    bare = site.cli()
    assert bare.status == 0 and "Commands:" in bare.stdout and "build" in bare.stdout
    build = site.cli("build", "--help")
    assert build.status == 0
    epilog = build.stdout[build.stdout.index("Environment:") :]
    for expected in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "DIGEST_NOW", "Exit statuses:",
                     "  3    written, but some answers are missing"):  # fmt: skip
        assert expected in epilog
    preview = site.cli("preview", "--help")
    assert preview.status == 0
    assert "--port INTEGER RANGE  The port to serve on" in preview.stdout


def test_missing_config_file_names_the_fix(site: Site) -> None:
    run = site.cli("build", "--date", corpus.DAY, "--config", "elsewhere.yaml")

    line = assert_refused(run.status, run.stderr, site)
    assert "elsewhere.yaml: file not found; create it (see README) or pass --config PATH" in line


def test_missing_api_key_is_reported_before_any_request(site: Site) -> None:
    run = site.cli("build", "--date", corpus.DAY, env={"OPENAI_API_KEY": ""})

    assert "OPENAI_API_KEY is not set" in assert_refused(run.status, run.stderr, site)


def test_debug_shows_the_traceback(site: Site) -> None:
    run = site.cli("build", "--date", "2026-02-30", "--debug")

    assert run.status == 2
    assert "Traceback" in run.stderr
    assert "BadInputError" in run.stderr
