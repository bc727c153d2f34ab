"""A paper's text for its analysis: arXiv's HTML version (real LaTeXML output of our own TeX
sources, tests/fixtures/html/) read into sections, the PDF when there is none, and the
token budget that cuts by section priority; end to end through the installed `digest`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from arxiv_digest.answers import budget, htmltext
from tests import corpus
from tests.conftest import Site
from tests.standins import NO_HTML

FIXTURES = Path(__file__).parent / "fixtures" / "html"
ARTICLE = (FIXTURES / "2603.05001.html").read_bytes()
CONFERENCE = (FIXTURES / "2603.05002.html").read_bytes()


def test_an_html_paper_is_read_in_its_sections() -> None:
    sections = htmltext.paper_sections(ARTICLE)
    assert sections is not None
    assert [(section.heading, section.kind) for section in sections] == [
        ("", htmltext.FRONT),
        ("1 Introduction", htmltext.BODY),
        ("2 Related Work", htmltext.RELATED),
        ("3 Method", htmltext.BODY),
        ("4 Experiments", htmltext.BODY),
        ("5 Conclusion", htmltext.BODY),
        ("Acknowledgments", htmltext.ACKNOWLEDGEMENTS),
        ("Appendix A Simulation details", htmltext.APPENDIX),
        ("References", htmltext.REFERENCES),
    ]
    text = htmltext.as_text(sections)
    assert text.startswith("# Reverberation-Aware Speaker Embeddings with State-Space Encoders")
    # Formulas as their TeX, inline and displayed; subsections with their headings.
    assert "estimate of the reverberation time $T_{60}$ and train" in text
    assert (
        "$$ m(\\hat{T}_{60})=m_{0}+\\alpha\\min\\left(\\hat{T}_{60},T_{\\max}\\right), $$" in text
    )
    assert "### 3.2 Conditioned encoder" in text
    # A caption where its figure stands; a table's caption and its rows.
    assert "Figure 1: The encoder: state-space layers" in text
    assert "Table 1: Equal error rate and minDCF on simulated and real rooms.\n" in text
    assert "Ours | 2.7 / 3.0 | 0.21 / 0.23" in text
    # Paragraphs are lines of their own, not the TeX source's lines.
    assert "share a speaker. Systems trained on close-talk speech lose" in text
    # Stored and read back, the sections keep their kinds (what the budget cuts by).
    again = htmltext.section_kinds(text)
    assert [section.kind for section in again] == [section.kind for section in sections]


def test_footnotes_running_heads_and_a_plot_s_labels_are_not_text() -> None:
    text = htmltext.as_text(htmltext.paper_sections(CONFERENCE) or [])
    assert "example.org" not in text  # affiliations in footnotes
    assert "do not distribute" not in text and "anonymous review copy" not in text
    assert "against $T_{60}$ (s)" not in text and "front end}" not in text  # the plot's labels
    assert "Figure 2: Equal error rate against reverberation time" in text


@pytest.mark.parametrize(
    "page", [NO_HTML, b"", b"\xff\xfe not html", b"<html><body><p>A notice.</p>"]
)
def test_a_page_that_is_not_a_latexml_paper_is_not_read(page: bytes) -> None:
    assert htmltext.paper_sections(page) is None


def test_references_never_reach_the_model() -> None:
    text = htmltext.model_input(htmltext.as_text(htmltext.paper_sections(ARTICLE) or []), 10**6)
    assert "## References" not in text and "Nakatani" not in text
    assert "## Appendix A Simulation details" in text  # cut only by the budget


def test_the_budget_cuts_by_section_priority() -> None:
    text = htmltext.as_text(htmltext.paper_sections(ARTICLE) or [])
    counter = budget.ESTIMATE
    whole = counter.count(text)
    assert budget.within_budget(text, whole, counter).cut == ()
    cuts = []
    for room in range(whole - 1, 100, -25):
        fitted = budget.within_budget(text, room, counter)
        assert fitted.tokens <= room, room
        if fitted.cut not in cuts:
            cuts.append(fitted.cut)
    # Each budget cuts a prefix of one order: references, acknowledgements, the appendix,
    # related work, the introduction; then the longest section left gives up its end.
    order = ["References", "Acknowledgments", "Appendix A Simulation details",
             "2 Related Work", "1 Introduction"]  # fmt: skip
    for cut in cuts:
        assert list(cut[: len(order)]) == order[: len(cut[: len(order)])], cut
    assert cuts[-1][: len(order)] == tuple(order)
    assert any(label.startswith("the end of ") for label in cuts[-1])
    # Methods and results stay longest, and the title and abstract last of all.
    last = budget.within_budget(text, 300, counter).text
    assert last.startswith("# Reverberation-Aware") and "## Abstract" in last


def test_a_text_without_sections_is_shortened_from_its_end() -> None:
    text = "\n\n".join(f"Paragraph {number} says something about rooms." for number in range(200))
    fitted = budget.within_budget(text, 500, budget.ESTIMATE)
    assert fitted.cut == ("the end of the text",)
    assert fitted.text.startswith("Paragraph 0 ") and fitted.tokens <= 500
    assert fitted.text.endswith("rooms.")  # at a paragraph's or a sentence's end


def test_openai_models_are_counted_with_their_tokenizer() -> None:
    exact = budget.counter_for("gpt-4-turbo")
    assert exact.name == "cl100k_base"
    assert exact.count("hello world") == 2  # [15339, 1917] in cl100k_base
    assert budget.counter_for("deepseek-chat") is budget.ESTIMATE
    assert budget.counter_for("gpt-4o-mini") is budget.ESTIMATE  # o200k_base: not at hand


def _analysis_requests(site: Site) -> dict[str, str]:
    """The user message of each analysis request, by arXiv id."""
    found = {}
    for _, path, body in site.model.requests:
        if path.endswith("/chat/completions"):
            user = next(m["content"] for m in json.loads(body)["messages"] if m["role"] == "user")
            if "Task: analysis" in user:
                found[user.split("arXiv ID：", 1)[1].split("\n", 1)[0]] = user
    return found


def test_a_day_reads_html_first_and_the_pdf_without_it(site: Site) -> None:
    site.pdfs.htmls["2602.20005v1"] = ARTICLE
    site.digest_ok("build", "--date", corpus.DAY)

    answers = {
        shown["paper"]["arxiv_id"]: shown["answers"]["analysis"]
        for shown in json.loads(site.root.joinpath(f"_records/{corpus.DAY}.json").read_text())[
            "papers"
        ]
    }
    assert {arxiv_id: answer["source"] for arxiv_id, answer in answers.items()} == {
        "2602.20005v1": "html", "2602.20004v2": "pdf", "2602.20003v1": "pdf",
        "2602.20001v1": "pdf",
    }  # fmt: skip
    assert all(answer["cut"] == [] for answer in answers.values())
    requests = _analysis_requests(site)
    html_read = requests["2602.20005v1"]
    assert "## 3 Method" in html_read and "Ours | 2.7 / 3.0" in html_read
    assert "## References" not in html_read and "Nakatani" not in html_read
    assert "Method section line" in requests["2602.20004v2"]  # the stand-in PDF's text
    assert site.pdfs.html_requests == 4 and site.pdfs.downloads == 3


def test_a_long_paper_is_cut_to_its_budget_and_the_record_says_what_went(site: Site) -> None:
    site.pdfs.htmls["2602.20005v1"] = ARTICLE
    site.write_config(llm={"max_input_tokens": {"analysis": 1000}})
    site.digest_ok("build", "--date", corpus.DAY)

    record = json.loads(site.root.joinpath(f"_records/{corpus.DAY}.json").read_text())
    analysis = record["papers"][0]["answers"]["analysis"]
    assert analysis["source"] == "html"
    assert analysis["cut"][:2] == ["Acknowledgments", "Appendix A Simulation details"]
    request = _analysis_requests(site)["2602.20005v1"]
    assert "## 4 Experiments" in request and "## Appendix A" not in request


def test_without_html_url_only_the_pdf_is_read(site: Site) -> None:
    site.pdfs.htmls["2602.20005v1"] = ARTICLE
    site.write_config(arxiv={"html_url": ""})
    site.digest_ok("build", "--date", corpus.DAY)
    assert site.pdfs.html_requests == 0
    assert "## 3 Method" not in _analysis_requests(site)["2602.20005v1"]
