"""The certificate document: a one-page landscape PDF, rendered without I/O besides the font.

CPU-bound (tens of milliseconds): call it through ``run_in_threadpool``, and through a
``PdfCache``, so that a document is rendered once however often it is fetched.
"""

from __future__ import annotations

import hashlib
import json
import threading
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path

from cachetools import LRUCache
from fpdf import FPDF

# A Unicode TrueType font when the system has one, so every learner's name renders in its own
# script; otherwise the PDF core font, which covers Latin-1 only.
_FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu-sans-fonts/DejaVuSans.ttf",
    "/Library/Fonts/DejaVuSans.ttf",
)


@dataclass(frozen=True, slots=True)
class CertificateDocument:
    learner_name: str
    certificate_name: str
    certification_date: datetime
    expiration_date: datetime | None

    def key(self) -> str:
        """A digest of everything the PDF shows, dates as printed: equal keys, equal pages."""
        shown = [
            self.learner_name,
            self.certificate_name,
            format_date(self.certification_date),
            format_date(self.expiration_date) if self.expiration_date is not None else None,
        ]
        return hashlib.sha256(json.dumps(shown).encode()).hexdigest()


@lru_cache(maxsize=1)
def _unicode_font() -> Path | None:
    for candidate in _FONT_CANDIDATES:
        path = Path(candidate)
        if path.is_file():
            return path
    return None


def _latin1(text: str) -> str:
    """Text the core font can show: accents kept where Latin-1 has them, others stripped."""
    if all(ord(ch) < 256 for ch in text):
        return text
    out = []
    for ch in text:
        if ord(ch) < 256:
            out.append(ch)
            continue
        base = unicodedata.normalize("NFKD", ch).encode("latin-1", "ignore").decode("latin-1")
        out.append(base or "?")
    return "".join(out)


def format_date(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%d %B %Y").lstrip("0")


def render_certificate(doc: CertificateDocument) -> bytes:
    pdf = FPDF(orientation="L", unit="mm", format="A4")
    pdf.set_auto_page_break(auto=False)
    pdf.set_creator("Enabley")
    font = _unicode_font()
    clean: Callable[[str], str]
    if font is not None:
        pdf.add_font("Body", "", str(font))
        family, clean = "Body", str
    else:
        family, clean = "Helvetica", _latin1
    pdf.set_title(clean(f"{doc.certificate_name} - {doc.learner_name}"))
    pdf.add_page()
    width = pdf.w - 2 * pdf.l_margin

    pdf.set_draw_color(40, 70, 120)
    pdf.set_line_width(1.2)
    pdf.rect(10, 10, pdf.w - 20, pdf.h - 20)

    def line(text: str, size: int, gap: float) -> None:
        pdf.set_font(family, size=size)
        pdf.set_x(pdf.l_margin)
        pdf.multi_cell(width, size * 0.5, clean(text), align="C")
        pdf.ln(gap)

    pdf.set_y(40)
    pdf.set_text_color(40, 70, 120)
    line("Certificate", 36, 10)
    pdf.set_text_color(30, 30, 30)
    line("This certifies that", 14, 6)
    line(doc.learner_name, 28, 8)
    line("has earned the certificate", 14, 6)
    line(doc.certificate_name, 22, 14)
    line(f"Certified on {format_date(doc.certification_date)}", 13, 3)
    if doc.expiration_date is not None:
        line(f"Valid until {format_date(doc.expiration_date)}", 13, 3)
    return bytes(pdf.output())


class PdfCache:
    """Rendered PDFs by what they show (``CertificateDocument.key``), the least recently used
    dropped once they hold more than ``max_bytes``.

    Per process and in memory: a PDF depends on nothing but what it shows, so another process
    (or this one after a restart) renders the same document again, and nothing needs sharing.
    A change of what the PDF shows (a learner's name, a renewed certification) is a new key.
    """

    def __init__(self, max_bytes: int) -> None:
        self._pdfs: LRUCache[str, bytes] = LRUCache(maxsize=max_bytes, getsizeof=len)
        # Guards both tables: documents are rendered in the threadpool.
        self._lock = threading.Lock()
        self._rendering: dict[str, threading.Lock] = {}

    @property
    def bytes_held(self) -> int:
        with self._lock:
            return int(self._pdfs.currsize)

    def cached(self, document: CertificateDocument) -> bytes | None:
        """The document's PDF if it is held: cheap enough for the event loop."""
        with self._lock:
            return self._pdfs.get(document.key())

    def render(self, document: CertificateDocument) -> bytes:
        """The document's PDF, rendered unless held; CPU-bound. Fetches of one document at once
        wait for a single rendering rather than each doing its own."""
        key = document.key()
        with self._lock:
            found = self._pdfs.get(key)
            if found is not None:
                return found
            rendering = self._rendering.setdefault(key, threading.Lock())
        with rendering:
            try:
                with self._lock:
                    found = self._pdfs.get(key)
                if found is None:
                    found = render_certificate(document)
                    with self._lock:
                        if len(found) <= self._pdfs.maxsize:
                            self._pdfs[key] = found
            finally:
                with self._lock:
                    if self._rendering.get(key) is rendering:
                        del self._rendering[key]
        return found
