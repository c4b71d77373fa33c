"""Decoding of report files: encodings, byte-order marks, binary, empty and oversized files."""

from __future__ import annotations

import codecs

import pytest

from engine.text.decode import ReportInputError, decode_bytes, read_text_file


def test_utf8_bom_removed(tmp_path):
    path = tmp_path / "r.txt"
    path.write_bytes(codecs.BOM_UTF8 + "Hypodense mass in the pancreatic head.".encode())
    decoded = read_text_file(path)
    assert decoded.text.startswith("Hypodense")
    assert decoded.encoding == "utf-8-sig"


def test_utf16_with_bom(tmp_path):
    path = tmp_path / "r.txt"
    path.write_bytes("Lésion hépatique 3 cm.".encode("utf-16"))
    decoded = read_text_file(path)
    assert decoded.text == "Lésion hépatique 3 cm."
    assert decoded.encoding == "utf-16"


def test_windows_1252_recorded(tmp_path):
    path = tmp_path / "r.txt"
    path.write_bytes("A 3 cm lesion \u2013 segment VI, caf\u00e9-au-lait.".encode("cp1252"))
    decoded = read_text_file(path)
    assert "\u2013" in decoded.text
    assert decoded.encoding == "cp1252"
    assert [f.code for f in decoded.flags] == ["report_decode"]


def test_latin1_fallback():
    data = "Masse \u00e0 la t\u00eate".encode("latin-1") + b"\x81"
    decoded = decode_bytes(data)
    assert decoded.encoding == "latin-1"


def test_header_lines_split_off(tmp_path):
    path = tmp_path / "r.txt"
    path.write_text("# SOURCE: x\n# LABELS: organ=liver\nNo focal liver lesion.\n", encoding="utf-8")
    decoded = read_text_file(path)
    assert decoded.text == "No focal liver lesion.\n"
    assert "LABELS" in decoded.header


@pytest.mark.parametrize(
    "content,code",
    [
        (b"", "report_empty"),
        (b"   \n\t ", "report_empty"),
        (b"\x00\x01\x02PNG\x00\x00binary", "report_binary"),
        (bytes(range(256)) * 4, "report_binary"),
    ],
)
def test_bad_input_raises_reason_code(tmp_path, content, code):
    path = tmp_path / "r.txt"
    path.write_bytes(content)
    with pytest.raises(ReportInputError) as info:
        read_text_file(path)
    assert info.value.reason_code == code
    assert str(path) in info.value.message


def test_too_large_file_rejected(tmp_path):
    path = tmp_path / "r.txt"
    path.write_bytes(b"no focal lesion. " * (10 * 1024 * 1024 // 17 + 1))
    with pytest.raises(ReportInputError) as info:
        read_text_file(path)
    assert info.value.reason_code == "report_too_large"


def test_missing_file_rejected(tmp_path):
    with pytest.raises(ReportInputError) as info:
        read_text_file(tmp_path / "absent.txt")
    assert info.value.reason_code == "report_missing"


def test_header_only_file_is_empty(tmp_path):
    path = tmp_path / "r.txt"
    path.write_text("# SOURCE: x\n# LABELS: y\n", encoding="utf-8")
    with pytest.raises(ReportInputError) as info:
        read_text_file(path)
    assert info.value.reason_code == "report_empty"
