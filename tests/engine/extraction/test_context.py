"""The medspacy ConText pipeline: PyRuSH's token-level debug lines stay silent once it is built."""

from __future__ import annotations

from engine.text.context import analyse


def test_pyrush_debug_lines_silenced(capfd):
    import medspacy

    analyse("No liver lesion.", [("lesion", "LESION")])
    capfd.readouterr()

    pyrush = medspacy.load(enable=["medspacy_pyrush"])
    pyrush("A mass in the pancreas. No liver lesion.")

    assert "DEBUG" not in capfd.readouterr().err
