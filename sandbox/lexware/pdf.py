"""Real one-page PDFs for sales documents, and the structure check behind `voucher_upload_toxic_pdf`."""

from __future__ import annotations

import re

_START_XREF = re.compile(rb"startxref\s+(\d+)\s+%%EOF\s*$")
_OBJ_OR_XREF = re.compile(rb"(xref|\d+\s+\d+\s+obj)\b")
_TOP, _LEFT, _LEADING = 800, 56, 15


def _text(value: str) -> bytes:
    """A PDF string literal in WinAnsi (Helvetica's encoding), with the three special characters escaped."""
    raw = value.encode("cp1252", "replace")
    return b"(" + raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") + b")"


def render_pdf(lines: list[str]) -> bytes:
    """A valid PDF 1.4 of one A4 page showing `lines` in Helvetica, with a correct cross-reference table."""
    shown = b" T*\n".join(_text(line) + b" Tj" for line in lines)
    stream = b"BT\n/F1 10 Tf\n%d TL\n%d %d Td\n" % (_LEADING, _LEFT, _TOP) + shown + b"\nET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def is_intact(content: bytes) -> bool:
    """False for what Lexware refuses as a broken ("toxic") PDF: no `%PDF-` header, no `%%EOF` at the
    end (a cut-off file), or a `startxref` that does not point at a cross-reference section."""
    if not content.startswith(b"%PDF-"):
        return False
    tail = content[-1024:]
    if b"%%EOF" not in tail:
        return False
    found = _START_XREF.search(tail)
    if found is None:
        return b"startxref" not in tail  # no startxref at all: a minimal file, left to OCR
    offset = int(found.group(1))
    return offset < len(content) and _OBJ_OR_XREF.match(content, offset) is not None
