"""A day is data: the record is written first, posts are rendered from it alone, broken
records are refused by file and JSON path, and existing posts are imported into records."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from arxiv_digest.errors import BadInputError
from arxiv_digest.record import SCHEMA, RecordError, read_record, to_json
from tests import corpus
from tests.conftest import DIGEST, SHARED
from tests.inprocess import Bench
from tests.test_reference_posts import with_declared_fixes

EXAMPLES = sorted((SHARED / "examples").glob("*-arxiv.md"))


def digest(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The installed command, for what needs neither network nor key (render, import)."""
    return subprocess.run(
        [str(DIGEST), *args], cwd=root, capture_output=True, text=True, timeout=60, check=False
    )


def test_the_record_holds_every_paper_of_the_window_and_why(tmp_path: Path) -> None:
    bench = Bench.of(tmp_path)
    bench.texts.texts.pop("2602.20003v1")
    bench.configure(filter={"exclude_keywords": ["meetings"]})

    report = bench.build(corpus.DAY)

    record = bench.record()
    assert (record.in_window, len(record.papers), record.unaccounted) == (4, 3, 0)
    assert [(left.paper.arxiv_id, left.reason) for left in record.not_shown] == [
        ("2602.20001v1", "filter.exclude_keywords")
    ]
    codec = record.papers[1]
    assert codec.paper.comment == "Accepted to an invented workshop; 5 pages"
    assert codec.paper.doi == "10.0000/invented.2026.1"
    assert list(codec.answers) == ["translation", "analysis"]
    assert codec.answers["analysis"].model == "standin-model"
    assert len(codec.answers["analysis"].prompt_sha256 or "") == 64
    assert codec.answers["analysis"].tokens_in > 0
    missing = record.papers[2]
    assert "analysis" not in missing.answers
    assert missing.gaps == {"analysis": "PDF download failed: HTTP 404"}
    assert report.incomplete
    # Deterministic bytes: the same record, written again, is the same file.
    assert bench.record_path().read_text(encoding="utf-8") == to_json(record)
    assert not re.search(r"\\u[0-9a-f]{4}", bench.record_path().read_text(encoding="utf-8"))


def test_a_gap_is_filled_by_the_next_build_and_nothing_else_is_asked(tmp_path: Path) -> None:
    bench = Bench.of(tmp_path)
    text = bench.texts.texts.pop("2602.20003v1")
    bench.build(corpus.DAY)
    calls = len(bench.model.calls)

    bench.texts.texts["2602.20003v1"] = text
    bench.build(corpus.DAY)

    assert bench.model.calls[calls:] == [("2602.20003v1", "analysis")]
    assert bench.record().papers[2].gaps == {}
    assert "详细解读" in bench.post().read_text(encoding="utf-8").split("## ")[3]


def test_render_follows_a_template_change_and_leaves_unchanged_posts_alone(tmp_path: Path) -> None:
    bench = Bench.of(tmp_path)
    bench.build(corpus.DAY)
    bench.build("2026-02-14")
    untouched = bench.post().stat().st_mtime_ns
    assert bench.render() == []
    assert bench.post().stat().st_mtime_ns == untouched

    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "post.md.j2").write_text(
        "{{ date }}: {% for entry in entries %}{{ entry.arxiv_id }} {% endfor %}\n",
        encoding="utf-8",
    )
    calls = len(bench.model.calls)

    written = bench.render()

    assert written == [bench.post(corpus.DAY), bench.post("2026-02-14")]
    assert bench.post().read_text(encoding="utf-8") == (
        "2026-02-13: 2602.20005v1 2602.20004v2 2602.20003v1 2602.20001v1 "
    )
    assert len(bench.model.calls) == calls


def test_a_broken_record_is_named_by_file_and_json_path_and_nothing_is_written(
    tmp_path: Path,
) -> None:
    bench = Bench.of(tmp_path)
    bench.build(corpus.DAY)
    record = json.loads(bench.record_path().read_text(encoding="utf-8"))
    record["papers"][2]["answers"]["translation"]["text"] = 42
    bench.record_path().write_text(json.dumps(record), encoding="utf-8")
    broken = bench.record_path().read_bytes()
    bench.post().unlink()

    run = digest(tmp_path, "render")

    assert run.returncode == 2
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1
    assert f"{bench.record_path()} at $.papers[2].answers.translation.text:" in lines[0]
    assert "git checkout" in lines[0]
    assert not bench.post().exists()
    # A build refuses it as well, before any request, and leaves it as it was.
    with pytest.raises(RecordError):
        bench.build(corpus.DAY)
    assert bench.record_path().read_bytes() == broken
    assert bench.source.requests_made == 1


@pytest.mark.parametrize(
    ("edit", "where"),
    [
        (lambda r: r.update(extra=1), "$.extra"),
        (lambda r: r["papers"][0]["paper"].update(arxiv_id="javascript:alert(1)"), "arxiv_id"),
        (lambda r: r["window"].update(start="2026-02-12T08:50:00"), "$.window.start"),
        (lambda r: r.update(in_window=1), "$.in_window"),
        (lambda r: r.pop("papers"), "$.papers"),
        (
            lambda r: r["papers"][0].update(pending={"analysis": "../files/file-1/content"}),
            "$.papers[0].pending.analysis",
        ),
    ],
)
def test_hand_edits_that_cannot_be_published_are_refused(
    tmp_path: Path, edit: object, where: str
) -> None:
    bench = Bench.of(tmp_path)
    bench.build(corpus.DAY)
    record = json.loads(bench.record_path().read_text(encoding="utf-8"))
    edit(record)  # type: ignore[operator]
    bench.record_path().write_text(json.dumps(record), encoding="utf-8")

    with pytest.raises(RecordError, match=re.escape(where)):
        read_record(bench.record_path())


def test_corrupt_json_and_a_newer_schema_are_refused(tmp_path: Path) -> None:
    bench = Bench.of(tmp_path)
    bench.build(corpus.DAY)
    text = bench.record_path().read_text(encoding="utf-8")

    bench.record_path().write_text(text[:200], encoding="utf-8")
    with pytest.raises(RecordError, match=r"line \d+, column \d+: invalid JSON"):
        read_record(bench.record_path())

    newer = text.replace(f'"schema": {SCHEMA}', f'"schema": {SCHEMA + 1}')
    bench.record_path().write_text(newer, encoding="utf-8")
    with pytest.raises(
        BadInputError, match=f"schema {SCHEMA + 1}, written by a newer arxiv-digest"
    ):
        read_record(bench.record_path())


def test_a_post_without_a_record_is_never_overwritten(tmp_path: Path) -> None:
    bench = Bench.of(tmp_path)
    bench.post().parent.mkdir(parents=True)
    bench.post().write_text("a post another tool wrote\n", encoding="utf-8")

    with pytest.raises(BadInputError, match="digest import"):
        bench.build(corpus.DAY)

    assert bench.post().read_text(encoding="utf-8") == "a post another tool wrote\n"
    assert bench.model.calls == []


@pytest.mark.skipif(not EXAMPLES, reason="../shared/examples is not present")
def test_imported_reference_posts_render_back_byte_for_byte(tmp_path: Path) -> None:
    posts = tmp_path / "_posts"
    posts.mkdir()
    for example in EXAMPLES:
        (posts / example.name).write_bytes(example.read_bytes())
    (tmp_path / "config.yaml").write_text("", encoding="utf-8")

    imported = digest(tmp_path, "import")
    assert imported.returncode == 0, imported.stderr
    for path in posts.iterdir():
        path.unlink()
    rendered = digest(tmp_path, "render")

    assert rendered.returncode == 0, rendered.stderr
    for example in EXAMPLES:
        expected = with_declared_fixes(example.read_text(encoding="utf-8"))
        assert (posts / example.name).read_bytes() == expected.encode("utf-8"), example.name
    record = json.loads((tmp_path / "_records" / f"{EXAMPLES[0].name[:10]}.json").read_text())
    assert record["imported_from"] == EXAMPLES[0].name
    assert all(p["answers"]["translation"]["model"] is None for p in record["papers"])
    # Formulas stay in the record as the model wrote them; only the post's form changes.
    assert any("\\(" in p["answers"]["analysis"]["text"] for p in record["papers"])


def imported_day(bench: Bench) -> Path:
    """A post in the reference format with a failed analysis and an untranslated abstract."""
    post = bench.post()
    post.parent.mkdir(parents=True, exist_ok=True)
    post.write_text(
        '---\nlayout: post\ntitle: "arXiv Daily – 2026-02-13"\ntags: [arxiv, cs.SD, eess.AS]\n'
        "---\n\n以下为 2026-02-13（CST，北京时间）窗口内更新的论文中文译文：\n"
        "- 时间窗口（锚点 08:50 CST）：2026-02-12 08:50 — 2026-02-13 08:50\n"
        "- 抓取总数：5 篇 | 本页显示：2 篇（去重/过滤后）\n\n"
        "## Imported One\n- **Authors**: A. One, B. Two\n- **Categories**: cs.SD\n"
        "- **arXiv**: [https://arxiv.org/abs/2602.10001v2](https://arxiv.org/abs/2602.10001v2)\n"
        "- **PDF**: [https://arxiv.org/pdf/2602.10001v2](https://arxiv.org/pdf/2602.10001v2)\n\n"
        "第一篇的译文。\n\n（全文解读失败：HTTP 500）\n\n---\n\n"
        "## Imported Two\n- **Authors**: C. Three\n- **Categories**: eess.AS, cs.SD\n"
        "- **arXiv**: [https://arxiv.org/abs/2602.10002v1](https://arxiv.org/abs/2602.10002v1)\n"
        "- **PDF**: [https://arxiv.org/pdf/2602.10002v1](https://arxiv.org/pdf/2602.10002v1)\n\n"
        "An English abstract, shown where the translation failed.\n\n---\n",
        encoding="utf-8",
    )
    return post


def test_import_turns_failure_text_and_english_abstracts_into_gaps(tmp_path: Path) -> None:
    bench = Bench.of(tmp_path)
    result = bench.import_posts(imported_day(bench))

    assert result.imported == [bench.record_path()] and result.failed == []
    record = bench.record()
    one, two = record.papers
    assert one.answers["translation"].text == "第一篇的译文。"
    assert one.gaps == {"analysis": "the original tool's analysis failed: HTTP 500"}
    assert two.paper.abstract == "An English abstract, shown where the translation failed."
    assert set(two.gaps) == {"translation", "analysis"}
    assert (record.in_window, record.unaccounted) == (5, 3)
    assert one.paper.published is None and one.paper.primary_category is None


def test_a_refresh_after_import_keeps_every_imported_paper_and_fills_gaps(tmp_path: Path) -> None:
    bench = Bench.of(tmp_path)
    bench.import_posts(imported_day(bench))
    bench.texts.texts.update({"2602.10001v2": "Text one.", "2602.10002v1": "Text two."})
    bench.model.answers[("2602.10002v1", "translation")] = "第二篇的译文。"
    for arxiv_id in ("2602.10001v2", "2602.10002v1"):
        bench.model.answers[(arxiv_id, "analysis")] = corpus.analysis_for(arxiv_id)
    bench.configure(filter={"max_papers": 3})

    bench.build(corpus.DAY)

    # The imported papers stay, in their order; the cap left room for one paper of the window.
    assert bench.shown() == ["2602.20005v1", "2602.10001v2", "2602.10002v1"]
    assert sorted(bench.model.calls) == sorted(
        [
            ("2602.20005v1", "translation"), ("2602.20005v1", "analysis"),
            ("2602.10001v2", "analysis"),
            ("2602.10002v1", "translation"), ("2602.10002v1", "analysis"),
        ]
    )  # fmt: skip
    record = bench.record()
    assert all(not shown.gaps for shown in record.papers)
    assert record.papers[1].answers["translation"].model is None  # the imported text stays
    assert record.in_window == 6 and record.unaccounted == 0
    assert record.imported_from == bench.post().name


def test_a_post_not_in_the_format_is_named_by_line_and_the_rest_are_imported(
    tmp_path: Path,
) -> None:
    bench = Bench.of(tmp_path)
    good = imported_day(bench)
    bad = good.with_name("2026-02-14-arxiv.md")
    bad.write_text(
        good.read_text(encoding="utf-8")
        .replace("2026-02-13", "2026-02-14")
        .replace("- **Categories**: eess.AS, cs.SD\n", ""),
        encoding="utf-8",
    )

    run = digest(tmp_path, "import")

    assert run.returncode == 2
    assert f"Not imported: {bad}:25: expected `- **Categories**: …`" in run.stderr
    assert run.stdout.strip() == str(bench.record_path())
    assert not bench.record_path("2026-02-14").exists()
    again = digest(tmp_path, "import", str(good))
    assert f"Skipped {good}: {bench.record_path()} exists already" in again.stderr


def test_an_answer_over_the_ceiling_is_a_gap_with_its_reason(tmp_path: Path) -> None:
    bench = Bench.of(tmp_path)
    bench.configure(llm={"max_answer_chars": 1000, "max_attempts": 2})
    bench.model.answers[("2602.20003v1", "translation")] = "很长的译文。" * 500

    bench.build(corpus.DAY)

    assert bench.record().papers[2].gaps == {
        "translation": "the answer has 3000 characters, over llm.max_answer_chars (1000)"
        " after 2 attempts"
    }
    assert bench.model.calls.count(("2602.20003v1", "translation")) == 2
