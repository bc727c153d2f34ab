"""Triage at a glance: the triage task, links found without a model, venues and revisions,
interests, and the papers of a window that were not shown."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from arxiv_digest.answers import pdftext
from arxiv_digest.answers.links import CODE, DATA, DEMO, PAGE, Link, find_links
from arxiv_digest.answers.tasks import TRIAGE, AnswerError, AnswerRules, analysis_parts
from arxiv_digest.views.paperinfo import bibtex, venue
from tests import corpus
from tests.conftest import SHARED
from tests.inprocess import Bench, as_paper

RULES = AnswerRules(topics=frozenset({"asr", "tts", "codec"}), max_summary_chars=60)


def triage(**fields: object) -> str:
    answer = {"title_zh": "停顿感知的韵律迁移", "summary_zh": "显式建模停顿以提升合成自然度。"}
    answer["topics"] = ["tts"]  # type: ignore[assignment]
    answer.update(fields)  # type: ignore[arg-type]
    return json.dumps(answer, ensure_ascii=False)


def test_a_triage_answer_is_checked_and_recorded_as_canonical_json() -> None:
    fenced = f"```json\n{triage(topics=['tts', 'tts', 'codec'])}\n```"
    assert json.loads(TRIAGE.check(fenced, RULES)) == {
        "title_zh": "停顿感知的韵律迁移",
        "summary_zh": "显式建模停顿以提升合成自然度。",
        "topics": ["tts", "codec"],
    }


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ("不是 JSON", "the triage is not JSON"),
        ("[1, 2]", "the triage is not a JSON object"),
        (triage(topics=["speech"]), "topics not in triage.topics: speech"),
        (triage(topics=[]), "the triage needs 1 to 3 topics"),
        (triage(topics=["asr", "tts", "codec", "asr"]), "the triage needs 1 to 3 topics"),
        (triage(summary_zh="We model pauses explicitly in prosody transfer."),
         "the triage's summary_zh is not in Chinese"),
        (triage(summary_zh="很" * 61), "the summary has 61 characters, over triage.max_summary_chars (60)"),
        (triage(title_zh=""), "the triage lacks title_zh"),
    ],
)  # fmt: skip
def test_a_triage_answer_that_cannot_be_used_says_why(answer: str, reason: str) -> None:
    with pytest.raises(AnswerError, match=reason.replace("(", r"\(").replace(")", r"\)")):
        TRIAGE.check(answer, RULES)


def test_every_shown_paper_gets_its_triage_cached_recorded_and_reported(tmp_path: Path) -> None:
    bench = Bench.of(tmp_path)
    bench.configure(triage={"enabled": True})
    bench.model.answers[("2602.20005v1", "triage")] = triage()

    report = bench.build(corpus.DAY)

    record = bench.record()
    assert all("triage" in shown.answers for shown in record.papers)
    assert json.loads(record.papers[0].answers["triage"].text)["topics"] == ["tts"]
    assert sorted(task for _, task in bench.model.calls).count("triage") == 4
    assert set(report.by_task) == {"translation", "analysis", "triage"}
    assert report.by_task["triage"].model_requests == 4
    assert report.by_task["triage"].tokens_in > 0
    assert report.days[0].complete == 4
    totals = report.to_json(bench.config.llm)["total"]["by_task"]
    assert totals["triage"]["model_requests"] == 4
    # The post keeps the reference format: the default template shows no triage.
    assert "停顿感知" not in bench.post().read_text(encoding="utf-8")


def test_a_bad_triage_is_asked_again_and_then_a_gap(tmp_path: Path) -> None:
    bench = Bench.of(tmp_path)
    bench.configure(triage={"enabled": True}, llm={"max_attempts": 2})
    bench.model.answers[("2602.20005v1", "triage")] = triage(topics=["politics"])

    report = bench.build(corpus.DAY)

    assert bench.model.calls.count(("2602.20005v1", "triage")) == 2
    assert bench.record().papers[0].gaps == {
        "triage": "topics not in triage.topics: politics after 2 attempts"
    }
    assert report.incomplete


def test_with_triage_off_nothing_depends_on_it(tmp_path: Path) -> None:
    bench = Bench.of(tmp_path)  # the harness turns triage off
    report = bench.build(corpus.DAY)
    assert all(task != "triage" for _, task in bench.model.calls)
    assert report.days[0].complete == 4 and not report.incomplete
    assert all("triage" not in shown.answers for shown in bench.record().papers)


def test_a_site_template_can_show_triage_links_venue_and_interests(tmp_path: Path) -> None:
    bench = Bench.of(tmp_path)
    bench.configure(triage={"enabled": True}, filter={"interests": ["Jonas Berg"]})
    bench.model.answers[("2602.20004v2", "triage")] = triage(
        title_zh="稀疏码本 <script>", summary_zh="1 kbps 下保持音质。", topics=["codec"]
    )
    bench.texts.texts["2602.20004v2"] = "Code: https://github.com/invented/sparse-\ncodebooks.\n"
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "post.md.j2").write_text(
        "{% for e in entries %}{% if e.triage %}## {{ e.triage.title_zh }}"
        "（{{ e.triage.topics | join('、') }}）\n{{ e.triage.summary_zh }}\n"
        "{% for l in e.links %}[{{ l.text }}]({{ l.url }}) {{ l.kind }}\n{% endfor %}"
        "{{ e.venue }} v{{ e.version }} revised={{ e.revised }} {{ e.interests | join(',') }}\n"
        "{% endif %}{% endfor %}",
        encoding="utf-8",
    )

    bench.build(corpus.DAY)

    post = bench.post().read_text(encoding="utf-8")
    block = post.split("## 稀疏码本")[1].split("## ")[0]
    assert block.startswith(" \\<script\\>（音频编解码）\n1 kbps 下保持音质。\n")
    link = "https://github.com/invented/sparse-codebooks"
    assert f"[{link}]({link}) code\n" in block
    assert "None v2 revised=True Jonas Berg\n" in block  # "Accepted to an invented workshop"
    assert bench.record().papers[1].links == (Link(link, CODE),)


def test_links_in_the_real_pdfs(tmp_path: Path) -> None:
    pdfs = {path.name: path for path in (SHARED / "fixtures" / "pdf").glob("*.pdf")}
    if not pdfs:
        pytest.skip("../shared/fixtures/pdf is not present")
    found = {}
    for name, path in pdfs.items():
        raw, _ = pdftext.extract_text(path.read_bytes(), max_pages=100)
        found[name] = find_links(pdftext.model_input(raw, 60_000))
    # A footnote mark glued to the URL (`2https://…`) and a sentence's full stop, mended;
    # the URL the reference list cites (a paper of others) is not the paper's own.
    assert found["interspeech2025-two-column.pdf"] == (
        Link("https://github.com/sp-uhh/storm", CODE),
        Link("https://github.com/cmsiisc/StoRM-variants", CODE),
    )
    assert found["arxiv-1111.2011v2.pdf"] == ()


def test_links_in_crafted_text() -> None:
    abstract = (
        "模型与代码见 https://github.com/Lab/Model-\nSuite。演示：https://lab.github.io/demo/，"
        "数据（https://huggingface.co/datasets/lab/corpus）与 huggingface.co/spaces/lab/app."
    )
    comment = (
        "Accepted to ICASSP 2026. Samples at https://example.org/listen/ and zenodo.org/records/42"
    )
    text = (
        "Our code1 is public.\n1https://github.com/lab/model-suite/\n"
        "See also arxiv.org/abs/2601.00001 and https://www.github.com/Lab/Model-Suite.git\n"
        "Project page: https://lab.github.io/demo/\nhttps://github.com/lab (an organisation, not code)"
    )
    assert find_links(abstract, comment, text) == (
        Link("https://github.com/Lab/Model-Suite", CODE),
        Link("https://lab.github.io/demo/", DEMO),
        Link("https://huggingface.co/datasets/lab/corpus", DATA),
        Link("https://huggingface.co/spaces/lab/app", DEMO),
        Link("https://example.org/listen/", PAGE),
        Link("https://zenodo.org/records/42", DATA),
    )


@pytest.mark.parametrize(
    ("comment", "expected"),
    [
        ("Accepted to ICASSP 2026", "ICASSP 2026"),
        ("5 pages, 3 figures, accepted at Interspeech'25", "Interspeech 2025"),
        ("To appear in IEEE/ACM TASLP", "IEEE/ACM TASLP"),
        ("Submitted to ICASSP 2026", None),
        ("5 pages, 3 figures", None),
        ("Accepted (poster)", None),
        (None, None),
    ],
)
def test_a_venue_is_named_only_where_the_comment_plainly_says_so(
    comment: str | None, expected: str | None
) -> None:
    assert venue(comment) == expected


def test_a_bibtex_entry_keeps_its_braces_balanced() -> None:
    paper = as_paper(corpus.PAPERS[1])  # 2602.20004v2, with a DOI
    entry = bibtex(paper)
    assert entry.startswith("@misc{berg2026sparse,\n  title = {Sparse Codebooks for Neural")
    assert "author = {Jonas Berg and Priya Natarajan}" in entry
    assert "eprint = {2602.20004}" in entry and "doi = {10.0000/invented.2026.1}" in entry
    assert entry.count("{") == entry.count("}")
    # A title whose braces do not pair (or that ends in a backslash) cannot end the field.
    odd = bibtex(replace(paper, title="A {Broken} } Title \\"))
    assert "title = {A \\{Broken\\} \\} Title}," in odd
    kept = bibtex(replace(paper, title="The {HiFi-GAN} Vocoder"))
    assert "title = {The {HiFi-GAN} Vocoder}," in kept


@pytest.mark.parametrize(
    ("answer", "parts"),
    [
        ("1)  \n- a\n\n2)  \n- b\n\n3)  \n- c", ("- a", "- b", "- c")),
        (
            "**1) 背景**\n内容一\n**2) 方法**：内容二\n### 3) 效果\n内容三",
            ("背景\n内容一", "方法：内容二", "效果\n内容三"),
        ),
        ("1) 只有一部分\n2) 两部分", None),
    ],
)
def test_an_analysis_is_read_in_its_three_parts(answer: str, parts: tuple[str, ...] | None) -> None:
    assert analysis_parts(answer) == parts


def test_interests_come_first_under_the_cap_and_change_nothing_without_them(
    tmp_path: Path,
) -> None:
    bench = Bench.of(tmp_path)
    bench.configure(filter={"max_papers": 2, "interests": ["Hana Sato", "OVERLAPPED"]})
    bench.build(corpus.DAY)
    # 2602.20003v1 (by Hana Sato) and 2602.20001v1 (overlapped speech), the oldest two.
    assert bench.shown() == ["2602.20003v1", "2602.20001v1"]

    (tmp_path / "plain").mkdir()
    other = Bench.of(tmp_path / "plain")
    other.configure(filter={"max_papers": 2})
    other.build(corpus.DAY)
    assert other.shown() == ["2602.20005v1", "2602.20004v2"]


def test_the_post_lists_the_papers_not_shown_only_when_asked(tmp_path: Path) -> None:
    bench = Bench.of(tmp_path)
    bench.configure(filter={"max_papers": 2, "exclude_keywords": ["Mamba"]})
    bench.build(corpus.DAY)
    assert "未显示" not in bench.post().read_text(encoding="utf-8")

    bench.configure(
        filter={"max_papers": 2, "exclude_keywords": ["Mamba"]}, output={"list_unshown": True}
    )
    bench.render()

    post = bench.post().read_text(encoding="utf-8")
    assert post.endswith(
        "---\n\n窗口内未显示的论文（2 篇）：\n"
        "- [Listening in Rooms: Blind Reverberation Time Estimation with State-Space Models]"
        "(https://arxiv.org/abs/2602.20003v1)：含排除的关键词\n"
        "- [Counting Speakers in Overlapped Meetings](https://arxiv.org/abs/2602.20001v1)"
        "：超出每日上限\n"
    )
