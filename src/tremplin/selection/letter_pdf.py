"""Letters from HTML to PDF with WeasyPrint, in this process or in one process per core.

The parent process (the task) alone reads the database: it builds each letter's context as
plain values (strings, numbers, lists, dicts), which cross to the worker processes; they
render the template in the letter's language, lay it out and return the PDF's bytes.

Rendering never touches the network: the URL fetcher serves the project's fonts and refuses
everything else, so a value that slipped into the HTML cannot make the server fetch a URL.
"""

from __future__ import annotations

import atexit
import logging
import multiprocessing
import os
import re
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation

logger = logging.getLogger(__name__)

PACKAGE_DIR = Path(__file__).resolve().parent.parent
FONTS_DIR = PACKAGE_DIR / "static" / "fonts"
STYLESHEET = PACKAGE_DIR / "templates" / "selection" / "letters" / "letters.css"


@dataclass(frozen=True)
class RenderedLetter:
    application_id: int
    pdf: bytes
    pages: int


# WeasyPrint ignores `unicode-bidi: isolate`, so a <bdi> does not isolate its content: a phone
# number in an Arabic sentence comes out backwards ("67 45 23 61 06"). The isolate characters
# FSI … PDI do the same job inside the text, and Pango's bidi algorithm honours them. Values
# are escaped, so only the templates' own <bdi> tags match.
_BDI_OPEN = re.compile(r"<bdi(?:\s[^>]*)?>")


def isolate_bdi(html: str) -> str:
    html = _BDI_OPEN.sub(lambda match: match.group(0) + "\u2068", html)
    return html.replace("</bdi>", "\u2069</bdi>")


def letter_html(context: dict) -> str:
    """The letter's HTML, in its language (``context["language"]``)."""
    with translation.override(context["language"]):
        html = render_to_string(f"selection/letters/{context['kind']}.html", context)
    return isolate_bdi(html)


def render_letter(context: dict) -> RenderedLetter:
    """One letter as PDF (in this process)."""
    from weasyprint import HTML

    font_config, stylesheet, fetcher = _renderer()
    document = HTML(
        string=letter_html(context), base_url=FONTS_DIR.as_uri() + "/", url_fetcher=fetcher
    ).render(font_config=font_config, stylesheets=[stylesheet])
    return RenderedLetter(
        application_id=context["application_id"],
        pdf=document.write_pdf(),
        pages=len(document.pages),
    )


def render_chunk(contexts: list[dict]) -> list[RenderedLetter]:
    return [render_letter(context) for context in contexts]


def render_chunks(chunks: Iterable[list[dict]], *, workers: int) -> Iterator[list[RenderedLetter]]:
    """Render chunks of contexts, yielding each chunk's letters in order.

    With more than one worker the chunks go to a pool of processes; the next chunks are
    taken from ``chunks`` (the parent reads the database for them) while the workers render,
    and at most two chunks per worker wait in the pool, so memory stays flat.
    """
    if workers <= 1:
        for chunk in chunks:
            yield render_chunk(chunk)
        return
    pool = ProcessPoolExecutor(
        max_workers=workers,
        mp_context=_start_method(),
        initializer=_init_worker,
        initargs=(settings.SETTINGS_MODULE,),
    )
    pending: deque[Future] = deque()
    try:
        for chunk in chunks:
            pending.append(pool.submit(render_chunk, chunk))
            if len(pending) >= 2 * workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def worker_count() -> int:
    """``LETTER_WORKERS`` if set, else one per core."""
    return max(1, int(getattr(settings, "LETTER_WORKERS", 0) or os.cpu_count() or 1))


def _start_method():
    # Not fork: the task's process may hold threads and database connections, which a
    # forked child would share. The fork server starts clean, then forks cheaply.
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")


def _init_worker(settings_module: str) -> None:
    """Set Django up in a fresh worker (its settings, templates and translations only: a
    worker never opens a database connection), then load the fonts once."""
    import django
    from django.apps import apps

    if not apps.ready:
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", settings_module)
        django.setup()
    _renderer()


def _local_fonts_fetcher():
    """A WeasyPrint URL fetcher that serves the files of ``FONTS_DIR`` and nothing else."""
    from weasyprint.urls import URLFetcher

    class LocalFontsOnly(URLFetcher):
        def fetch(self, url, headers=None):
            parts = urlsplit(url)
            path = Path(unquote(parts.path)).resolve() if parts.scheme == "file" else None
            if path is None or not path.is_relative_to(FONTS_DIR):
                raise ValueError(f"letters load no external resource ({url[:80]})")
            return super().fetch(path.as_uri(), headers)

    return LocalFontsOnly(allowed_protocols={"file"})


@cache
def _renderer():
    """The font configuration, the parsed stylesheet (its @font-face rules load the fonts
    once per process, not once per letter) and the URL fetcher."""
    from weasyprint import CSS
    from weasyprint.text.fonts import FontConfiguration

    # Seven INFO lines per letter ("Step 1 - Fetching and parsing HTML"...) drown a batch's log.
    logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)
    # Released before the interpreter tears its modules down (else a harmless error at exit).
    atexit.register(_renderer.cache_clear)
    font_config = FontConfiguration()
    fetcher = _local_fonts_fetcher()
    stylesheet = CSS(
        string=STYLESHEET.read_text(encoding="utf-8"),
        base_url=FONTS_DIR.as_uri() + "/",
        url_fetcher=fetcher,
        font_config=font_config,
    )
    return font_config, stylesheet, fetcher
