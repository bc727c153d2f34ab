"""Papers ranked for the site's owner (`interests`): measured on a labelled archive of our
own against keyword matching, avoided words, likes from a BibTeX or CSL JSON library,
configuration errors by key path, and the site's pages with and without likes."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from arxiv_digest.config import InterestsSettings, load_config
from arxiv_digest.errors import ConfigError
from arxiv_digest.views.ranking import Ranker, read_library
from tests.interests import DAYS, labelled_archive, precision_by_day
from tests.test_site import build, make_bench


def test_ranking_by_likes_beats_keyword_matching_on_a_labelled_archive() -> None:
    papers, liked = labelled_archive()
    ranker = Ranker.train([item.paper for item in papers], InterestsSettings(liked=liked))
    assert ranker is not None
    rows = precision_by_day(ranker, papers, liked)
    ranked_precision = sum(row[0] for row in rows) / DAYS
    keyword_precision = sum(row[1] for row in rows) / DAYS
    assert ranked_precision > keyword_precision and ranked_precision >= 0.7, (
        ranked_precision, keyword_precision,
    )  # fmt: skip


def test_the_terms_say_why_and_an_avoided_word_is_never_recommended() -> None:
    papers, liked = labelled_archive()
    settings = InterestsSettings(liked=liked, avoid=["Streaming"])
    ranker = Ranker.train([item.paper for item in papers], settings)
    assert ranker is not None
    found = dict(
        zip(
            [item.paper.arxiv_id for item in papers],
            ranker.relevance([item.paper for item in papers]),
            strict=True,
        )
    )
    streaming = [item for item in papers if "streaming" in item.paper.abstract.casefold()]  # type: ignore[union-attr]
    assert streaming and all(found[item.paper.arxiv_id].score == 0 for item in streaming)
    assert all(found[item.paper.arxiv_id].avoided == "streaming" for item in streaming)
    liked_fields = [
        found[item.paper.arxiv_id]
        for item in papers
        if item.relevant and item.paper.arxiv_id not in {i.paper.arxiv_id for i in streaming}
    ]
    assert sum(bool(relevance.terms) for relevance in liked_fields) >= 0.9 * len(liked_fields)
    others = [found[item.paper.arxiv_id] for item in papers if not item.relevant]
    mean = sum(relevance.score for relevance in liked_fields) / len(liked_fields)
    assert mean > 3 * sum(relevance.score for relevance in others) / len(others)


def test_likes_come_from_a_bibtex_or_csl_json_library(tmp_path: Path) -> None:
    bib = tmp_path / "library.bib"
    bib.write_text(
        "@article{a, title = {Margin {ECAPA} Embeddings for \\emph{Speaker} Verification},\n"
        '  abstract = "Short trials, equal error rate.", year = 2025}\n'
        "@misc{b, title={Online Diarization}, note={no abstract}}\n",
        encoding="utf-8",
    )
    assert read_library(bib) == [
        "Margin ECAPA Embeddings for Speaker Verification\nShort trials, equal error rate.",
        "Online Diarization",
    ]
    csl = tmp_path / "zotero.json"
    csl.write_text(json.dumps([{"title": "Who Spoke When", "abstract": "Streaming."}, {"note": 1}]))
    assert read_library(csl) == ["Who Spoke When\nStreaming."]
    csl.write_text("{not json")
    with pytest.raises(ConfigError, match=r"interests\.library is not JSON"):
        read_library(csl)


def test_a_liked_id_that_is_not_one_is_named_by_its_key(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("interests:\n  liked: ['2602.20005', 'the paper about margins']\n")
    with pytest.raises(ConfigError) as raised:
        load_config(config)
    assert raised.value.problems == [
        "interests.liked: not arXiv ids: the paper about margins (e.g. 2602.20005 or 2602.20005v2)"
    ]
    # Unquoted, an id is a number to YAML, and 2602.20050 would become 2602.2005.
    config.write_text("interests:\n  liked: [2602.20050]\n")
    with pytest.raises(ConfigError) as raised:
        load_config(config)
    assert raised.value.problems == [
        "interests.liked: 2602.2005: YAML reads an unquoted id as a number (and drops its last"
        " zeros); quote each id: ['2602.20050']"
    ]


def test_the_site_recommends_with_likes_and_nothing_changes_without(tmp_path: Path) -> None:
    bench = make_bench(tmp_path)
    build(bench)
    home = (tmp_path / "_public/index.html").read_text("utf-8")
    day_page = tmp_path / "_public/2026/02/13/arxiv/index.html"
    assert "为你推荐" not in home and "data-score" not in day_page.read_text("utf-8")

    bench.configure(
        triage={"enabled": True}, filter={"max_papers": 3},
        interests={"liked": ["2602.20002", "2602.20004"], "avoid": ["Mamba"]},
    )  # fmt: skip
    result = build(bench)
    assert result.rendered == 3  # a change of likes ranks every page again
    home = (tmp_path / "_public/index.html").read_text("utf-8")
    assert "为你推荐" in home and "相关度 " in home
    day = day_page.read_text("utf-8")
    assert day.count("data-score=") == 3 and 'title="因为：' in day
    assert "避开：mamba" in day  # 2602.20003's abstract names a Mamba encoder


def test_a_post_template_that_asks_sees_each_paper_s_relevance(tmp_path: Path) -> None:
    from tests import corpus
    from tests.inprocess import Bench

    bench = Bench.of(tmp_path)
    bench.configure(interests={"liked": ["2602.20004"]})
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "post.md.j2").write_text(
        "{% for e in entries %}{{ e.arxiv_id }} {{ e.relevance }} {{ e.relevance_terms | join(',') }}\n{% endfor %}",
        encoding="utf-8",
    )
    bench.build(corpus.DAY)
    lines = dict(line.split(" ", 1) for line in bench.post().read_text("utf-8").splitlines())
    scores = {key: int(value.split()[0]) for key, value in lines.items()}
    assert scores["2602.20004v2"] == max(scores.values()) and min(scores.values()) < 50
    assert "codebooks" in lines["2602.20004v2"]  # a term of the liked paper's own
    # Without likes, the same template sees none.
    bench.configure()
    bench.render()
    assert all(
        line.split(" ")[1] == "None" for line in bench.post().read_text("utf-8").splitlines()
    )


def test_an_archive_without_words_to_learn_ranks_nothing() -> None:
    from tests.interests import labelled_archive

    papers, _ = labelled_archive()
    empty = [replace(item.paper, title="The", abstract="and of the") for item in papers[:5]]
    settings = InterestsSettings(liked=[empty[0].arxiv_id])
    assert Ranker.train(empty, settings) is None
