"""Read report files robustly: encodings, byte-order marks, binary and oversized files.

A report file may be UTF-8 (with or without a byte-order mark), UTF-16 with a
byte-order mark, Windows-1252 or Latin-1. The encoding that decoded the file is
returned with the text so it can be stored on the extracted features.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from data_contracts.common import Flag

MAX_REPORT_BYTES = 2_000_000
"""Default size limit of one report file; real reports are a few kilobytes."""

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")
_HEADER_LINE = re.compile(r"#[^\n]*(?:\n|$)")


class ReportInputError(ValueError):
    """A report file that cannot be used as text; ``reason_code`` is a key of ``REASON_CODES``."""

    def __init__(self, reason_code: str, message: str, file: str | None = None):
        super().__init__(message)
        self.reason_code = reason_code
        self.message = message
        self.file = file


@dataclass(frozen=True)
class DecodedText:
    """Decoded report text, the encoding used, and flags raised while decoding."""

    text: str
    encoding: str
    flags: tuple[Flag, ...] = ()
    header: str = field(default="", repr=False)


def read_text_file(path: str | Path, max_bytes: int = MAX_REPORT_BYTES, *, strip_header: bool = True) -> DecodedText:
    """Read and decode a report file.

    With ``strip_header`` the leading ``#`` comment lines (source, licence and label
    lines of the curated test reports) are removed and kept in ``header``.
    Raises ``ReportInputError`` for a missing, empty, binary, too large or undecodable file.
    """
    path = Path(path)
    if not path.is_file():
        raise ReportInputError("report_missing", f"report file not found: {path}", str(path))
    size = path.stat().st_size
    if size > max_bytes:
        raise ReportInputError(
            "report_too_large", f"report file {path} has {size} bytes, more than the limit of {max_bytes}; split it or raise max_bytes", str(path)
        )
    decoded = decode_bytes(path.read_bytes(), source=str(path))
    if not strip_header:
        return decoded
    header, body = split_header(decoded.text)
    if not body.strip():
        raise ReportInputError("report_empty", f"report file {path} has no text after its '#' header lines", str(path))
    return DecodedText(body, decoded.encoding, decoded.flags, header)


def split_header(text: str) -> tuple[str, str]:
    """Split leading ``#`` lines off ``text``; return ``(header, body)``."""
    position = 0
    while True:
        match = _HEADER_LINE.match(text, position)
        if match is None:
            break
        position = match.end()
    return text[:position], text[position:]


def decode_bytes(data: bytes, *, source: str | None = None) -> DecodedText:
    """Decode report bytes: byte-order mark first, then UTF-8, then Windows-1252, then Latin-1."""
    where = source or "<bytes>"
    if not data.strip():
        raise ReportInputError("report_empty", f"report {where} is empty", source)

    encoding = _bom_encoding(data)
    if encoding is None and _looks_binary(data):
        raise ReportInputError("report_binary", f"report {where} is binary (NUL or control bytes), not text", source)
    text, encoding = _decode(data, encoding, where, source)

    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    if _CONTROL.search(text) and len(_CONTROL.findall(text)) > max(8, len(text) // 100):
        raise ReportInputError("report_binary", f"report {where} decodes to text full of control characters; it is not a text report", source)
    if not text.strip():
        raise ReportInputError("report_empty", f"report {where} has only whitespace", source)

    flags = ()
    if encoding not in ("utf-8", "ascii"):
        flags = (Flag(code="report_decode", severity="info", file=source, message=f"report {where} was decoded as {encoding}, not UTF-8"),)
    return DecodedText(text, encoding, flags)


def _bom_encoding(data: bytes) -> str | None:
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return encoding
    return None


def _looks_binary(data: bytes) -> bool:
    sample = data[:8192]
    if b"\x00" in sample:
        return True
    controls = sum(1 for b in sample if b < 32 and b not in (9, 10, 12, 13))
    return controls > max(4, len(sample) // 50)


def _decode(data: bytes, encoding: str | None, where: str, source: str | None) -> tuple[str, str]:
    candidates = [encoding] if encoding else ["utf-8", "cp1252", "latin-1"]
    for candidate in candidates:
        try:
            text = data.decode(candidate)
        except UnicodeDecodeError:
            continue
        return text.lstrip("\ufeff"), candidate
    raise ReportInputError("report_decode", f"report {where} is not valid {', '.join(candidates)} text", source)
