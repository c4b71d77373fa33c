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


def _certainty(text: str, target: str) -> str:
    mentions = [m for m in analyse(text, [(target, "FINDING")]).mentions if m.text.lower() == target]
    assert len(mentions) == 1, mentions
    return mentions[0].certainty


def test_likely_diagnosis_is_probable() -> None:
    assert _certainty("Pancreatic tail mass, likely pancreatic ductal adenocarcinoma.", "pancreatic ductal adenocarcinoma") == "probable"


def test_cannot_be_excluded_is_possible() -> None:
    assert _certainty("Fatty infiltration; however, metastasis cannot be entirely excluded.", "metastasis") == "possible"


def test_unhedged_finding_is_definite() -> None:
    assert _certainty("There is a metastasis in segment 6.", "metastasis") == "definite"
