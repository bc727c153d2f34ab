"""A figure per paper: the first figure of its HTML version, made a WebP by Pillow within
960 px and 80 KB with no metadata, or skipped (SVG, broken, too large); recorded, and shown
on the paper's page and its day, from the site's own origin. End to end through `digest`."""

from __future__ import annotations

import html
import io
import json
import random
from html.parser import HTMLParser
from pathlib import Path

import pytest
from PIL import Image

from arxiv_digest.answers import htmltext
from arxiv_digest.answers.figures import MAX_BYTES, MAX_WIDTH_PX, as_webp
from tests import corpus
from tests.conftest import Site

FIXTURES = Path(__file__).parent / "fixtures" / "html"
WITH_FIGURE = (FIXTURES / "2603.05003.html").read_bytes()
PLOT = (FIXTURES / "x1.png").read_bytes()


def encoded(image: Image.Image, kind: str, **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, kind, **options)
    return out.getvalue()


def test_a_plot_becomes_a_small_webp() -> None:
    made = as_webp(PLOT)
    assert made is not None
    assert made.webp[:4] == b"RIFF" and made.webp[8:12] == b"WEBP"
    assert len(made.webp) <= MAX_BYTES and (made.width, made.height) == (MAX_WIDTH_PX, 540)
    with Image.open(io.BytesIO(made.webp)) as again:
        assert again.size == (MAX_WIDTH_PX, 540)


def test_metadata_never_passes_through() -> None:
    photo = Image.new("RGB", (1200, 800), "#6699cc")
    exif = Image.Exif()
    exif[0x013B] = "A Photographer"  # Artist
    exif[0x010E] = "secret location"  # ImageDescription
    made = as_webp(encoded(photo, "JPEG", exif=exif.tobytes()))
    assert made is not None
    assert b"Photographer" not in made.webp and b"secret" not in made.webp
    with Image.open(io.BytesIO(made.webp)) as again:
        assert not again.getexif() and "icc_profile" not in again.info


def test_noise_is_made_smaller_until_it_fits() -> None:
    rng = random.Random(7)
    noise = Image.frombytes(
        "RGB", (1400, 1400), bytes(rng.getrandbits(8) for _ in range(1400 * 1400 * 3))
    )
    made = as_webp(encoded(noise, "PNG"))
    assert made is not None and len(made.webp) <= MAX_BYTES and made.width < MAX_WIDTH_PX


@pytest.mark.parametrize(
    "image",
    [
        b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>',
        PLOT[:200],  # a PNG cut short
        b"GIF89a not really",
        encoded(Image.new("1", (8000, 8000)), "PNG"),  # 64 megapixels: not decoded
    ],
    ids=["svg", "truncated", "garbage", "huge"],
)
def test_what_cannot_be_made_a_webp_is_skipped(image: bytes) -> None:
    assert as_webp(image) is None


def test_the_first_figure_is_read_with_its_caption() -> None:
    found = htmltext.first_figure(WITH_FIGURE)
    assert found is not None and found.src == "x1.png"
    assert found.caption.startswith("Figure 1: The encoder")
    assert htmltext.first_figure((FIXTURES / "2603.05001.html").read_bytes()) is None  # a box


HOSTILE_CAPTION = '"><img src=x onerror=alert(1)> {{ site.title }}'


def test_a_day_takes_each_paper_s_figure_and_the_site_shows_it(site: Site) -> None:
    site.pdfs.htmls["2602.20005v1"] = WITH_FIGURE
    site.pdfs.images["/html/2602.20005v1/x1.png"] = (PLOT, "image/png")
    broken = WITH_FIGURE.replace(b'src="x1.png"', b'src="x2.png"')
    site.pdfs.htmls["2602.20004v2"] = broken
    site.pdfs.images["/html/2602.20004v2/x2.png"] = (PLOT[:300], "image/png")
    elsewhere = WITH_FIGURE.replace(b'src="x1.png"', b'src="http://203.0.113.9/x1.png"')
    site.pdfs.htmls["2602.20003v1"] = elsewhere
    site.digest_ok("build", "--date", corpus.DAY)

    record = json.loads((site.root / f"_records/{corpus.DAY}.json").read_text("utf-8"))
    figures = {shown["paper"]["arxiv_id"]: shown["figure"] for shown in record["papers"]}
    assert figures["2602.20005v1"] == {
        "file": "2602.20005.webp", "width": 960, "height": 540,
        "caption": "Figure 1: The encoder: state-space layers modulated by the reverberation"
        " estimate, then attentive pooling.",
    }  # fmt: skip
    # A broken image is skipped, an image on another host is never asked for.
    assert figures["2602.20004v2"] is None and figures["2602.20003v1"] is None
    assert not any("203.0.113.9" in path for _, path, _ in site.pdfs.requests)
    stored = site.root / "_figures" / "2602.20005.webp"
    assert stored.read_bytes()[8:12] == b"WEBP" and len(stored.read_bytes()) <= MAX_BYTES

    site.digest_ok("site", "--no-search")
    public = site.root / "_public"
    assert (public / "figures/2602.20005.webp").read_bytes() == stored.read_bytes()
    page = (public / "papers/2602.20005/index.html").read_text("utf-8")
    assert '<img src="/figures/2602.20005.webp" alt="Figure 1: The encoder:' in page
    assert 'loading="lazy"' in page and 'width="960" height="540"' in page
    day = (public / "2026/02/13/arxiv/index.html").read_text("utf-8")
    assert day.count('src="/figures/2602.20005.webp"') == 1
    assert not (public / "figures/2602.20004.webp").exists()


def test_a_hostile_caption_is_text_on_every_page(site: Site) -> None:
    caption = html.escape(HOSTILE_CAPTION).encode()
    page = WITH_FIGURE.replace(b"The encoder: state-space layers", caption)
    site.pdfs.htmls["2602.20005v1"] = page
    site.pdfs.images["/html/2602.20005v1/x1.png"] = (PLOT, "image/png")
    site.digest_ok("build", "--date", corpus.DAY)
    site.digest_ok("site", "--no-search")
    for name in ("papers/2602.20005/index.html", "2026/02/13/arxiv/index.html"):
        elements = Elements()
        elements.feed((site.root / "_public" / name).read_text("utf-8"))
        images = [attrs for tag, attrs in elements.found if tag == "img"]
        assert [attrs["src"] for attrs in images] == ["/figures/2602.20005.webp"], name
        assert HOSTILE_CAPTION in images[0]["alt"], name  # the caption, as text
        assert not any(key.startswith("on") for _, attrs in elements.found for key in attrs)


class Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, {key: value or "" for key, value in attrs}))
