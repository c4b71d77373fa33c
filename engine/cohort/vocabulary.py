"""The KG terms the cohort tools write: impressions, findings, subregions, and staging.

Reports use the names and synonyms the organ KGs define, so the extractor resolves
every term it reads back. A catalogue entry whose organ has no loadable KG, or whose
impression that KG lacks, is left out of sampling (logged once per organ).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from engine.cohort.catalogue import CATALOGUE, LesionKind
from engine.cohort.labels import KG_ORGANS

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Phrase:
    """A KG term's id and the surface forms a report may use for it, per language."""

    id: str
    forms: dict[str, tuple[str, ...]]


@dataclass
class Vocabulary:
    """The loaded organ KGs and the term lookups the generators need."""

    kgs: dict[str, Any]
    _cache: dict[tuple[str, str, str], Phrase | None] = field(default_factory=dict)

    @classmethod
    def load(cls) -> Vocabulary:
        """Load every shipped organ KG that is present and valid."""
        from kg import KGError, load_organ

        kgs = {}
        for organ in KG_ORGANS:
            try:
                kgs[organ] = load_organ(organ)
            except (KGError, OSError) as error:
                logger.warning("no usable %s KG, so no %s lesions are generated: %s", organ, organ, error)
        return cls(kgs)

    def usable_kinds(self, organs_present: set[str]) -> list[LesionKind]:
        """Return catalogue entries whose organ is in the scan and whose impression the organ KG has."""
        return [k for k in CATALOGUE if k.organ in organs_present and self.impression(k) is not None]

    def impression(self, kind: LesionKind) -> Phrase | None:
        """Return the impression term of ``kind``, or None when its KG lacks it."""
        return self._term(kind.organ, kind.impression, "impression")

    def finding(self, organ: str, name: str) -> Phrase | None:
        """Return the finding term ``name`` (id or synonym) of ``organ``'s KG, or None."""
        return self._term(organ, name, "finding")

    def structure(self, organ: str, name: str) -> Phrase | None:
        """Return the structure term ``name`` of ``organ``'s KG, or None."""
        return self._term(organ, name, "structure")

    def organ_phrase(self, organ: str) -> Phrase:
        """Return the organ's own term; an organ without a KG gets its plain name."""
        return self._term(organ, organ, "organ") or Phrase(organ, {"en": (organ.replace("_", " "),)})

    def subregion(self, organ: str, key: str) -> Phrase | None:
        """Return the KG subregion for a partition key of ``engine.cohort.subregions``, or None."""
        candidates = [key, key.replace("_", " ")]
        if key.startswith("segment_"):
            number = key.split("_")[1]
            candidates += [f"S{number}", f"segment {number}", f"Couinaud segment {number}", f"liver_segment_{number}"]
        for candidate in candidates:
            phrase = self._term(organ, candidate, "subregion")
            if phrase is not None:
                return phrase
        kg = self.kgs.get(organ)
        if kg is not None and key.startswith("segment_"):
            for spec in kg.doc.subregions:
                if spec.totalseg == f"liver_{key}":
                    return self._term(organ, spec.id, "subregion")
        return None

    def layer(self, organ: str, name: str) -> Phrase | None:
        """Return the wall layer term ``name`` of ``organ``'s KG, or None."""
        return self._term(organ, name, "layer")

    def layer_ids(self, organ: str) -> list[str]:
        """Return the organ's wall layer ids from the lumen outwards (empty for solid organs)."""
        kg = self.kgs.get(organ)
        return [term.id for term in kg.layers] if kg is not None else []

    def impression_behaviour(self, kind: LesionKind) -> str:
        """Return benign, premalignant or malignant for ``kind``'s impression."""
        return self._impression_info(kind).behaviour

    def histology(self, kind: LesionKind) -> Phrase:
        """Return the histology endpoint term of ``kind``'s impression."""
        endpoint = self._impression_info(kind).histology
        return self._term(kind.organ, endpoint, "endpoint") or Phrase(endpoint, {"en": (endpoint.replace("_", " "),)})

    def has_staging(self, kind: LesionKind) -> bool:
        """Return True when ``kind``'s impression has an AJCC staging table in its KG."""
        phrase = self.impression(kind)
        return phrase is not None and self.kgs[kind.organ].impressions[phrase.id].staging_table is not None

    def stage(self, organ: str, facts: dict[str, Any]):
        """Evaluate the organ KG's AJCC 8 rules on ``facts`` (returns ``StageResult``)."""
        return self.kgs[organ].stage(facts)

    def _impression_info(self, kind: LesionKind) -> Any:
        phrase = self.impression(kind)
        if phrase is None:
            raise KeyError(f"catalogue entry {kind.key}: impression '{kind.impression}' is not in the {kind.organ} KG; add it or its synonym")
        return self.kgs[kind.organ].impressions[phrase.id]

    def _term(self, organ: str, text: str, kind: str) -> Phrase | None:
        key = (organ, text, kind)
        if key not in self._cache:
            self._cache[key] = self._lookup(organ, text, kind)
        return self._cache[key]

    def _lookup(self, organ: str, text: str, kind: str) -> Phrase | None:
        kg = self.kgs.get(organ)
        term = kg.resolve(text, kind) if kg is not None else None
        if term is None:
            return None
        forms = {"en": (term.name, *term.synonyms.get("en", ()))}
        for language, synonyms in term.synonyms.items():
            if language != "en" and synonyms:
                forms[language] = tuple(synonyms)
        return Phrase(term.id, forms)

