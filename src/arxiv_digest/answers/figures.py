"""A paper's figure for the site: the first figure of its HTML version, downloaded once,
decoded and encoded again by Pillow as a WebP of at most 960 px wide and 80 KB, with no
metadata, into the figures folder (`output.figures_dir`) beside its caption. An image that
does not decode (SVG among them: Pillow reads raster images only), that is too large to
decode safely, or that cannot be made small enough is skipped: nothing is passed through.
"""

from __future__ import annotations

import io
import json
import warnings
from dataclasses import dataclass
from pathlib import Path

from arxiv_digest.models import Figure, figure_file
from arxiv_digest.write import write_atomically

MAX_WIDTH_PX = 960
MAX_BYTES = 80 * 1024
MAX_SOURCE_PIXELS = 36_000_000
"""Larger images are not decoded (6000 × 6000; a decompression bomb is far larger)."""
_QUALITIES = (80, 70, 60, 50, 40)


@dataclass(frozen=True)
class Encoded:
    webp: bytes
    width: int
    height: int


def as_webp(image: bytes) -> Encoded | None:
    """`image` decoded and encoded again as a WebP within the limits; None if it cannot be."""
    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(image)) as opened:
                width, height = opened.size
                if width * height > MAX_SOURCE_PIXELS or not width or not height:
                    return None
                opened.load()
                picture = opened.convert("RGBA" if _has_alpha(opened) else "RGB")
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError,
            Image.DecompressionBombWarning):  # fmt: skip
        return None
    target = min(MAX_WIDTH_PX, width)
    while target >= 240:
        resized = picture.resize(
            (target, max(1, round(height * target / width))), Image.Resampling.LANCZOS
        )
        for quality in _QUALITIES:
            out = io.BytesIO()
            # No exif, icc_profile or xmp is passed: the WebP carries pixels only.
            resized.save(out, "WEBP", quality=quality, method=4)
            if out.tell() <= MAX_BYTES:
                return Encoded(out.getvalue(), resized.width, resized.height)
        target = int(target * 0.75)
    return None


def _has_alpha(image: object) -> bool:
    mode = getattr(image, "mode", "")
    return mode in ("RGBA", "LA", "PA") or (
        mode == "P" and "transparency" in getattr(image, "info", {})
    )


class FigureStore:
    """The figures folder: per paper, its WebP and a JSON file of its caption and size."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def get(self, arxiv_id: str) -> Figure | None:
        image = self.directory / figure_file(arxiv_id)
        try:
            meta = json.loads(image.with_suffix(".json").read_text(encoding="utf-8"))
            if not image.is_file():
                return None
            return Figure(image.name, str(meta["caption"]), int(meta["width"]), int(meta["height"]))
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def save(self, arxiv_id: str, encoded: Encoded, caption: str) -> Figure:
        image = self.directory / figure_file(arxiv_id)
        write_atomically(image, encoded.webp)
        meta = {"caption": caption, "width": encoded.width, "height": encoded.height}
        write_atomically(image.with_suffix(".json"), json.dumps(meta, ensure_ascii=False) + "\n")
        return Figure(image.name, caption, encoded.width, encoded.height)
