"""The fixed pieces of the reference post format, in one place: what the post template writes
around each paper, what `digest import` reads back, and what the sanitizer keeps an answer
from imitating. A test renders the default template and finds each of them.
"""

from __future__ import annotations

AUTHORS = "Authors"
CATEGORIES = "Categories"
ARXIV = "arXiv"
PDF = "PDF"
METADATA_LABELS = (AUTHORS, CATEGORIES, ARXIV, PDF)
"""The labels of a paper's metadata lines (`- **Authors**: …`), in the order a post writes them."""
ANALYSIS_OPENING = ("<details>", "<summary>详细解读</summary>", "", '<div markdown="1">', "")
ANALYSIS_CLOSING = ("</div>", "", "</details>")
"""The lines of the `<details>` block around a paper's analysis (kramdown renders the
Markdown inside it because of `markdown="1"`)."""
