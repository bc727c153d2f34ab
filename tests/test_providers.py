"""The models people run, as their providers serve them (the model stand-in's profiles):
reasoning in the content or beside it, answers cut at the output limit, content filters,
models that answer only when streamed. Reasoning, truncation and filters through the
installed `digest`; the real client against the stand-in for the rest.
"""

from __future__ import annotations

import asyncio
import gzip
import json
from pathlib import Path

import pytest

from arxiv_digest.answers.cache import AnswerKey
from arxiv_digest.answers.client import OpenAIChatModel
from arxiv_digest.answers.enrich import accept
from arxiv_digest.answers.executor import Completion
from arxiv_digest.answers.tasks import TRANSLATION, AnswerError, AnswerRules, Filtered
from arxiv_digest.config import LlmSettings
from arxiv_digest.record import read_record
from arxiv_digest.views.site import build_site, site_settings
from tests import corpus
from tests.conftest import API_KEY, Site
from tests.inprocess import Bench
from tests.standins import (
    REASONING,
    REASONING_FIELD,
    STREAM_ONLY,
    THINK_IN_CONTENT,
    FeedPaper,
    ModelStandIn,
    completion_reply,
    filtered_reply,
    running,
)

GOLDEN_POST = Path(__file__).parent / "golden" / f"{corpus.DAY}-arxiv.md"
SHOWN = ["2602.20005v1", "2602.20004v2", "2602.20003v1", "2602.20001v1"]


def record_of(site: Site) -> dict[str, dict[str, object]]:
    """The day's record: each shown paper's answers' texts and gaps, by arXiv id."""
    record = read_record(site.root / "_records" / f"{corpus.DAY}.json")
    assert record is not None
    return {
        shown.paper.arxiv_id: {
            "answers": {task: answer.text for task, answer in shown.answers.items()},
            "gaps": dict(shown.gaps),
        }
        for shown in record.papers
    }


def published_bytes(root: Path) -> dict[Path, bytes]:
    """Every file under `root` as a reader could come to read it (search fragments unpacked)."""
    found = {}
    for path in root.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            found[path] = gzip.decompress(data) if path.suffix == ".pf_fragment" else data
    return found


def test_a_thinking_models_reasoning_reaches_no_reader(site: Site) -> None:
    site.model.profile.add(THINK_IN_CONTENT)
    site.write_config(triage={"enabled": True})

    run = site.digest("build", "--date", corpus.DAY)
    assert run.status == 0, run.stderr
    built = site.digest("site")
    assert built.status == 0, built.stderr

    # Every answer recorded, each the answer and nothing of the thinking before it.
    answers = corpus.model_answers()
    for arxiv_id, shown in record_of(site).items():
        texts = shown["answers"]
        assert isinstance(texts, dict) and set(texts) == {"translation", "analysis", "triage"}
        assert texts["translation"] == answers[(arxiv_id, "translation")].strip()
    # Nowhere: the record, the post, the cache, every page and feed, the search index.
    files = published_bytes(site.root)
    assert any(path.suffix == ".pf_fragment" for path in files)
    for path, data in files.items():
        assert REASONING[:30].encode() not in data, path
        assert b"<think>" not in data, path


def test_reasoning_beside_the_answer_is_never_read_but_its_tokens_count(site: Site) -> None:
    site.model.profile.add(REASONING_FIELD)  # DeepSeek's reasoner: `reasoning_content`

    run = site.digest("build", "--date", corpus.DAY, "--report", "report.json")

    assert run.status == 0, run.stderr
    assert site.post().read_bytes() == GOLDEN_POST.read_bytes()
    report = json.loads((site.root / "report.json").read_text("utf-8"))
    answers_only = sum(len(corpus.model_answers()[(i, t)]) // 2
                       for i in SHOWN for t in ("translation", "analysis"))  # fmt: skip
    assert report["total"]["tokens_out"] == answers_only + 8 * (len(REASONING) // 2)


def test_an_answer_cut_at_the_output_limit_is_asked_once_more_then_a_gap(site: Site) -> None:
    # The corpus's analyses are 108–136 tokens: all are cut at 64, and all but one (136)
    # fit the second request's 128.
    site.write_config(llm={"max_output_tokens": {"analysis": 64}})

    run = site.digest("build", "--date", corpus.DAY)

    assert run.status == 3, run.stderr
    recorded = record_of(site)
    answers = corpus.model_answers()
    for arxiv_id in ("2602.20005v1", "2602.20004v2", "2602.20001v1"):
        texts = recorded[arxiv_id]["answers"]
        assert isinstance(texts, dict)
        assert texts["analysis"] == answers[(arxiv_id, "analysis")].strip()  # whole
    gap = recorded["2602.20003v1"]["gaps"]
    assert isinstance(gap, dict)
    assert gap["analysis"].startswith("cut off at the output limit")
    assert gap["analysis"].endswith("twice; raise llm.max_output_tokens.analysis")
    analysis_limits = [
        limit
        for (_, task), limit in zip(site.model.calls, site.model.limits, strict=True)
        if task == "analysis"
    ]
    assert sorted(analysis_limits) == [64] * 4 + [128] * 4
    assert "asking again with 128" in run.stderr
    # Nothing half: the paper without its analysis shows no analysis at all.
    post = site.post().read_text("utf-8")
    assert post.count("<summary>详细解读</summary>") == 3


def test_a_content_filter_is_asked_once_more_then_named_and_counted(site: Site) -> None:
    site.model.faults[("2602.20005v1", "translation")] = [filtered_reply("dashscope")] * 2
    site.model.faults[("2602.20004v2", "analysis")] = [filtered_reply("zhipu")]  # once

    run = site.digest("build", "--date", corpus.DAY, "--report", "report.json")

    assert run.status == 3, run.stderr
    recorded = record_of(site)
    assert recorded["2602.20005v1"]["gaps"] == {
        "translation": "the provider's content filter refused it:"
        " Input data may contain inappropriate content."
    }
    analysis = recorded["2602.20004v2"]["answers"]
    assert isinstance(analysis, dict) and "analysis" in analysis
    assert site.model.calls.count(("2602.20005v1", "translation")) == 2  # not more
    report = json.loads((site.root / "report.json").read_text("utf-8"))
    assert report["total"]["filtered"] == 1
    assert "Filtered: the provider's content filter refused 1 answer" in run.stderr


def test_a_stream_only_model_asks_for_the_setting_that_streams(site: Site) -> None:
    site.model.profile.add(STREAM_ONLY)  # DashScope's QwQ

    refused = site.digest("build", "--date", corpus.DAY)

    assert refused.status == 1
    assert refused.stderr.strip().splitlines()[-1] == (
        "Error: model 'standin-model' answers only when streamed; set llm.stream: true"
    )
    assert not site.post().exists()

    site.write_config(llm={"stream": True})
    streamed = site.digest("build", "--date", corpus.DAY, "--report", "report.json")

    assert streamed.status == 0, streamed.stderr
    assert site.post().read_bytes() == GOLDEN_POST.read_bytes()  # the same answers
    report = json.loads((site.root / "report.json").read_text("utf-8"))
    assert site.model.streamed == report["total"]["model_requests"] == 8
    assert report["total"]["tokens_in"] > 0 and report["total"]["tokens_out"] > 0


@pytest.mark.parametrize(
    ("provider", "reason"),
    [
        ("dashscope", "Input data may contain inappropriate content."),
        ("zhipu", "系统检测到输入或生成内容可能包含不安全或敏感内容"),
        ("moonshot", "The request was rejected because it was considered high risk"),
        ("deepseek", ""),
    ],
)
def test_each_providers_content_filter_is_recognised(provider: str, reason: str) -> None:
    model = ModelStandIn()
    model.faults[("", "translation")] = [filtered_reply(provider)]
    with running(model):
        error = asyncio.run(_complete(model))
    assert isinstance(error, Filtered), error
    assert str(error).startswith("the provider's content filter refused it") and reason in str(
        error
    )


async def _complete(model: ModelStandIn) -> Completion | AnswerError:
    """One request through the real client to `model`: its completion, or its error."""
    settings = LlmSettings(base_url=f"{model.url}/v1", model="standin-model", max_retries=0)
    client = OpenAIChatModel(settings, API_KEY)
    try:
        return await client.complete({"system": "s", "user": "u"}, 100)
    except AnswerError as error:
        return error
    finally:
        await client.close()


def test_an_answer_the_filter_stopped_or_the_limit_cut_is_never_accepted() -> None:
    key = AnswerKey("2602.20005v1", "translation", "m", "0" * 64)
    rules = AnswerRules()
    for finish_reason, error in (("content_filter", Filtered), ("length", AnswerError)):
        completion = Completion("我们提出一种方法。", 10, 5, finish_reason)
        with pytest.raises(error):
            accept(TRANSLATION, key, completion, rules)
    assert accept(TRANSLATION, key, Completion("我们提出一种方法。", 10, 5), rules).text


def test_a_completion_the_filter_stopped_is_read_as_filtered() -> None:
    """OpenAI's (and Azure's) filter: a 200 whose choice ends with `content_filter`."""
    model = ModelStandIn()
    model.faults[("", "translation")] = [
        completion_reply("standin-model", "", finish_reason="content_filter")
    ]
    with running(model):
        completion = asyncio.run(_complete(model))
    assert isinstance(completion, Completion) and completion.finish_reason == "content_filter"
    with pytest.raises(Filtered):
        accept(TRANSLATION, AnswerKey("2602.20005v1", "translation", "m", "0" * 64),
               completion, AnswerRules())  # fmt: skip


FAITHFUL_PAPER = FeedPaper(
    arxiv_id="2602.20050v1",
    title="Counting Clips with HuBERT",
    authors=["Ada Lin"],
    categories=["cs.SD"],
    abstract="HuBERT features cut the WER by 27.84% on 1,444 clips.",
    published=corpus.at("2026-02-12T12:00:00"),
)
FAITHFUL = "HuBERT 特征在 1444 个片段上将 WER 降低了 27.84 %。"
ALTERED = "Hubert 特征在 1,444 个片段上将 WER 降低了 28.74％。"  # renamed, and a figure altered


def test_a_translation_that_alters_a_figure_is_asked_again(tmp_path: Path) -> None:
    bench = Bench.of(tmp_path, [FAITHFUL_PAPER])
    replies = iter([ALTERED, FAITHFUL])
    bench.model.answerer = lambda arxiv_id, task: (
        next(replies) if task == "translation" else corpus.analysis_for("Clips")
    )

    bench.build(corpus.DAY)

    translation = bench.record().papers[0].answers["translation"]
    assert (translation.text, translation.unconfirmed) == (FAITHFUL, ())
    assert bench.model.calls.count((FAITHFUL_PAPER.arxiv_id, "translation")) == 2
    assert any("not in the translation: 27.84%, HuBERT" in line for line in bench.messages)


def test_a_translation_that_never_keeps_its_figures_is_kept_and_marked(tmp_path: Path) -> None:
    bench = Bench.of(tmp_path, [FAITHFUL_PAPER])
    bench.model.answerer = lambda arxiv_id, task: (
        ALTERED if task == "translation" else corpus.analysis_for("Clips") + "\n\n误差降低 12.5%。"
    )

    bench.build(corpus.DAY)

    answers = bench.record().papers[0].answers
    assert (answers["translation"].text, answers["translation"].unconfirmed) == (
        ALTERED,
        ("27.84%", "HuBERT"),
    )
    assert bench.model.calls.count((FAITHFUL_PAPER.arxiv_id, "translation")) == 3
    # The analysis' number the paper's text does not hold: listed, not refused.
    assert answers["analysis"].unconfirmed == ("12.5%",)
    post = bench.post().read_text("utf-8")
    assert "（译文里找不到原文的这些数字或名称，请以英文摘要为准：27.84%、HuBERT）" in post
    config = bench.config
    build_site(config.output.records_dir, tmp_path / "_public", site_settings(config, tmp_path))
    page = (tmp_path / "_public/2026/02/13/arxiv/index.html").read_text("utf-8")
    assert '请以英文摘要为准：<span lang="en">27.84%、HuBERT</span>' in page
    assert '请核对原文：<span lang="en">12.5%</span>' in page
