"""Certificates as PDF: A4, Chinese text in an embedded TrueType font, a QR code to the public verification page.

The font is a TrueType CJK font with a licence that allows embedding: by default Debian's
``fonts-wqy-zenhei`` (文泉驿正黑, GPL with the font embedding exception), else ``fonts-arphic-uming``;
``CERTIFICATE_FONT`` (``path`` or ``path:subfont index``) names another. reportlab embeds the glyphs a
document uses (a subset), so the PDF prints the same everywhere and ``pdftotext`` extracts its text.
Without any such font the product says so (503, with the package to install) instead of printing boxes.

One certificate is rendered in the request; many (a selection or everything matching the filter) run as
a background job (``certificates``) with progress, the PDF left in 我的任务.
"""
from __future__ import annotations

import datetime
import io
import os
import tempfile
import threading
from typing import BinaryIO, Callable, Optional

import segno
from flask import current_app
from flask_babel import gettext as _
from reportlab import rl_config
from reportlab.lib.colors import Color, black
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas as pdf_canvas
from sqlalchemy import select

from app.errors import Unavailable
from app.extensions import db
from app.models import Organisation, OrganisationType
from app.services import certificates as service

FONT_NAME = "CertificateCJK"
#: TrueType (glyf outlines) CJK fonts whose licence allows embedding, in order of preference
FONT_CANDIDATES = (
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),
    ("/usr/share/fonts/truetype/arphic/uming.ttc", 0),
)
FONT_PACKAGE = "fonts-wqy-zenhei"
PDF_MIMETYPE = "application/pdf"
RED = Color(0.62, 0.09, 0.09)

#: binary (compressed) streams: ASCII85 on top makes every page larger and costs a third of the rendering time;
#: the product has no other reportlab user this process-wide setting could surprise
rl_config.useA85 = 0

_font_lock = threading.Lock()
#: advance widths of characters at a size (the wrapping of the body text)
_widths: dict[tuple[str, float], float] = {}
_font_ready: Optional[str] = None


def _font_choices() -> list[tuple[str, int]]:
    configured = current_app.config.get("CERTIFICATE_FONT") or ""
    choices = []
    if configured:
        path, index = configured, 0
        head, sep, tail = configured.rpartition(":")
        if sep and tail.isdigit():
            path, index = head, int(tail)
        choices.append((path, index))
    return choices + list(FONT_CANDIDATES)


def font_path() -> Optional[tuple[str, int]]:
    """The font certificates are printed with, or None when none is installed."""
    for path, index in _font_choices():
        if path and os.path.isfile(path):
            return path, index
    return None


def ensure_font() -> str:
    """Register the CJK font once per process (parsing it takes about a second); 503 when missing."""
    global _font_ready
    if _font_ready:
        return _font_ready
    with _font_lock:
        if _font_ready:
            return _font_ready
        found = font_path()
        if found is None:
            raise Unavailable(_("Certificates cannot be printed: the Chinese font is not installed on the server "
                                "(Debian package %(package)s). Please ask the operator to install it.",
                                package=FONT_PACKAGE))
        path, index = found
        pdfmetrics.registerFont(TTFont(FONT_NAME, path, subfontIndex=index))
        _font_ready = FONT_NAME
        return _font_ready


def verify_url(base_url: str, number: str) -> str:
    base = (current_app.config.get("CERTIFICATE_BASE_URL") or base_url or "").rstrip("/")
    return f"{base}/certificate/verify/{number}"


def issuer_name() -> str:
    name = db.session.scalar(select(Organisation.name).where(Organisation.type == OrganisationType.province)
                             .order_by(Organisation.id).limit(1))
    return name or _("Continuing education management platform")


# ------------------------------------------------------------------ drawing
class Labels:
    """Every fixed text of a certificate, translated once per document."""

    def __init__(self, issuer: str):
        self.title = _("Certificate of continuing education credit hours")
        self.number = _("Certificate number")
        self.rows = (_("Full name"), _("ID number"), _("Employer unit"), _("Year"), _("Public subject hours"),
                     _("Professional subject hours"), _("Total hours"), _("Verification result"))
        self.passed = _("Verification passed")
        self.issuer = issuer
        self.issued = _("Issued on")
        self.scan = _("Scan to verify this certificate")
        self.hours = _("hours")


def _wrap(text: str, size: float, width: float) -> list[str]:
    """Lines of at most ``width`` points (CJK text breaks between any two characters)."""
    lines, line, used = [], "", 0.0
    for char in text:
        advance = _widths.get((char, size))
        if advance is None:
            advance = _widths[(char, size)] = pdfmetrics.stringWidth(char, FONT_NAME, size)
        if used + advance > width and line:
            lines.append(line)
            line, used = "", 0.0
        line += char
        used += advance
    if line:
        lines.append(line)
    return lines


def _qr(c, url: str, x: float, y: float, size: float) -> None:
    """The QR code as vector runs of dark modules (prints sharp at any resolution).

    A fixed mask pattern (valid for any reader) spares segno scoring all eight, most of the encoding time;
    the runs are written as one path in module units under a scaling transform.
    """
    matrix = segno.make(url, error="m", micro=False, mask=0).matrix
    border = 2
    count = len(matrix) + 2 * border
    module = size / count
    runs = []
    for r, row in enumerate(matrix):
        top = count - border - 1 - r
        start = None
        for col, dark in enumerate(list(row) + [0]):
            if dark and start is None:
                start = col
            elif not dark and start is not None:
                runs.append(f"{start + border} {top} {col - start} 1 re")
                start = None
    c.saveState()
    c.setFillColor(black)
    c.transform(module, 0, 0, module, x, y)
    c.addLiteral("\n".join(runs) + "\nf")
    c.restoreState()


def draw_certificate(c, item: service.CertificateData, labels: Labels, base_url: str) -> None:
    width, height = A4
    c.setStrokeColor(RED)
    c.setLineWidth(3)
    c.rect(28, 28, width - 56, height - 56)
    c.setLineWidth(0.8)
    c.rect(36, 36, width - 72, height - 72)
    c.setFillColor(RED)
    c.setFont(FONT_NAME, 26)
    c.drawCentredString(width / 2, height - 110, labels.title)
    c.setFillColor(black)
    c.setFont(FONT_NAME, 11)
    number = item.number
    c.drawCentredString(width / 2, height - 140, f"{labels.number}：{number}")
    body = _("%(name)s (ID number %(id_number)s) of %(unit)s completed %(total)d credit hours of continuing "
             "education in %(year)d: %(public)d hours of public subjects and %(professional)d hours of "
             "professional subjects, and passed the credit hours verification. This certificate is hereby issued.",
             name=item.name, id_number=item.id_number, unit=item.employer, total=item.total_hours, year=item.year,
             public=item.public_hours, professional=item.professional_hours)
    c.setFont(FONT_NAME, 14)
    y = height - 200
    for line in _wrap(body, 14, width - 160):
        c.drawString(80, y, line)
        y -= 26
    y -= 14
    values = (item.name, item.id_number, item.employer, str(item.year), f"{item.public_hours} {labels.hours}",
              f"{item.professional_hours} {labels.hours}", f"{item.total_hours} {labels.hours}", labels.passed)
    c.setLineWidth(0.6)
    c.setStrokeColor(black)
    row_height, left, split, right = 26, 80, 210, width - 80
    top = y
    for label, value in zip(labels.rows, values):
        c.rect(left, y - row_height + 8, right - left, row_height, stroke=1, fill=0)
        c.setFont(FONT_NAME, 12)
        c.drawString(left + 10, y - 10, label)
        c.drawString(split + 10, y - 10, _wrap(value, 12, right - split - 20)[0] if value else "")
        y -= row_height
    c.line(split, top + 8, split, y + 8)
    issued = (item.issued_on or datetime.datetime.now()).date()
    c.setFont(FONT_NAME, 13)
    c.drawRightString(width - 90, 190, labels.issuer)
    c.drawRightString(width - 90, 165, f"{labels.issued}：{issued.year}年{issued.month}月{issued.day}日")
    _qr(c, verify_url(base_url, number), 80, 80, 110)
    c.setFont(FONT_NAME, 9)
    c.drawString(80, 68, labels.scan)


def write_pdf(items, target: BinaryIO | str, base_url: str,
              progress: Optional[Callable[[int], None]] = None) -> int:
    """Write certificates (an iterable of CertificateData) as one PDF, one A4 page each."""
    ensure_font()
    labels = Labels(issuer_name())
    c = pdf_canvas.Canvas(target, pagesize=A4, pageCompression=1)
    c.setTitle(labels.title)
    c.setAuthor(labels.issuer)
    c.setCreator("jijiao")
    count = 0
    for item in items:
        draw_certificate(c, item, labels, base_url)
        c.showPage()
        count += 1
        if progress is not None:
            progress(count)
    if count == 0:
        c.showPage()
    c.save()
    return count


def pdf_bytes(items, base_url: str) -> bytes:
    buffer = io.BytesIO()
    write_pdf(items, buffer, base_url)
    return buffer.getvalue()


def file_name(items: list) -> str:
    if len(items) == 1:
        return _("Certificate %(year)d %(name)s.pdf", year=items[0].year, name=items[0].name)
    return _("Certificates (%(n)d).pdf", n=len(items))


# ------------------------------------------------------------------ the background job
def _job_ids(ctx) -> list[int]:
    scope = ctx.actor.scope
    limit = int(current_app.config.get("CERTIFICATE_MAX_PER_PDF", 5000))
    if ctx.params.get("ids") is not None:
        return service.scoped_ids(scope, [int(i) for i in ctx.params["ids"] if str(i).isdigit()][:limit])
    filters = service.Filters.from_args(ctx.params.get("filters") or {})
    return service.filtered_ids(scope, filters, limit)


def _register_task() -> None:
    from app.jobs import JobOutcome, task

    @task("certificates")
    def certificates_task(ctx) -> JobOutcome:
        """Print many certificates into one PDF, issuing those printed for the first time."""
        ensure_font()
        ids = _job_ids(ctx)
        ctx.progress(0, len(ids))
        fd, path = tempfile.mkstemp(suffix=".pdf", prefix="certificates-")
        os.close(fd)

        def items():
            for chunk in service.chunks(ids):
                batch = service.for_ids(chunk)
                service.issue(batch)
                yield from batch

        try:
            count = write_pdf(items(), path, ctx.params.get("base_url", ""), progress=lambda n: ctx.progress(n))
        except BaseException:
            os.remove(path)
            raise
        return JobOutcome(message=_("%(n)d certificates printed", n=count), file_path=path,
                          file_name=_("Certificates (%(n)d).pdf", n=count))


_register_task()
