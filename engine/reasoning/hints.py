"""Repair hints: the extra input a repair round gives the reasoner before it reasons about an organ again."""

from __future__ import annotations

from dataclasses import dataclass

from data_contracts import CheckFailure, EvidenceRef


@dataclass(frozen=True)
class PathologyTruth:
    """Pathology facts a conclusion must agree with (the summarizer's pathology-feedback round)."""

    histology: str | None = None
    malignant: bool | None = None
    T: str | None = None
    N: str | None = None
    M: str | None = None


@dataclass(frozen=True)
class RepairHints:
    """Extra input for one re-reasoning round; every field is empty on the first round."""

    extra_features: tuple[EvidenceRef, ...] = ()
    """Features of the KG neighbours of the organ region (expand_region)."""

    suspected_causes: tuple[str, ...] = ()
    """Impression ids from the KG differential of the findings, best first (suspected_causes)."""

    failed_checks: tuple[CheckFailure, ...] = ()
    """The checks the previous chain failed."""

    pathology_truth: PathologyTruth | None = None
    """Histology and stage from the pathology report (pathology_feedback)."""

    preferred_section: str | None = None
    """Report section whose spans win when sections disagree (reextract); None uses every section."""

    round: int = 0
    """Repair round these hints belong to; 0 is the first reasoning pass."""

    @property
    def failed_codes(self) -> frozenset[str]:
        """Reason codes of ``failed_checks``."""
        return frozenset(failure.code for failure in self.failed_checks)
