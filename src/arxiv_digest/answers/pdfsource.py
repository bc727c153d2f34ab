"""Where a paper's text comes from: its HTML version on arXiv when it has one, else the PDF
download and the extraction child process."""

from __future__ import annotations

import asyncio
import os
import sys
from typing import TYPE_CHECKING, Protocol
from urllib.parse import urljoin, urlsplit

from arxiv_digest.answers import figures, htmltext, pdftext
from arxiv_digest.answers.cache import StoredText
from arxiv_digest.config import PdfSettings
from arxiv_digest.errors import PdfError

if TYPE_CHECKING:
    import httpx2
    from lxml.etree import _Element

_EXTRACTION_MEMORY_MEGABYTES = 2048


class TextSource(Protocol):
    """Where the text of a paper comes from. Raises PdfError when it cannot be had."""

    extractor: str
    """Names the extraction method: part of the cache key of extracted text."""

    @property
    def downloads(self) -> int:
        """Documents (HTML pages and PDFs) downloaded so far."""

    async def text(self, arxiv_id: str) -> StoredText: ...


class HttpPdfSource:
    """PDFs downloaded from a URL template such as ``https://arxiv.org/pdf/{id}``, their
    text extracted by pypdfium2 in a child process."""

    extractor = pdftext.EXTRACTOR

    def __init__(self, url_template: str, settings: PdfSettings) -> None:
        self.downloads = 0
        self._url_template = url_template
        self._settings = settings
        self._max_bytes = int(settings.max_megabytes * 1024 * 1024)
        # Made at the first download (a build whose texts are all cached needs none).
        self._client: httpx2.AsyncClient | None = None
        self.download_slots = asyncio.Semaphore(settings.concurrency)
        self._extraction_slots = asyncio.Semaphore(os.cpu_count() or 1)

    async def text(self, arxiv_id: str) -> StoredText:
        async with self.download_slots:
            pdf_bytes = await self.fetch(arxiv_id)
            self.downloads += 1
        async with self._extraction_slots:
            return await extract(arxiv_id, pdf_bytes, self._settings)

    def _connected(self) -> httpx2.AsyncClient:
        import httpx2

        from arxiv_digest import __version__

        if self._client is None:
            self._client = httpx2.AsyncClient(
                timeout=self._settings.timeout_seconds,
                follow_redirects=True,
                headers={"User-Agent": f"arxiv-digest/{__version__}"},
            )
        return self._client

    async def fetch(self, arxiv_id: str) -> bytes:
        content = await self._download(self._url_template.format(id=arxiv_id), arxiv_id, "PDF")
        if not content.lstrip()[:5] == b"%PDF-":
            raise PdfError(arxiv_id, "the download is not a PDF")
        return content

    async def get(self, url: str, arxiv_id: str, what: str) -> bytes | None:
        """The document at `url` within the PDF's limits; None when it cannot be had (any
        status but 200, too large, a timeout or a network error): the caller falls back."""
        try:
            return await self._download(url, arxiv_id, what)
        except PdfError:
            return None

    async def _download(self, url: str, arxiv_id: str, what: str) -> bytes:
        """The document at `url`, at most `pdf.max_megabytes`; PdfError says why not."""
        import httpx2

        try:
            async with self._connected().stream("GET", url) as response:
                if response.status_code != 200:
                    raise PdfError(arxiv_id, f"{what} download failed: HTTP {response.status_code}")
                chunks = []
                size = 0
                async for chunk in response.aiter_bytes():
                    size += len(chunk)
                    if size > self._max_bytes:
                        raise PdfError(
                            arxiv_id,
                            f"{what} larger than {self._max_bytes // 2**20} MB (pdf.max_megabytes)",
                        )
                    chunks.append(chunk)
        except httpx2.TimeoutException:
            raise PdfError(arxiv_id, f"{what} download timed out (pdf.timeout_seconds)") from None
        except httpx2.HTTPError as error:
            raise PdfError(arxiv_id, f"{what} download failed: {type(error).__name__}") from None
        return b"".join(chunks)

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()


async def extract(arxiv_id: str, pdf_bytes: bytes, settings: PdfSettings) -> StoredText:
    """The PDF's text, read in a child process that is killed if it overruns its time."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "arxiv_digest.answers.pdftext",
        "--max-pages",
        str(settings.max_pages),
        "--max-memory-megabytes",
        str(_EXTRACTION_MEMORY_MEGABYTES),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        output, errors = await asyncio.wait_for(
            process.communicate(pdf_bytes), timeout=settings.timeout_seconds
        )
    except TimeoutError:
        process.kill()
        await process.wait()
        raise PdfError(arxiv_id, "text extraction took too long (pdf.timeout_seconds)") from None
    except asyncio.CancelledError:
        process.kill()
        await process.wait()
        raise
    if process.returncode == pdftext.EXIT_ENCRYPTED:
        raise PdfError(arxiv_id, "the PDF is encrypted")
    if process.returncode == pdftext.EXIT_NOT_A_PDF:
        raise PdfError(arxiv_id, "the PDF is corrupt or unreadable")
    if process.returncode != 0:
        reason = errors.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no message"]
        raise PdfError(
            arxiv_id, f"text extraction failed (exit {process.returncode}: {reason[0][:200]})"
        )
    page_count, _, text = output.decode("utf-8").partition("\n")
    return StoredText(text=text, page_count=int(page_count))


class HtmlThenPdfSource:
    """A paper's text from its HTML version on arXiv (`arxiv.html_url`), read into sections
    by `htmltext`; from its PDF when arXiv has no HTML for it, the conversion failed, or the
    page could not be had. The HTML is fetched with the PDF's client and limits. With a
    figures folder, the page's first figure goes there as a WebP (`figures`), while other
    papers' requests are under way."""

    extractor = f"{htmltext.EXTRACTOR}+{pdftext.EXTRACTOR}"

    def __init__(
        self,
        url_template: str,
        pdfs: HttpPdfSource,
        figure_store: figures.FigureStore | None = None,
    ) -> None:
        self._url_template = url_template
        self._pdfs = pdfs
        self._figures = figure_store
        self.html_downloads = 0

    @property
    def downloads(self) -> int:
        return self.html_downloads + self._pdfs.downloads

    async def text(self, arxiv_id: str) -> StoredText:
        page_url = self._url_template.format(id=arxiv_id)
        async with self._pdfs.download_slots:
            page = await self._pdfs.get(page_url, arxiv_id, "HTML")
            self.html_downloads += page is not None
        paper = htmltext.document(page) if page else None  # parsed once, read twice
        sections = htmltext.paper_sections(paper)
        if not sections:
            return await self._pdfs.text(arxiv_id)
        if self._figures is not None and self._figures.get(arxiv_id) is None:
            await self._figure(arxiv_id, paper, page_url, self._figures)
        return StoredText(text=htmltext.as_text(sections), page_count=0, source="html")

    async def _figure(
        self, arxiv_id: str, paper: _Element | None, page_url: str, store: figures.FigureStore
    ) -> None:
        """The page's first figure into the store, if it can be made a WebP; an image from
        another host than the page's is not fetched."""
        found = htmltext.first_figure(paper)
        if found is None:
            return
        # The page is a folder of its images (arXiv's pages say so with <base>).
        url = urljoin(page_url.rstrip("/") + "/", found.src)
        if (urlsplit(url).scheme, urlsplit(url).netloc) != (
            urlsplit(page_url).scheme, urlsplit(page_url).netloc
        ):  # fmt: skip
            return
        async with self._pdfs.download_slots:
            image = await self._pdfs.get(url, arxiv_id, "figure")
            self.html_downloads += image is not None
        if image is None:
            return
        encoded = await asyncio.to_thread(figures.as_webp, image)
        if encoded is not None:
            store.save(arxiv_id, encoded, found.caption)

    async def close(self) -> None:
        await self._pdfs.close()
