"""Terms of an organ KG and the synonym index that resolves surface forms to them."""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field

from kg.schema import BEHAVIOURS, CATEGORY_PATTERNS, OrganFile, TermSpec, node_id

KIND_PRECEDENCE: tuple[str, ...] = (
    "impression", "finding", "subregion", "organ", "lesion", "structure", "layer", "endpoint", "stage_category", "table",
)
"""When one surface form names terms of several kinds, ``resolve`` without ``kind`` picks the first kind here."""

BEHAVIOUR_SYNONYMS: dict[str, dict[str, list[str]]] = {
    "benign": {"en": ["benign", "non-malignant"], "zh": ["良性"]},
    "premalignant": {"en": ["premalignant", "precancerous", "borderline"], "zh": ["癌前病变", "交界性"]},
    "malignant": {"en": ["malignant", "malignancy", "cancer"], "zh": ["恶性", "恶性肿瘤"]},
}

_DASHES = re.compile(r"[\-_‐‑‒–—/]+")
_SPACES = re.compile(r"\s+")
_STAGE_PREFIX = re.compile(r"^(?:y?[cp]|r|a)(?=[tnm](?:x|is|\d))")


def normalize(text: str) -> str:
    """Return the matching key of a surface form: NFKC, case-folded, hyphens and underscores as spaces."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = _DASHES.sub(" ", text)
    text = text.strip(" \t\r\n.,;:'\"()[]")
    text = _SPACES.sub(" ", text)
    # Chinese is written without spaces, so a space inside a Chinese form is noise.
    if re.search(r"[\u4e00-\u9fff]", text):
        text = text.replace(" ", "")
    return text


def normalize_stage(text: str) -> str:
    """Return a stage category's matching key with the c/p/yp prefix removed (``pT4a`` -> ``t4a``)."""
    key = normalize(text).replace(" ", "")
    return _STAGE_PREFIX.sub("", key)


@dataclass(frozen=True)
class Term:
    """A resolved term: its kind, local id, graph node id, name and synonyms per language."""

    kind: str
    id: str
    node_id: str
    name: str
    synonyms: dict[str, tuple[str, ...]] = field(default_factory=dict, hash=False, compare=False)
    attribute: str | None = None


@dataclass
class TermIndex:
    """Every term of one organ KG, by kind and id, and by normalised surface form."""

    terms: dict[tuple[str, str], Term] = field(default_factory=dict)
    forms: dict[str, list[tuple[str, str]]] = field(default_factory=lambda: defaultdict(list))
    surfaces: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)
    compact_forms: dict[str, list[tuple[str, str]]] = field(default_factory=lambda: defaultdict(list))
    """Forms with spaces removed, so 'hypo-attenuating' still finds 'hypoattenuating'."""

    def add(self, kind: str, spec_id: str, name: str, synonyms: dict[str, list[str]] | None = None, attribute: str | None = None) -> Term:
        synonyms = synonyms or {}
        term = Term(kind, spec_id, node_id(kind, spec_id), name, {lang: tuple(v) for lang, v in synonyms.items()}, attribute)
        self.terms[(kind, spec_id)] = term
        surfaces = [(spec_id, "id"), (name, "en")] + [(form, lang) for lang, forms in synonyms.items() for form in forms]
        for surface, lang in surfaces:
            key = normalize_stage(surface) if kind == "stage_category" else normalize(surface)
            if (kind, spec_id) not in self.forms[key]:
                self.forms[key].append((kind, spec_id))
            compact = key.replace(" ", "")
            if (kind, spec_id) not in self.compact_forms[compact]:
                self.compact_forms[compact].append((kind, spec_id))
            if lang != "id":
                self.surfaces.setdefault((surface, lang), (kind, spec_id))
        return term

    def lookup(self, text: str, kind: str | None = None) -> Term | None:
        """Return the term that ``text`` names, preferring kinds in ``KIND_PRECEDENCE`` order."""
        key = normalize(text)
        candidates = list(self.forms.get(key, [])) or list(self.compact_forms.get(key.replace(" ", ""), []))
        candidates += [c for c in self.forms.get(normalize_stage(text), []) if c[0] == "stage_category" and c not in candidates]
        if kind is not None:
            candidates = [c for c in candidates if c[0] == kind]
        if not candidates:
            return None
        candidates.sort(key=lambda c: KIND_PRECEDENCE.index(c[0]) if c[0] in KIND_PRECEDENCE else len(KIND_PRECEDENCE))
        return self.terms[candidates[0]]

    def ids(self, kind: str) -> list[str]:
        return [spec_id for (k, spec_id) in self.terms if k == kind]


def build_index(doc: OrganFile) -> TermIndex:
    """Index every named thing of ``doc``; stage categories come from the staging rules."""
    index = TermIndex()
    index.add("organ", doc.organ, doc.name, doc.synonyms)
    index.add("lesion", doc.lesion.id, doc.lesion.name, doc.lesion.synonyms)
    for kind, specs in (("subregion", doc.subregions), ("structure", doc.structures), ("layer", doc.layers),
                        ("endpoint", doc.endpoints), ("impression", doc.impressions)):
        for spec in specs:
            _add_spec(index, kind, spec)
    for attribute, spec in doc.findings.items():
        for term in spec.terms:
            index.add("finding", term.id, term.name, term.synonyms, attribute=attribute)
    for behaviour in BEHAVIOURS:
        index.add("endpoint", behaviour, behaviour, BEHAVIOUR_SYNONYMS[behaviour])
    for category in stage_categories(doc):
        index.add("stage_category", category, category, {"en": [f"stage {category}"]})
    for table in doc.staging.tables:
        index.add("table", table.id, table.title)
    return index


def _add_spec(index: TermIndex, kind: str, spec: TermSpec) -> None:
    index.add(kind, spec.id, spec.name, spec.synonyms)


def stage_categories(doc: OrganFile) -> list[str]:
    """Return TX, NX, MX and every category a staging rule of ``doc`` assigns, in rule order."""
    categories = ["TX", "NX", "MX"]
    for table in doc.staging.tables:
        for axis in ("T", "N", "M"):
            for rule in getattr(table, axis):
                if re.fullmatch(CATEGORY_PATTERNS[axis], rule.category) and rule.category not in categories:
                    categories.append(rule.category)
    return categories
