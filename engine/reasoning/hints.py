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

    strategy: str | None = None
    """Repair strategy of the round (expand_region, suspected_causes, reextract, pathology_feedback)."""

    def then(self, later: RepairHints) -> RepairHints:
        """Combine these hints with a later round's, so a repair keeps what earlier rounds found.

        The later round's strategy, round number and failures win. Neighbour
        features add up, and the other hints come from the later round when it sets them.
        """
        extra = self.extra_features + tuple(ref for ref in later.extra_features if ref not in self.extra_features)
        return RepairHints(
            extra_features=extra,
            suspected_causes=later.suspected_causes or self.suspected_causes,
            failed_checks=later.failed_checks,
            pathology_truth=later.pathology_truth or self.pathology_truth,
            preferred_section=later.preferred_section or self.preferred_section,
            round=later.round,
            strategy=later.strategy,
        )

    @property
    def failed_codes(self) -> frozenset[str]:
        """Reason codes of ``failed_checks``."""
        return frozenset(failure.code for failure in self.failed_checks)
