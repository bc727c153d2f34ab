"""The configuration file: its schema, its defaults, and validation at load.

Every problem is reported at once, each by its dotted key path. Relative paths
are relative to the configuration file, so a site builds the same from anywhere.
"""

from __future__ import annotations

import difflib
import re
from datetime import time
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from arxiv_digest import taxonomy
from arxiv_digest.errors import ConfigError

# Keys people are likely to put in the file by mistake, with the fix.
_KEY_HINTS = {
    "api_key": "the key is read from the OPENAI_API_KEY environment variable, never from a file",
    "openai_api_key": "the key is read from the OPENAI_API_KEY environment variable",
    "num_retries": "retired: a run now waits out arXiv within arxiv.wait_budget_seconds"
    " (default 600); delete this key",
}


def _one_item_list(value: Any) -> Any:
    """A single string where a list is expected: the list of that one item."""
    return [value] if isinstance(value, str) else value


Strings = Annotated[list[str], BeforeValidator(_one_item_list)]
"""A list of strings; one string alone (`categories: cs.SD`) is a list of one."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _empty_is_default(cls, value: Any) -> Any:
        # A section whose keys are all commented out reads as null in YAML.
        return {} if value is None else value


class ArxivSettings(_Section):
    categories: Annotated[Strings, Field(min_length=1)] = ["cs.SD", "eess.AS"]
    source: Literal["api", "oai-pmh", "auto"] = "auto"
    """Where papers come from: the API, OAI-PMH, or the API with OAI-PMH behind it."""
    api_url: str = "https://export.arxiv.org/api/query"
    oai_url: str = "https://oaipmh.arxiv.org/oai"
    rss_url: str = "https://rss.arxiv.org/rss"
    pdf_url: str = "https://arxiv.org/pdf/{id}"
    html_url: str = "https://arxiv.org/html/{id}"
    """Where a paper's HTML version is (LaTeXML's, from its TeX source): its text is read
    there first, and from the PDF when it has none ("" reads the PDF only)."""
    page_size: Annotated[int, Field(ge=1, le=2000)] = 100
    delay_seconds: Annotated[float, Field(ge=0)] = 3.0
    timeout_seconds: Annotated[float, Field(gt=0)] = 30.0
    wait_budget_seconds: Annotated[float, Field(ge=0)] = 600.0
    """How long a run waits out each arXiv service's rate limits and outages, in all."""

    @field_validator("categories", mode="before")
    @classmethod
    def _names_are_codes(cls, categories: Any) -> Any:
        # A category may be given by its arXiv name: "Computation and Language" is cs.CL.
        if isinstance(categories, list):
            return [
                (taxonomy.by_name(name) or name)
                if isinstance(name, str) and name not in taxonomy.CATEGORIES
                else name
                for name in categories
            ]
        return categories

    @field_validator("categories")
    @classmethod
    def _categories_exist(cls, categories: list[str]) -> list[str]:
        problems = []
        for name in categories:
            if name in taxonomy.CATEGORIES:
                continue
            guess = taxonomy.closest(name)
            hint = (
                f"; did you mean {guess}?" if guess else "; see https://arxiv.org/category_taxonomy"
            )
            problems.append(f"{name!r} is not an arXiv category{hint}")
        if problems:
            raise ValueError("; ".join(problems))
        return categories

    @field_validator("api_url", "oai_url", "rss_url")
    @classmethod
    def _url_is_http(cls, url: str) -> str:
        if not url.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return url

    @field_validator("pdf_url")
    @classmethod
    def _pdf_url_has_id(cls, url: str) -> str:
        if "{id}" not in url or not url.startswith(("http://", "https://")):
            raise ValueError(
                "must be an http(s) URL containing {id}, e.g. https://arxiv.org/pdf/{id}"
            )
        return url


class WindowSettings(_Section):
    timezone: str = "Asia/Shanghai"
    anchor: str = "08:50"

    @field_validator("timezone")
    @classmethod
    def _timezone_exists(cls, name: str) -> str:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {name!r}; use an IANA name such as Asia/Shanghai"
            ) from None
        return name

    @field_validator("anchor", mode="before")
    @classmethod
    def _anchor_is_clock_time(cls, value: Any) -> Any:
        # YAML 1.1 reads an unquoted 08:50 as the sexagesimal integer 530.
        if isinstance(value, int):
            raise ValueError('write the anchor as a quoted "HH:MM" string, e.g. "08:50"')
        if not isinstance(value, str) or not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", value):
            raise ValueError('must be a time of day as "HH:MM", e.g. "08:50"')
        return value

    @property
    def anchor_time(self) -> time:
        hours, minutes = self.anchor.split(":")
        return time(int(hours), int(minutes))

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class FilterSettings(_Section):
    max_papers: Annotated[int, Field(ge=1)] = 20
    primary_only: bool = False
    include_keywords: Strings = []
    exclude_keywords: Strings = []
    interests: Strings = []


# Audio and speech, each topic a short key (what answers and records hold) and a Chinese label.
DEFAULT_TOPICS = {
    "asr": "语音识别",
    "tts": "语音合成",
    "enhancement": "语音增强",
    "separation": "声源分离",
    "speaker": "说话人",
    "emotion": "情感与副语言",
    "anti-spoofing": "防伪与深度伪造检测",
    "codec": "音频编解码",
    "music": "音乐",
    "spatial": "空间音频",
    "sound-events": "声音事件与场景",
    "audio-llm": "音频语言模型",
    "evaluation": "评测与基准",
}


class TriageSettings(_Section):
    enabled: bool = True
    topics: dict[str, str] = DEFAULT_TOPICS
    """Key: 中文标签. Empty (another field's site before its owner chooses): the triage
    proposes keys of its own, which the records keep and the site does not show."""
    max_summary_chars: Annotated[int, Field(ge=20, le=400)] = 80

    @field_validator("topics")
    @classmethod
    def _topic_keys(cls, topics: dict[str, str]) -> dict[str, str]:
        bad = [key for key in topics if not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,39}", key)]
        if bad:
            raise ValueError(
                f"topic keys are lowercase letters, digits and '-': {', '.join(map(repr, bad))}"
            )
        return topics


class InputTokens(_Section):
    """The most tokens a request for each task may send (prompt and paper's text): a longer
    paper's text is cut by section priority to fit. The defaults leave room for the answer
    in a 32k window."""

    translation: Annotated[int, Field(ge=1000)] = 16000
    analysis: Annotated[int, Field(ge=1000)] = 24000
    triage: Annotated[int, Field(ge=1000)] = 16000


class OutputTokens(_Section):
    """The output limit a request for each task sets (a thinking model's reasoning counts
    against it). An answer cut off there is asked for once more with twice the limit."""

    translation: Annotated[int, Field(ge=64)] = 4096
    analysis: Annotated[int, Field(ge=64)] = 8192
    triage: Annotated[int, Field(ge=64)] = 2048


class LlmSettings(_Section):
    base_url: str | None = None

    @field_validator("base_url")
    @classmethod
    def _base_url_is_a_url(cls, url: str | None) -> str | None:
        if url is not None and not re.fullmatch(r"https?://[^/\s:]+(:\d+)?(/\S*)?", url):
            raise ValueError(
                "must be an http(s) URL of an OpenAI-compatible API, e.g. https://api.deepseek.com/v1"
            )
        return url

    model: str = "gpt-4o-mini"
    concurrency: Annotated[int, Field(ge=1, le=256)] = 8
    max_input_chars: Annotated[int, Field(ge=1000)] = 200000
    """A cap on the paper's text in characters, before the token budget."""
    timeout_seconds: Annotated[float, Field(gt=0)] = 180.0
    max_retries: Annotated[int, Field(ge=0, le=10)] = 4
    max_attempts: Annotated[int, Field(ge=1, le=10)] = 3
    max_answer_chars: Annotated[int, Field(ge=1000)] = 30000
    confirm_above_requests: Annotated[int, Field(ge=0)] = 100
    temperature: Annotated[float, Field(ge=0, le=2)] | None = None
    require_chinese: bool = True
    input_price_per_million: Annotated[float, Field(ge=0)] | None = None
    output_price_per_million: Annotated[float, Field(ge=0)] | None = None
    max_input_tokens: InputTokens = InputTokens()
    max_output_tokens: OutputTokens = OutputTokens()
    output_limit_parameter: Literal["max_tokens", "max_completion_tokens"] = "max_tokens"
    """How requests name the output limit: OpenAI's reasoning models take only the second."""
    stream: bool = False
    """Whether answers are streamed (some thinking models answer only so)."""
    mode: Literal["direct", "batch"] = "direct"
    """How answers are asked for: each request at once, or a run's requests as one batch of
    the provider's Batch API, collected by a later run (or waited for, `--wait`)."""
    batch_discount: Annotated[float, Field(gt=0, le=1)] = 0.5
    """What batch tokens cost, as a share of the direct prices (OpenAI's and most others' 0.5)."""
    batch_poll_seconds: Annotated[float, Field(gt=0)] = 60.0
    """How often a run that waits for a batch asks for its status."""


class PdfSettings(_Section):
    timeout_seconds: Annotated[float, Field(gt=0)] = 60.0
    max_megabytes: Annotated[float, Field(gt=0)] = 50.0
    max_pages: Annotated[int, Field(ge=1)] = 50
    concurrency: Annotated[int, Field(ge=1, le=32)] = 4


class OutputSettings(_Section):
    records_dir: Path = Path("_records")
    posts_dir: Path = Path("_posts")
    templates_dir: Path = Path("templates")
    site_dir: Path = Path("_public")
    """Where `digest site` writes the reader's site (not `_site`, which is Jekyll's)."""
    figures_dir: Path = Path("_figures")
    """Each paper's figure (a WebP of at most 80 KB, and its caption), committed with the
    records: the site shows them."""
    figures: bool = True
    """Whether a paper's first figure is taken from its HTML version."""
    list_unshown: bool = False


_LIKED_ID = r"(?:arXiv:)?(?:\d{4}\.\d{4,5}|[a-z][a-z-]*(?:\.[A-Z]{2})?/\d{7})(?:v\d+)?"


class InterestsSettings(_Section):
    """What the site's owner likes: the site ranks each shown paper by a model trained on
    these against the archive's other papers (derived at `digest site`, never recorded)."""

    liked: Strings = []
    """arXiv ids of papers the owner likes (with or without version)."""
    library: Path | None = None
    """A BibTeX (.bib) or CSL JSON (.json, Zotero's export) file of papers the owner likes."""
    avoid: Strings = []
    """Words whose papers are never recommended (title or abstract, any case)."""
    picks: Annotated[int, Field(ge=1, le=20)] = 5
    """How many papers the home page recommends."""

    @field_validator("liked", mode="before")
    @classmethod
    def _not_numbers(cls, liked: Any) -> Any:
        # YAML reads 2602.20050 as the number 2602.2005: the id is lost, so it is refused.
        if isinstance(liked, list):
            numbers = [str(item) for item in liked if isinstance(item, int | float)]
            if numbers:
                raise ValueError(
                    f"{', '.join(numbers)}: YAML reads an unquoted id as a number (and drops"
                    " its last zeros); quote each id: ['2602.20050']"
                )
        return liked

    @field_validator("liked")
    @classmethod
    def _ids(cls, liked: list[str]) -> list[str]:
        bad = [item for item in liked if not re.fullmatch(_LIKED_ID, item.strip())]
        if bad:
            raise ValueError(f"not arXiv ids: {', '.join(bad)} (e.g. 2602.20005 or 2602.20005v2)")
        return [item.strip() for item in liked]

    @property
    def enabled(self) -> bool:
        return bool(self.liked or self.library)


class MailSettings(_Section):
    """`digest mail`: a day's digest by email. The login is read from the environment
    (DIGEST_SMTP_USERNAME, DIGEST_SMTP_PASSWORD), never from this file."""

    to: Strings = []
    from_address: str = ""
    host: str = ""
    port: Annotated[int, Field(ge=1, le=65535)] = 587
    security: Literal["starttls", "tls", "none"] = "starttls"
    """STARTTLS on the submission port, TLS from the start (465), or none (a relay on this
    machine only)."""
    timeout_seconds: Annotated[float, Field(gt=0)] = 30.0
    ca_file: Path | None = None
    """Certificates to trust besides the system's (a private relay's)."""
    state_file: Path = Path(".digest-mail.json")
    """The days already sent (commit it: a day is never sent twice)."""


class CacheSettings(_Section):
    path: Path = Path(".digest-cache.sqlite3")


class Config(_Section):
    arxiv: ArxivSettings = ArxivSettings()
    window: WindowSettings = WindowSettings()
    filter: FilterSettings = FilterSettings()
    llm: LlmSettings = LlmSettings()
    triage: TriageSettings = TriageSettings()
    pdf: PdfSettings = PdfSettings()
    output: OutputSettings = OutputSettings()
    cache: CacheSettings = CacheSettings()
    interests: InterestsSettings = InterestsSettings()
    mail: MailSettings = MailSettings()


def load_config(path: Path) -> Config:
    """Read and validate the configuration file; relative paths become absolute."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            str(path), ["file not found; create it (see README) or pass --config PATH"]
        ) from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(str(path), [f"cannot be read: {error}"]) from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(error, "problem", None) or str(error)
        raise ConfigError(str(path), [f"invalid YAML: {where}{problem}"]) from None
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(
            str(path), ["the top level must be a mapping of sections (arxiv:, llm:, ...)"]
        )
    try:
        config = Config.model_validate(raw)
    except ValidationError as error:
        raise ConfigError(str(path), describe(error)) from None
    return _resolve_paths(config, path.resolve().parent)


def describe(error: ValidationError) -> list[str]:
    problems = []
    for item in error.errors():
        key = ".".join(str(part) for part in item["loc"])
        last = str(item["loc"][-1]) if item["loc"] else ""
        if item["type"] == "extra_forbidden":
            message = _KEY_HINTS.get(last) or _unknown_key(item["loc"])
        else:
            message = item["msg"].removeprefix("Value error, ")
        problems.append(f"{key}: {message}" if key else message)
    return problems


def _unknown_key(location: tuple[int | str, ...]) -> str:
    """The message for a key the schema does not have, with the likeliest key it meant."""
    section: type[BaseModel] = Config
    for part in location[:-1]:
        field = section.model_fields.get(str(part))
        annotation = field.annotation if field is not None else None
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            break
        section = annotation
    guess = difflib.get_close_matches(str(location[-1]), list(section.model_fields), n=1)
    if guess:
        prefix = ".".join(str(part) for part in location[:-1])
        return f"unknown key; did you mean {prefix + '.' if prefix else ''}{guess[0]}?"
    return "unknown key; see the configuration reference in README"


def _resolve_paths(config: Config, base_dir: Path) -> Config:
    def absolute(path: Path) -> Path:
        return path if path.is_absolute() else base_dir / path

    return config.model_copy(
        update={
            "output": config.output.model_copy(
                update={
                    "records_dir": absolute(config.output.records_dir),
                    "posts_dir": absolute(config.output.posts_dir),
                    "templates_dir": absolute(config.output.templates_dir),
                    "site_dir": absolute(config.output.site_dir),
                    "figures_dir": absolute(config.output.figures_dir),
                }
            ),
            "interests": config.interests.model_copy(
                update={
                    "library": absolute(config.interests.library)
                    if config.interests.library
                    else None
                }
            ),
            "mail": config.mail.model_copy(
                update={
                    "state_file": absolute(config.mail.state_file),
                    "ca_file": absolute(config.mail.ca_file) if config.mail.ca_file else None,
                }
            ),
            "cache": config.cache.model_copy(update={"path": absolute(config.cache.path)}),
        }
    )
