"""The run report: per date what was found, shown and spent; as text, JSON and Markdown."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from arxiv_digest.answers.tasks import ANALYSIS, TASKS, Task
from arxiv_digest.audit import Audit
from arxiv_digest.config import LlmSettings
from arxiv_digest.models import Gap, Pending, Usage
from arxiv_digest.record import DayRecord
from arxiv_digest.sources.announce import Announcement

# An analysis failing now and then is a PDF problem; this many at once is the provider's.
_MANY_FAILED_ANALYSES = 3
_MANY_FAILED_SHARE = 0.25


@dataclass(frozen=True)
class DayReport:
    day: date
    in_window: int
    new: int
    shown: int
    complete: int
    usage: Usage
    post_path: Path | None
    """Where the post is; None when the window held nothing to show."""
    changed: bool
    gaps: tuple[Gap, ...]
    pending: tuple[Pending, ...] = ()
    """Answers waiting in a provider's batch, for a later run to collect."""
    settled: bool = False
    served_by: str = ""
    """The arXiv service that answered the fetch of the day's window."""

    @classmethod
    def of(
        cls,
        record: DayRecord,
        new: int,
        usage: Usage,
        post_path: Path | None,
        changed: bool,
        tasks: Sequence[Task] = TASKS,
        served_by: str = "",
    ) -> DayReport:
        """The report of a day built into `record`, `new` of its papers added this run;
        a paper is complete when every task of `tasks` has its answer."""
        return cls(
            day=record.day,
            in_window=record.in_window,
            new=new,
            shown=len(record.papers),
            complete=sum(
                1 for shown in record.papers if all(task.name in shown.answers for task in tasks)
            ),
            usage=usage,
            post_path=post_path,
            changed=changed,
            gaps=tuple(
                Gap(shown.paper.arxiv_id, task, reason)
                for shown in record.papers
                for task, reason in shown.gaps.items()
            ),
            pending=tuple(
                Pending(shown.paper.arxiv_id, task, batch_id)
                for shown in record.papers
                for task, batch_id in shown.pending.items()
            ),
            settled=record.settled,
            served_by=served_by,
        )

    @property
    def incomplete(self) -> int:
        return self.shown - self.complete

    @property
    def flags(self) -> list[str]:
        """What looks wrong enough for a person to check."""
        flags = []
        # Before arXiv announces a window, an empty one is expected, not a problem.
        if self.in_window == 0 and self.settled and self.day.weekday() < 5:
            flags.append("empty window on a weekday, though arXiv has announced it")
        failed = sum(1 for gap in self.gaps if gap.task == ANALYSIS.name)
        if failed >= _MANY_FAILED_ANALYSES and failed >= _MANY_FAILED_SHARE * self.shown:
            flags.append(f"{failed} of {self.shown} analyses failed")
        return flags


@dataclass
class RunReport:
    days: list[DayReport] = field(default_factory=list)
    arxiv_requests: int = 0
    pdf_downloads: int = 0
    """Papers' texts downloaded, HTML pages and PDFs (its JSON key is kept for readers of it)."""
    peak_concurrent_requests: int = 0
    elapsed_seconds: float = 0.0
    by_task: dict[str, Usage] = field(default_factory=dict)
    """What each task cost, over every day."""
    announcement: Announcement | None = None
    """Today's listing; None when it was not read."""
    audit: Audit | None = None
    filtered: int = 0
    """Answers the provider's content filter refused (each asked twice): gaps, whose
    reason names the filter."""

    def announcement_lines(self, bullet: str = "  ") -> list[str]:
        """Whether arXiv announced today, and the audit of that listing against the records,
        its details each after `bullet`."""
        if self.announcement is None:
            return ["arXiv's listing was not read: no window was settled"]
        if self.announcement.listing_day is None:
            return ["arXiv made no announcement today"]
        if self.audit is None:
            return [
                f"arXiv's listing of {self.announcement.listing_day:%a %d %b %Y}: not audited,"
                " the run does not build its day"
            ]
        audit = self.audit
        late = f" ({audit.late_papers} of them joined their days late)" if audit.late_papers else ""
        recorded = audit.announced - len(audit.findings) - audit.unbuilt_papers
        lines = [
            f"arXiv's listing of {self.announcement.listing_day:%a %d %b %Y}:"
            f" {plural(audit.announced, 'paper')} announced in the site's categories,"
            f" {recorded} in their records{late}"
        ]
        lines += [
            f"{bullet}not recorded: {item.arxiv_id}: {item.reason}" for item in audit.findings
        ]
        if audit.unbuilt:
            days = ", ".join(str(day) for day in sorted(audit.unbuilt))
            count = audit.unbuilt_papers
            lines.append(
                f"{bullet}{plural(count, 'paper')} of the listing {'belongs' if count == 1 else 'belong'}"
                " to days the site has not built"
                f" ({days}); `digest build --date DAY` adds a day"
            )
        return lines

    def filtered_lines(self) -> list[str]:
        """What the provider's content filter kept from the digest, if anything."""
        if not self.filtered:
            return []
        return [
            f"Filtered: the provider's content filter refused {plural(self.filtered, 'answer')}"
            " (see missing); another provider or model may answer them"
        ]

    @property
    def usage(self) -> Usage:
        total = Usage()
        for day in self.days:
            total.add(day.usage)
        return total

    @property
    def incomplete(self) -> bool:
        return any(day.gaps for day in self.days)

    def to_json(self, prices: LlmSettings) -> dict[str, Any]:
        return {
            "days": [
                {
                    "date": day.day.isoformat(),
                    "in_window": day.in_window,
                    "new": day.new,
                    "shown": day.shown,
                    "complete": day.complete,
                    "incomplete": day.incomplete,
                    **_usage_json(day.usage, prices),
                    "post": str(day.post_path) if day.post_path else None,
                    "changed": day.changed,
                    "missing": [
                        {"arxiv_id": gap.arxiv_id, "task": gap.task, "reason": gap.reason}
                        for gap in day.gaps
                    ],
                    "pending": [
                        {"arxiv_id": item.arxiv_id, "task": item.task, "batch": item.batch_id}
                        for item in day.pending
                    ],
                    "flags": day.flags,
                    "settled": day.settled,
                    "source": day.served_by,
                }
                for day in self.days
            ],
            "announcement": self._announcement_json(),
            "total": {
                **_usage_json(self.usage, prices),
                "arxiv_requests": self.arxiv_requests,
                "pdf_downloads": self.pdf_downloads,
                "peak_concurrent_requests": self.peak_concurrent_requests,
                "filtered": self.filtered,
                "elapsed_seconds": round(self.elapsed_seconds, 3),
                "by_task": {
                    task: _usage_json(usage, prices) for task, usage in self.by_task.items()
                },
            },
        }

    def _announcement_json(self) -> dict[str, Any] | None:
        if self.announcement is None:
            return None
        audit = self.audit or Audit()
        listing = self.announcement.listing_day
        return {
            "listing": listing.isoformat() if listing else None,
            "audited": self.audit is not None,
            "announced": audit.announced,
            "late": audit.late_papers,
            "not_recorded": [
                {"arxiv_id": item.arxiv_id, "reason": item.reason} for item in audit.findings
            ],
            "unbuilt_days": {day.isoformat(): ids for day, ids in sorted(audit.unbuilt.items())},
        }

    def to_markdown(self, prices: LlmSettings) -> str:
        lines = [
            "### arxiv-digest run",
            "",
            "| date | in window | new | shown | complete | incomplete | requests | cache hits"
            " | tokens in | tokens out | cost | settled | source | flags |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |"
            " --- |",
        ]
        for day in self.days:
            lines.append(
                f"| {day.day} | {day.in_window} | {day.new} | {day.shown} | {day.complete}"
                f" | {day.incomplete} | {day.usage.model_requests} | {day.usage.cache_hits}"
                f" | {day.usage.tokens_in} | {day.usage.tokens_out}"
                f" | {_cost_text(day.usage, prices)} | {'yes' if day.settled else 'no'}"
                f" | {day.served_by} | {'; '.join(day.flags) or ''} |"
            )
        usage = self.usage
        lines += [
            "",
            f"Total: {usage.model_requests} model requests, {usage.cache_hits} cache hits,"
            f" {usage.tokens_in} tokens in, {usage.tokens_out} tokens out,"
            f" cost {_cost_text(usage, prices)}; {self.arxiv_requests} arXiv requests,"
            f" {self.pdf_downloads} papers' texts downloaded (HTML or PDF); {self.elapsed_seconds:.1f} s.",
            *self.filtered_lines(),
            "",
            *self.announcement_lines(bullet="- "),
        ]
        if self.by_task:
            lines += ["", "| task | requests | tokens in | tokens out | cost |"]
            lines += ["| --- | ---: | ---: | ---: | ---: |"]
            lines += [
                f"| {task} | {usage.model_requests} | {usage.tokens_in} | {usage.tokens_out}"
                f" | {_cost_text(usage, prices)} |"
                for task, usage in self.by_task.items()
            ]
        missing = [(day.day, gap) for day in self.days for gap in day.gaps]
        if missing:
            lines += ["", "Missing (a rerun fills these):", ""]
            lines += [f"- {day} {gap.arxiv_id} {gap.task}: {gap.reason}" for day, gap in missing]
        pending = [item for day in self.days for item in day.pending]
        if pending:
            lines += ["", "Waiting in the provider's batches (a later run collects them):", ""]
            lines += _pending_lines(pending, bullet="- ")
        return "\n".join(lines) + "\n"

    def to_text(self, prices: LlmSettings) -> list[str]:
        lines = []
        for day in self.days:
            where = "nothing written"
            if day.post_path is not None:
                where = f"{day.post_path} ({'written' if day.changed else 'unchanged'})"
            state = "settled" if day.settled else "not settled"
            lines.append(
                f"{day.day}: {day.in_window} in window, {day.new} new, {day.shown} shown,"
                f" {day.complete} complete → {where}; {state}, via {day.served_by}"
            )
            lines += [f"  missing {gap.arxiv_id} {gap.task}: {gap.reason}" for gap in day.gaps]
            lines += _pending_lines(day.pending)
            lines += [f"  check: {flag}" for flag in day.flags]
        lines += self.announcement_lines()
        usage = self.usage
        at_once = (
            f" (at most {self.peak_concurrent_requests} at once)" if usage.model_requests else ""
        )
        lines.append(
            f"Model: {plural(usage.model_requests, 'request')}{at_once},"
            f" {plural(usage.cache_hits, 'cache hit')}, {plural(usage.tokens_in, 'token')} in,"
            f" {plural(usage.tokens_out, 'token')} out, cost {_cost_text(usage, prices)};"
            f" arXiv: {plural(self.arxiv_requests, 'request')};"
            f" papers' texts: {self.pdf_downloads} downloaded (HTML or PDF); {self.elapsed_seconds:.1f} s"
        )
        if usage.batched_requests:
            lines.append(
                f"Batch: {plural(usage.batched_requests, 'answer')} collected,"
                f" {plural(usage.batched_tokens_in, 'token')} in and {usage.batched_tokens_out} out"
                f" priced at {prices.batch_discount:g} of the direct price (llm.batch_discount)"
            )
        lines += self.filtered_lines()
        if any(usage.model_requests for usage in self.by_task.values()):
            lines.append(
                "By task: "
                + "; ".join(
                    f"{task} {plural(usage.model_requests, 'request')},"
                    f" {plural(usage.tokens_in, 'token')} in, {usage.tokens_out} out,"
                    f" cost {_cost_text(usage, prices)}"
                    for task, usage in self.by_task.items()
                )
            )
        return lines


def plural(count: int, noun: str) -> str:
    """`1 request`, `2 requests`."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def cost_usd(usage: Usage, prices: LlmSettings) -> float | None:
    """The estimated cost, when prices are configured: a batch's tokens at
    `llm.batch_discount` of the price."""
    if prices.input_price_per_million is None and prices.output_price_per_million is None:
        return None
    discount = prices.batch_discount
    tokens_in = usage.tokens_in - usage.batched_tokens_in + discount * usage.batched_tokens_in
    tokens_out = usage.tokens_out - usage.batched_tokens_out + discount * usage.batched_tokens_out
    return (
        tokens_in * (prices.input_price_per_million or 0.0)
        + tokens_out * (prices.output_price_per_million or 0.0)
    ) / 1_000_000


def _pending_lines(pending: Sequence[Pending], bullet: str = "  ") -> list[str]:
    """`waiting in batch batch_1: 40 answers; …`, a line a batch, each after `bullet`."""
    by_batch = Counter(item.batch_id for item in pending)
    return [
        f"{bullet}waiting in batch {batch_id}: {plural(count, 'answer')}; a later run collects them"
        for batch_id, count in by_batch.items()
    ]


def _cost_text(usage: Usage, prices: LlmSettings) -> str:
    cost = cost_usd(usage, prices)
    return "n/a" if cost is None else f"${cost:.4f}"


def _usage_json(usage: Usage, prices: LlmSettings) -> dict[str, Any]:
    cost = cost_usd(usage, prices)
    return {
        "model_requests": usage.model_requests,
        "cache_hits": usage.cache_hits,
        "tokens_in": usage.tokens_in,
        "tokens_out": usage.tokens_out,
        "batched_requests": usage.batched_requests,
        "cost_usd": None if cost is None else round(cost, 6),
    }
