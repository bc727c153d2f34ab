"""A labelled archive of our own for measuring the ranking: 200 invented papers over ten days
in ten fields of audio and speech, each written from its field's words and words every
field uses (and a few of a neighbouring field's), and a reader who likes 20 papers of two
fields (speaker verification and diarization). A paper is relevant to the reader when it is
of one of those fields. The keyword baseline is what `filter.interests` does: the papers
that name the reader's keywords first."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime

from arxiv_digest.models import Paper
from arxiv_digest.views.ranking import Ranker

FIELDS = {
    "verification": "speaker verification embedding enrollment trial equal error rate margin"
    " cosine scoring utterance impostor target speaker x-vector ecapa",
    "diarization": "diarization speaker turns overlap clustering segmentation meeting"
    " who spoke when speaker change online streaming embeddings",
    "asr": "speech recognition transcription word error rate decoder acoustic model"
    " language model ctc transducer vocabulary hypotheses",
    "tts": "speech synthesis vocoder prosody text-to-speech mel spectrogram naturalness"
    " speaker adaptation voice cloning duration expressive",
    "enhancement": "speech enhancement denoising noise suppression mask reverberation"
    " hearing aids perceptual quality pesq low latency",
    "separation": "source separation mixture speaker separation permutation invariant"
    " sdr masks cocktail party target extraction",
    "music": "music transcription chords melody beat tracking genre instrument symbolic"
    " score audio generation tempo",
    "spatial": "spatial audio binaural hrtf sound field ambisonics room acoustics"
    " microphone array localization direction of arrival",
    "codec": "neural codec bitrate quantization residual vector compression kbps"
    " tokens reconstruction perceptual codebook",
    "events": "sound event detection acoustic scene classification audio tagging weak"
    " labels dcase onset polyphonic environmental",
}
SHARED = [
    "we",
    "propose",
    "model",
    "method",
    "results",
    "dataset",
    "training",
    "neural",
    "network",
    "performance",
    "benchmark",
    "evaluation",
    "novel",
    "approach",
    "improve",
    "experiments",
    "baseline",
    "state",
    "art",
    "learning",
    "deep",
    "data",
    "architecture",
    "transformer",
    "attention",
    "self-supervised",
    "features",
    "robust",
    "efficient",
]
LIKED_FIELDS = ("verification", "diarization")
KEYWORDS = ("speaker", "diarization")
"""What a reader of speaker verification and diarization would put in filter.interests."""
DAYS = 10
PER_DAY = 20


@dataclass(frozen=True)
class Labelled:
    paper: Paper
    field: str
    day: int

    @property
    def relevant(self) -> bool:
        return self.field in LIKED_FIELDS


def labelled_archive(seed: int = 2026) -> tuple[list[Labelled], list[str]]:
    """The archive, and the ids of the 20 papers the reader likes."""
    rng = random.Random(seed)
    names = list(FIELDS)
    papers = []
    for day in range(DAYS):
        for slot in range(PER_DAY):
            field = rng.choice(names)
            own = FIELDS[field].split()
            other = FIELDS[rng.choice(names)].split()
            title = " ".join(rng.sample(own, 3) + rng.sample(SHARED, 2))
            words = (
                [rng.choice(own) for _ in range(14)]
                + [rng.choice(SHARED) for _ in range(12)]
                + [rng.choice(other) for _ in range(4)]
            )
            rng.shuffle(words)
            paper = Paper(
                arxiv_id=f"2605.{day:02d}{slot:03d}v1",
                title=title.capitalize(),
                authors=("A. Author",),
                categories=("eess.AS",),
                primary_category="eess.AS",
                abstract=" ".join(words).capitalize() + ".",
                published=datetime(2026, 5, 1 + day, tzinfo=UTC),
            )
            papers.append(Labelled(paper, field, day))
    liked = [item.paper.arxiv_id for item in papers if item.relevant]
    return papers, rng.sample(liked, 20)


def keyword_order(papers: list[Paper]) -> list[Paper]:
    """The papers that name the reader's keywords first (more of them first), then the rest,
    each group in arXiv's order: the cap's order under `filter.interests`."""

    def hits(paper: Paper) -> int:
        text = f"{paper.title} {paper.abstract}".casefold()
        return sum(text.count(word) for word in KEYWORDS)

    return sorted(papers, key=lambda paper: -hits(paper))


def precision_at(ranked: list[Paper], relevant: set[str], k: int = 5) -> float:
    return sum(paper.arxiv_id in relevant for paper in ranked[:k]) / k


def precision_by_day(
    ranker: Ranker, papers: list[Labelled], liked: list[str]
) -> list[tuple[float, float, float]]:
    """For each day, its papers less the liked ones: precision at 5 of the ranking, of
    keyword matching, and the best possible (a day may have fewer than 5 relevant papers)."""
    relevant = {item.paper.arxiv_id for item in papers if item.relevant}
    rows = []
    for day in range(DAYS):
        today = [
            item.paper for item in papers if item.day == day and item.paper.arxiv_id not in liked
        ]
        scores = [relevance.score for relevance in ranker.relevance(today)]
        ranked = [
            paper for _, paper in sorted(zip(scores, today, strict=True), key=lambda pair: -pair[0])
        ]
        best = min(5, sum(paper.arxiv_id in relevant for paper in today)) / 5
        rows.append(
            (precision_at(ranked, relevant), precision_at(keyword_order(today), relevant), best)
        )
    return rows
