"""Schema of an organ knowledge-graph YAML file, its fact catalogue and its graph vocabulary.

One YAML file per organ (``kg/organs/<organ>.yaml``) is validated into ``OrganFile``.
Unknown keys are errors, so a misspelt key is reported instead of ignored.

Node ids are ``<kind>:<local id>``; local ids are lower-case snake case and unique
within their kind:

=================  ==========================================  ==============================
kind               example node id                             from YAML section
=================  ==========================================  ==============================
organ              ``organ:pancreas``                          ``organ``
lesion             ``lesion:pancreas`` (a lesion of the organ) ``lesion``
subregion          ``subregion:head``                          ``subregions``
structure          ``structure:common_hepatic_artery``         ``structures``
layer              ``layer:submucosa``                         ``layers`` (hollow organs)
finding            ``finding:hypodense``                       ``findings.<attribute>.terms``
impression         ``impression:pdac``                         ``impressions``
endpoint           ``endpoint:malignant``, ``endpoint:ductal_adenocarcinoma``
                                                               ``endpoints`` (+ the behaviours)
stage_category     ``stage:T4``                                every category a rule assigns
table              ``table:pancreas_exocrine``                 ``staging.tables``
rule               ``rule:pancreas_exocrine_T4``               ``staging.tables.*.T/N/M``
fact               ``fact:max_diameter_mm``                    facts that rules read
=================  ==========================================  ==============================

Predicates (edge attribute ``predicate``; ``edge_id`` is ``subject|predicate|object``):

- ``has_subregion`` organ -> subregion; ``part_of`` subregion -> subregion or organ
- ``adjacent_to`` organ or subregion -> structure or subregion (region expansion in repair)
- ``has_layer`` organ -> layer
- ``located_in`` lesion -> organ or subregion
- ``has_<attribute>`` lesion -> finding, for example ``has_density`` or ``has_enhancement``
  (each attribute may name its own predicate)
- ``suggests`` finding -> impression, with ``strength`` in (0, 1]
- ``contradicts`` finding -> impression, with ``strength`` in (0, 1]
- ``differential_of`` impression -> impression
- ``subtype_of`` impression -> impression
- ``has_endpoint`` impression -> behaviour endpoint (benign, premalignant, malignant)
- ``histology`` impression -> histology endpoint; ``is_a`` histology endpoint -> behaviour endpoint
- ``staged_by`` impression -> table; ``staged_as`` impression -> stage category
- ``has_rule`` table -> rule; ``assigns`` rule -> stage category
- ``uses_fact`` rule -> fact; ``refers_to`` rule -> structure, layer or endpoint

Staging rules are data in a small condition language (see ``kg.conditions``): a leaf is
``{fact: NAME, op: OP, value: V}`` and ``all``/``any``/``not`` combine leaves. Facts are
the plain keys of ``FACTS`` below.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

ORGANS: tuple[str, ...] = ("liver", "pancreas", "stomach", "colon", "esophagus")

ID_PATTERN = r"^[a-z][a-z0-9_]*$"
RULE_ID_PATTERN = r"^[a-z][A-Za-z0-9_]*$"
SEMVER_PATTERN = r"^\d+\.\d+\.\d+$"
SNOMED_PATTERN = r"^\d{6,18}$"

Behaviour = Literal["benign", "premalignant", "malignant"]
BEHAVIOURS: tuple[str, ...] = ("benign", "premalignant", "malignant")

NODE_KINDS: tuple[str, ...] = (
    "organ", "lesion", "subregion", "structure", "layer", "finding", "impression",
    "endpoint", "stage_category", "table", "rule", "fact",
)

PREDICATES: tuple[str, ...] = (
    "has_subregion", "part_of", "adjacent_to", "has_layer", "located_in",
    "suggests", "contradicts", "differential_of", "subtype_of", "has_endpoint", "histology",
    "is_a", "staged_by", "staged_as", "has_rule", "assigns", "uses_fact", "refers_to",
)
"""Fixed predicates; ``has_<attribute>`` predicates come from the finding attributes."""

LADDER_PREDICATES: frozenset[str] = frozenset({"part_of", "subtype_of", "suggests", "has_endpoint", "histology", "is_a"})
"""Edges of the finding -> impression -> endpoint ladder and of the part hierarchies; they must form no cycle."""

STAGE_AXES: tuple[str, ...] = ("T", "N", "M")
CATEGORY_PATTERNS: dict[str, str] = {
    "T": r"^T(X|0|is|1|1a|1b|1c|2|3|4|4a|4b)$",
    "N": r"^N(X|0|1|1a|1b|1c|2|2a|2b|3|3a|3b)$",
    "M": r"^M(X|0|1|1a|1b|1c)$",
}


@dataclass(frozen=True)
class FactSpec:
    """One fact key that staging rules read and callers supply."""

    type: Literal["number", "integer", "boolean", "structure_list", "layer", "histology"]
    description: str
    unit: str = ""


FACTS: dict[str, FactSpec] = {
    "max_diameter_mm": FactSpec("number", "Greatest dimension of the primary tumour; with several tumours, of the largest one.", "mm"),
    "tumor_count": FactSpec("integer", "Number of primary tumours in the organ (1 means solitary)."),
    "nodes_positive": FactSpec("integer", "Number of regional lymph nodes with metastasis."),
    "node_metastasis": FactSpec("boolean", "Whether any regional lymph node has metastasis; used when the count is not known."),
    "invaded_structures": FactSpec(
        "structure_list",
        "Structures outside the organ that the tumour directly invades or involves: vessels, neighbouring organs, "
        "membranes such as the visceral peritoneum. Names resolve through the KG synonyms.",
    ),
    "depth": FactSpec("layer", "Deepest layer of a hollow organ's wall that the tumour reaches, for example 'submucosa'."),
    "vascular_invasion": FactSpec("boolean", "Vascular invasion by the tumour, gross or microscopic, short of a major vessel branch."),
    "distant_metastasis": FactSpec("boolean", "Whether any distant metastasis is present."),
    "metastasis_sites": FactSpec(
        "structure_list",
        "Distant metastasis sites, one entry per organ or site (for example liver, lung, peritoneum, distant_lymph_nodes).",
    ),
    "tumor_deposits": FactSpec("boolean", "Tumour deposits in the pericolorectal tissue or mesentery without residual node tissue."),
    "histology": FactSpec("histology", "Histological type, an endpoint or impression id or synonym; it chooses the staging table."),
}

FACT_OPS: dict[str, tuple[str, ...]] = {
    "number": ("eq", "ne", "lt", "le", "gt", "ge", "in", "not_in"),
    "integer": ("eq", "ne", "lt", "le", "gt", "ge", "in", "not_in"),
    "boolean": ("eq", "ne"),
    "layer": ("eq", "ne", "in", "not_in"),
    "histology": ("eq", "ne", "in", "not_in"),
    "structure_list": ("contains", "any_of", "none_of", "other_than", "count_eq", "count_ge", "count_le"),
}
OPS: tuple[str, ...] = tuple(sorted({op for ops in FACT_OPS.values() for op in ops}))


def node_id(kind: str, local_id: str) -> str:
    """Return the graph node id of a local id, for example ``finding:hypodense``."""
    prefix = "stage" if kind == "stage_category" else kind
    return f"{prefix}:{local_id}"


class Strict(BaseModel):
    """Base of every YAML section: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True)


Synonyms = dict[str, list[str]]
"""Surface forms per language code, for example ``{"en": ["head of pancreas"], "zh": ["胰头"]}``."""


class TermSpec(Strict):
    """A named thing with synonyms in several languages."""

    id: str = Field(pattern=ID_PATTERN)
    name: str = Field(min_length=1)
    synonyms: Synonyms = Field(default_factory=dict)
    snomed: str | None = Field(default=None, pattern=SNOMED_PATTERN, description="SNOMED CT concept id, where known.")
    note: str | None = None

    @field_validator("synonyms")
    @classmethod
    def _check_languages(cls, value: Synonyms) -> Synonyms:
        for lang in value:
            if not re.fullmatch(r"[a-z]{2,3}(-[A-Za-z]{2,4})?", lang):
                raise ValueError(f"language code {lang!r} is not an ISO 639 code such as 'en' or 'zh'")
        return value


class Subregion(TermSpec):
    part_of: str | None = Field(default=None, description="Parent subregion id; the organ when absent.")
    neighbours: list[str] = Field(default_factory=list, description="Adjacent subregion or structure ids.")
    totalseg: str | None = Field(default=None, description="TotalSegmentator class name of this subregion.")


class Structure(TermSpec):
    group: Literal["organ", "vessel", "duct", "membrane", "bone", "airway", "lymph_nodes", "muscle", "other"]
    totalseg: str | None = Field(default=None, description="TotalSegmentator class name of this structure.")


class Layer(TermSpec):
    """A layer of a hollow organ's wall; ``layers`` lists them from the lumen outwards."""


class Attribute(Strict):
    predicate: str | None = Field(default=None, pattern=ID_PATTERN, description="Edge predicate; default has_<attribute>.")
    terms: list[TermSpec] = Field(min_length=1)


class Evidence(Strict):
    finding: str = Field(pattern=ID_PATTERN)
    strength: float = Field(gt=0, le=1, description="How strongly the finding bears on the impression, in (0, 1].")


class Endpoint(TermSpec):
    """A histology endpoint and its behaviour."""

    behaviour: Behaviour


class Impression(TermSpec):
    behaviour: Behaviour
    histology: str = Field(pattern=ID_PATTERN, description="Histology endpoint id.")
    supports: list[Evidence] = Field(default_factory=list)
    contradicts: list[Evidence] = Field(default_factory=list)
    differential: list[str] = Field(default_factory=list)
    subtype_of: str | None = None
    staging_table: str | None = None


class Rule(Strict):
    id: str = Field(pattern=RULE_ID_PATTERN)
    category: str
    when: dict[str, Any]
    note: str | None = None


class Table(Strict):
    id: str = Field(pattern=ID_PATTERN)
    title: str
    default: bool = False
    applies_when: dict[str, Any] | None = Field(default=None, description="Condition choosing this table from the facts.")
    T: list[Rule] = Field(min_length=1)
    N: list[Rule] = Field(min_length=1)
    M: list[Rule] = Field(min_length=1)


class Staging(Strict):
    edition: Literal["AJCC8"] = "AJCC8"
    tables: list[Table] = Field(min_length=1)


class OrganFile(Strict):
    """One organ's knowledge graph as written in YAML."""

    organ: str = Field(pattern=ID_PATTERN)
    name: str
    version: str = Field(pattern=SEMVER_PATTERN, description="Semantic version that clinicians bump on each edit.")
    source: str = Field(min_length=1)
    reviewed_by: list[str] = Field(default_factory=list)
    synonyms: Synonyms = Field(default_factory=dict)
    snomed: str | None = Field(default=None, pattern=SNOMED_PATTERN)
    totalsegmentator: dict[str, dict[str, int]] = Field(
        default_factory=dict, description="TotalSegmentator task -> class name -> label value."
    )
    lesion: TermSpec
    subregions: list[Subregion] = Field(min_length=1)
    neighbours: list[str] = Field(default_factory=list)
    structures: list[Structure] = Field(default_factory=list)
    layers: list[Layer] = Field(default_factory=list)
    findings: dict[str, Attribute] = Field(min_length=1)
    endpoints: list[Endpoint] = Field(min_length=1)
    impressions: list[Impression] = Field(min_length=1)
    staging: Staging

    def attribute_predicate(self, attribute: str) -> str:
        """Return the edge predicate for lesion -> finding edges of ``attribute``."""
        spec = self.findings[attribute]
        return spec.predicate or f"has_{attribute}"
