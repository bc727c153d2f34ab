"""Cost before spending: a large run shows its plan and asks first; a cap leaves gaps."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from arxiv_digest.build import RunPlan
from arxiv_digest.errors import BadInputError
from tests import corpus
from tests.conftest import Site
from tests.inprocess import Bench


def test_a_run_over_the_threshold_is_put_to_confirm_and_a_refusal_spends_nothing(
    tmp_path: Path,
) -> None:
    bench = Bench.of(tmp_path)
    bench.configure(llm={"confirm_above_requests": 3})
    plans: list[RunPlan] = []

    with pytest.raises(BadInputError, match="not confirmed"):
        bench.build(corpus.DAY, confirm=lambda plan: plans.append(plan) or False)

    (plan,) = plans
    assert (plan.days, plan.papers, plan.requests) == (1, 4, 8)
    assert plan.estimate.requests_by_task == {"translation": 4, "analysis": 4}
    assert plan.estimate.tokens_in > 0 and plan.estimate.tokens_out == 4 * 500 + 4 * 1500
    assert bench.model.calls == []
    assert not bench.record_path().exists() and not bench.post().exists()


def test_a_cap_asks_that_many_and_leaves_the_rest_as_gaps(tmp_path: Path) -> None:
    bench = Bench.of(tmp_path)

    report = bench.build(corpus.DAY, max_requests=3)

    assert len(bench.model.calls) == 3
    assert report.incomplete
    gaps = [gap for day in report.days for gap in day.gaps]
    assert len(gaps) == 5
    assert gaps[0].reason == "not asked: --max-requests 3 was reached; run again to continue"

    bench.build(corpus.DAY)  # the next run fills the gaps
    assert len(bench.model.calls) == 8
    assert not any(shown.gaps for shown in bench.record().papers)


def test_answers_the_cache_holds_cost_nothing_and_ask_no_question(tmp_path: Path) -> None:
    bench = Bench.of(tmp_path)
    bench.build(corpus.DAY)
    shutil.rmtree(tmp_path / "_records")
    shutil.rmtree(tmp_path / "_posts")
    bench.configure(llm={"confirm_above_requests": 0})

    def refuse(plan: RunPlan) -> bool:
        raise AssertionError(f"asked about {plan.requests} requests")

    bench.build(corpus.DAY, confirm=refuse)
    assert len(bench.model.calls) == 8  # none again


def test_a_large_run_refuses_without_a_terminal_and_goes_ahead_when_told(site: Site) -> None:
    site.write_config(llm={"confirm_above_requests": 3})

    refused = site.digest("build", "--date", corpus.DAY)
    assert refused.status == 2
    assert refused.stderr.strip().splitlines()[-1] == (
        "Error: this run would make 8 model requests, more than llm.confirm_above_requests (3);"
        " pass --yes to go ahead, or --max-requests N to cap it (the rest is left for the next run)"
    )
    assert "Plan: 1 day, 4 papers to enrich, 8 model requests (4 translation, 4 analysis)" in (
        refused.stderr
    )
    assert site.model.calls == [] and not (site.root / "_records").exists()

    capped = site.digest("build", "--date", corpus.DAY, "--max-requests", "2")
    assert capped.status == 3 and len(site.model.calls) == 2

    agreed = site.digest("build", "--date", corpus.DAY, "--yes")
    assert agreed.status == 0, agreed.stderr
    assert len(site.model.calls) == 8
