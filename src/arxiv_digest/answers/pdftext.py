"""A paper's text: extraction from PDF bytes, and the cleaning before it goes to the model.

Extraction runs in a child process (``python -m arxiv_digest.answers.pdftext``) so that a
hostile or broken PDF can neither hang the build (the parent kills it on a
deadline) nor exhaust its memory (the child caps its own address space).
"""

from __future__ import annotations

import argparse
import re
import resource
import sys
import unicodedata

EXTRACTOR = "pypdfium2-1"
"""Names the extraction method; part of the cache key of extracted text."""

EXIT_NOT_A_PDF = 3
EXIT_ENCRYPTED = 4

_LIGATURES = str.maketrans(
    {"\ufb00": "ff", "\ufb01": "fi", "\ufb02": "fl", "\ufb03": "ffi", "\ufb04": "ffl",
     "\ufb05": "st", "\ufb06": "st"}
)  # fmt: skip
# PDFium marks a hyphen it judged a line-break hyphen as U+0002; TeX's soft hyphen is U+00AD.
_BREAK_HYPHEN = re.compile("[\x02\u00ad]\n?")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")
_BLANK_RUNS = re.compile(r"\n{3,}")
_TRAILING_SPACE = re.compile(r"[ \t]+\n")
_REFERENCES_HEADING = re.compile(
    r"^[ \t]*(?:[0-9IVX]+\.?[ \t]*)?(?:references|bibliography|literature cited|参考文献)[ \t]*$",
    re.IGNORECASE | re.MULTILINE,
)
# Papers whose reference list has no heading (REVTeX) start it with "1 A. Name" or "[1] A. Name".
_FIRST_REFERENCE = re.compile(
    r"^[ \t]*(?:\[1\]|1)[ \t]+\S.*\n(?:.*\n){0,4}?[ \t]*(?:\[2\]|2)[ \t]+\S", re.MULTILINE
)
_ACKNOWLEDGMENT_HEADING = re.compile(
    r"^[ \t]*(?:[0-9]+\.?[ \t]*)?acknowledge?ments?[ \t]*$", re.IGNORECASE | re.MULTILINE
)


def extract_text(pdf_bytes: bytes, max_pages: int) -> tuple[str, int]:
    """The text of the first `max_pages` pages, pages separated by form feeds, and the page count."""
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(pdf_bytes)
    try:
        page_count = len(document)
        pages = []
        for index in range(min(page_count, max_pages)):
            page = document[index]
            textpage = page.get_textpage()
            pages.append(textpage.get_text_bounded())
            textpage.close()
            page.close()
    finally:
        document.close()
    return "\f".join(pages), page_count


def clean_text(raw: str) -> str:
    """Normalize extracted text: line endings, break hyphens, control characters, ligatures."""
    text = raw.replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n\n")
    text = _BREAK_HYPHEN.sub("", text)
    text = _CONTROL.sub("", text.translate(_LIGATURES))
    text = unicodedata.normalize("NFC", text)
    text = _TRAILING_SPACE.sub("\n", text)
    return _BLANK_RUNS.sub("\n\n", text).strip()


def cut_references(text: str) -> str:
    """The text without its reference list (everything after the last References heading).

    Only a heading in the second half counts, so that a table of contents or a
    sentence about "references" early on cannot cut the paper itself.
    """
    half = len(text) // 2
    headings = [m for m in _REFERENCES_HEADING.finditer(text) if m.start() >= half]
    if headings:
        return text[: headings[-1].start()].rstrip()
    acknowledgment = None
    for match in _ACKNOWLEDGMENT_HEADING.finditer(text):
        if match.start() >= half:
            acknowledgment = match
    if acknowledgment is not None:
        reference = _FIRST_REFERENCE.search(text, acknowledgment.end())
        if reference is not None:
            return text[: reference.start()].rstrip()
    return text


def model_input(raw: str, max_chars: int) -> str:
    """What the analysis prompt gets: cleaned text, references cut, at most `max_chars`."""
    return cut_references(clean_text(raw))[:max_chars]


def main(argv: list[str] | None = None) -> int:
    """Child-process entry: PDF bytes on stdin, text on stdout, page count in the first line."""
    parser = argparse.ArgumentParser(prog="python -m arxiv_digest.answers.pdftext")
    parser.add_argument("--max-pages", type=int, required=True)
    parser.add_argument("--max-memory-megabytes", type=int, required=True)
    args = parser.parse_args(argv)
    limit_bytes = args.max_memory_megabytes * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit_bytes, limit_bytes))
    pdf_bytes = sys.stdin.buffer.read()
    import pypdfium2 as pdfium

    try:
        text, page_count = extract_text(pdf_bytes, args.max_pages)
    except pdfium.PdfiumError as error:
        message = str(error)
        sys.stderr.write(message + "\n")
        return EXIT_ENCRYPTED if "password" in message.lower() else EXIT_NOT_A_PDF
    sys.stdout.buffer.write(f"{page_count}\n{text}".encode("utf-8", "replace"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
