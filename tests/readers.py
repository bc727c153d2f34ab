"""A small archive as readers meet it: invented papers over three days with Chinese titles,
one-line summaries, translations and analyses, written straight to day records (no build),
and the queries a reader types with the paper each should find first. Several papers share
words on purpose (说话人, 识别, 声场, 语音), so that a search that matches loose characters
or ranks by day fails the queries."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from arxiv_digest.answers.figures import FigureStore, as_webp
from arxiv_digest.models import Answer, Paper
from arxiv_digest.record import SCHEMA, DayRecord, RecordWindow, ShownPaper, write_record
from arxiv_digest.window import window_for
from tests import corpus

TOPICS = {
    "asr": "语音识别",
    "tts": "语音合成",
    "speaker": "说话人",
    "spatial": "空间音频",
    "enhancement": "语音增强",
    "music": "音乐",
    "codec": "音频编解码",
}


@dataclass(frozen=True)
class ReaderPaper:
    arxiv_id: str
    title: str
    authors: tuple[str, ...]
    abstract: str
    title_zh: str
    summary_zh: str
    translation: str
    topics: tuple[str, ...]
    comment: str | None = None


DAYS: dict[str, list[ReaderPaper]] = {
    "2026-03-02": [
        ReaderPaper(
            "2603.01001v1",
            "Margin-Adaptive Embeddings for Short-Utterance Speaker Verification",
            ("Wei Zhang", "Laura Becker"),
            "We adapt the angular margin to utterance length so that speaker embeddings from"
            " two-second clips stay discriminative. Equal error rate drops by 18% on short trials.",
            "面向短语音说话人确认的自适应间隔嵌入",
            "按语音时长调整角度间隔，让两秒片段的说话人嵌入依然可分，短测试上等错误率下降 18%。",
            "我们根据语音时长调整角度间隔，使两秒片段提取的说话人嵌入仍具区分性。在短测试集上，"
            "等错误率下降了 18%。",
            ("speaker",),
            "Accepted to ICASSP 2026",
        ),
        ReaderPaper(
            "2603.01002v1",
            "Who Spoke When, Streaming: Online Diarization with Memory Slots",
            ("Kenji Mori", "Ana Costa"),
            "An online diarization system keeps a slot per speaker and updates it as audio"
            " arrives, with 300 ms latency.",
            "流式说话人日志：带记忆槽的在线分离",
            "为每位说话人维护记忆槽并随音频到达更新，以 300 毫秒延迟完成在线说话人日志。",
            "一个在线说话人日志系统为每位说话人保留一个槽位，并随音频到达不断更新，延迟为 300 毫秒。",
            ("speaker", "asr"),
        ),
        ReaderPaper(
            "2603.01003v2",
            "Code-Switching Speech Recognition for Mandarin-English Lectures",
            ("Li Na", "Omar Haddad"),
            "We collect 400 hours of lectures that mix Mandarin and English and train a"
            " recognizer with a language-aware decoder.",
            "面向中英混合授课的语码转换语音识别",
            "收集 400 小时中英混杂的课堂录音，训练带语言感知解码器的语音识别模型。",
            "我们收集了 400 小时混合普通话与英语的课堂录音，并训练了一个带语言感知解码器的识别器。",
            ("asr",),
        ),
        ReaderPaper(
            "2603.01004v1",
            "Emotion Recognition from Speech with Self-Supervised Prosody Features",
            ("Sara Rossi",),
            "Prosody features from a self-supervised model improve speech emotion recognition"
            " on acted and spontaneous corpora.",
            "基于自监督韵律特征的语音情感识别",
            "用自监督模型提取的韵律特征提升表演与自发语料上的语音情感识别。",
            "来自自监督模型的韵律特征提升了表演语料与自发语料上的语音情感识别效果。",
            ("asr",),
        ),
        ReaderPaper(
            "2603.01005v1",
            "Sound Field Reconstruction in Rooms with Physics-Informed Neural Networks",
            ("Jonas Berg", "Mei Lin"),
            "A physics-informed network reconstructs the sound field of a room from 16"
            " microphones, respecting the wave equation.",
            "基于物理信息神经网络的室内声场重建",
            "用满足波动方程的物理信息网络，从 16 个麦克风重建房间内的声场。",
            "一个物理信息网络在满足波动方程的前提下，从 16 个麦克风的录音重建房间的声场。",
            ("spatial",),
        ),
        ReaderPaper(
            "2603.01006v1",
            "Neural Codec Language Models for Zero-Shot Speech Synthesis",
            ("Tomás Ruiz", "Priya Natarajan"),
            "A language model over neural codec tokens clones an unseen voice from three seconds"
            " of audio.",
            "用于零样本语音合成的神经编解码语言模型",
            "在神经编解码器离散单元上训练语言模型，仅凭三秒音频克隆未见过的声音。",
            "一个基于神经编解码器离散单元的语言模型，仅凭三秒音频即可克隆未见过的说话人声音。",
            ("tts", "codec"),
        ),
    ],
    "2026-03-03": [
        ReaderPaper(
            "2603.02001v1",
            "Spatial Audio Rendering with Head-Related Transfer Function Personalization",
            ("Hana Sato", "David Kim"),
            "We personalize head-related transfer functions from ear photos for binaural"
            " rendering.",
            "基于头相关传递函数个性化的空间音频渲染",
            "从耳朵照片估计个性化头相关传递函数，用于双耳渲染。",
            "我们从耳朵照片个性化头相关传递函数，用于双耳空间音频渲染。",
            ("spatial",),
        ),
        ReaderPaper(
            "2603.02002v1",
            "Sound Field Interpolation Between Sparse Microphones with Kernel Ridge Regression",
            ("Luca Bianchi",),
            "Kernel ridge regression with a Helmholtz kernel interpolates the sound field between"
            " sparse microphones.",
            "稀疏麦克风之间的声场插值：核岭回归方法",
            "以亥姆霍兹核的核岭回归在稀疏麦克风之间插值声场，可用于声场重建。",
            "采用亥姆霍兹核的核岭回归能够在稀疏麦克风之间插值声场，为声场重建提供先验。",
            ("spatial",),
        ),
        ReaderPaper(
            "2603.02003v1",
            "Speech Enhancement for Hearing Aids under 5 ms Latency",
            ("Ada Okafor", "Wei Zhang"),
            "A causal enhancement network meets a 5 ms latency budget on a hearing-aid chip.",
            "低于 5 毫秒延迟的助听器语音增强",
            "因果语音增强网络在助听器芯片上满足 5 毫秒延迟预算。",
            "一个因果语音增强网络在助听器芯片上满足了 5 毫秒的延迟预算。",
            ("enhancement",),
        ),
        ReaderPaper(
            "2603.02004v1",
            "Target Speaker Extraction with Visual Cues in Noisy Meetings",
            ("Kenji Mori",),
            "Lip movements guide the extraction of a target speaker's voice in noisy meetings.",
            "嘈杂会议中借助视觉线索的目标说话人提取",
            "利用唇部运动引导，在嘈杂会议中提取目标说话人的声音。",
            "唇部运动引导模型在嘈杂的会议录音中提取目标说话人的声音。",
            ("speaker", "enhancement"),
        ),
        ReaderPaper(
            "2603.02005v1",
            "Chord Recognition with Transformers Trained on Synthetic Guitar Audio",
            ("Sofia Marques", "Jonas Berg"),
            "Transformers trained on synthetic guitar recordings recognize chords in real"
            " performances.",
            "用合成吉他音频训练的 Transformer 和弦识别",
            "在合成吉他录音上训练 Transformer，在真实演奏中识别和弦。",
            "在合成吉他录音上训练的 Transformer 能识别真实演奏中的和弦。",
            ("music",),
        ),
    ],
    "2026-03-04": [
        ReaderPaper(
            "2603.03001v1",
            "Low-Bitrate Neural Audio Codec with Residual Vector Quantization at 1.5 kbps",
            ("Priya Natarajan",),
            "A residual vector quantizer keeps speech quality at 1.5 kbps with a small decoder.",
            "1.5 kbps 残差向量量化低码率神经音频编解码器",
            "以残差向量量化在 1.5 kbps 下保持语音质量，解码器很小。",
            "残差向量量化器在 1.5 kbps 下保持了语音质量，且解码器很小。",
            ("codec",),
        ),
        ReaderPaper(
            "2603.03002v1",
            "Speaker Recognition Robust to Channel Mismatch via Domain Adversarial Training",
            ("Laura Becker", "Li Na"),
            "Domain adversarial training makes speaker recognition robust when enrollment and"
            " test channels differ.",
            "通过领域对抗训练实现抗信道失配的说话人识别",
            "用领域对抗训练，让注册与测试信道不同时的说话人识别依然可靠。",
            "领域对抗训练使说话人识别在注册信道与测试信道不一致时仍保持稳健。",
            ("speaker",),
        ),
        ReaderPaper(
            "2603.03003v1",
            "Keyword Spotting on Microcontrollers with 20 KB of Memory",
            ("David Kim",),
            "A keyword spotting model fits in 20 KB of memory and runs on a microcontroller.",
            "仅用 20 KB 内存的微控制器关键词检测",
            "关键词检测模型只占 20 KB 内存，可在微控制器上运行。",
            "一个关键词检测模型只需 20 KB 内存，能在微控制器上运行。",
            ("asr",),
        ),
        ReaderPaper(
            "2603.03004v1",
            "Expressive Text-to-Speech with Pause-Aware Prosody Transfer",
            ("Mei Lin", "Tomás Ruiz"),
            "Modeling pauses explicitly improves prosody transfer for expressive speech synthesis.",
            "显式建模停顿的表现力语音合成韵律迁移",
            "显式建模停顿，改进表现力语音合成中的韵律迁移。",
            "显式建模停顿改进了表现力语音合成中的韵律迁移。",
            ("tts",),
        ),
    ],
}

QUERIES: list[tuple[str, str]] = [
    # Chinese words and phrases from titles and summaries.
    ("说话人识别", "2603.03002"),
    ("说话人确认", "2603.01001"),
    ("声场重建", "2603.01005"),
    ("声场插值", "2603.02002"),
    ("说话人日志", "2603.01002"),
    ("语码转换", "2603.01003"),
    ("情感识别", "2603.01004"),
    ("头相关传递函数", "2603.02001"),
    ("和弦识别", "2603.02005"),
    ("关键词检测", "2603.03003"),
    ("目标说话人提取", "2603.02004"),
    ("说话人提取", "2603.02004"),  # 2603.01001's translation has both words, apart
    ("助听器", "2603.02003"),
    ("零样本语音合成", "2603.01006"),
    ("残差向量量化", "2603.03001"),
    # English words, names.
    ("diarization", "2603.01002"),
    ("Helmholtz kernel", "2603.02002"),
    ("Omar Haddad", "2603.01003"),
    ("Sofia Marques", "2603.02005"),
    # Ids, as readers paste them: each opens the paper's page.
    ("2603.02004", "2603.02004"),
    ("arXiv:2603.01003v2", "2603.01003"),
    ("https://arxiv.org/abs/2603.03002", "2603.03002"),
    ("https://arxiv.org/pdf/2603.01005v1", "2603.01005"),
    ("arxiv.org/html/2603.02001v1", "2603.02001"),
]
"""A reader's query and the paper (base id) it should put first or open."""


def analysis_of(paper: ReaderPaper) -> str:
    return corpus.analysis_for(paper.title)


FIGURE_PAPER = "2603.01005v1"
"""The paper with a figure (the fixture plot, made a WebP as a build makes it)."""


def write_archive(records_dir: Path, figures_dir: Path | None = None) -> None:
    """The three days as day records in `records_dir`, and a figure in `figures_dir`."""
    figure = None
    if figures_dir is not None:
        plot = (Path(__file__).parent / "fixtures" / "html" / "x1.png").read_bytes()
        encoded = as_webp(plot)
        assert encoded is not None
        figure = FigureStore(figures_dir).save(
            FIGURE_PAPER, encoded, "Figure 1: Reconstruction error against microphone count."
        )
    zone = ZoneInfo("Asia/Shanghai")
    for day_text, papers in DAYS.items():
        day = date.fromisoformat(day_text)
        window = window_for(day, time(8, 50), zone)
        shown = tuple(
            ShownPaper(
                paper=Paper(
                    arxiv_id=paper.arxiv_id,
                    title=paper.title,
                    authors=paper.authors,
                    categories=("eess.AS", "cs.SD"),
                    primary_category="eess.AS",
                    abstract=paper.abstract,
                    published=window.end - timedelta(hours=slot + 1),
                    comment=paper.comment,
                ),
                answers={
                    "translation": Answer(paper.translation, "reader-model", None),
                    "analysis": Answer(analysis_of(paper), "reader-model", None),
                    "triage": Answer(
                        json.dumps(
                            {
                                "title_zh": paper.title_zh,
                                "summary_zh": paper.summary_zh,
                                "topics": list(paper.topics),
                            },
                            ensure_ascii=False,
                        ),
                        "reader-model",
                        None,
                    ),
                },
                figure=figure if paper.arxiv_id == FIGURE_PAPER else None,
            )
            for slot, paper in enumerate(papers)
        )
        write_record(
            records_dir,
            DayRecord(
                schema=SCHEMA,
                day=day,
                window=RecordWindow("Asia/Shanghai", window.start, window.end),
                in_window=len(shown),
                papers=shown,
                settled=True,
            ),
        )
