"""Schema and graph checks of one organ KG file; each problem carries the line it sits on."""

from __future__ import annotations

import re
import typing
from collections.abc import Iterator
from typing import Any

import networkx as nx
from pydantic import BaseModel, ValidationError

from kg.conditions import check_condition, did_you_mean
from kg.schema import BEHAVIOURS, CATEGORY_PATTERNS, ID_PATTERN, ORGANS, RULE_ID_PATTERN, SEMVER_PATTERN, SNOMED_PATTERN, OrganFile
from kg.terms import TermIndex, build_index
from kg.yaml_lines import ParsedYaml

Issue = tuple[int, str, str]
"""``(line, code, message)``; the caller adds the file name."""

PLACEHOLDERS = frozenset({"todo", "tbd", "fixme", "placeholder", "xxx", "n/a", "?", "..."})
REQUIRED_LANGUAGES = ("en", "zh")
SYNONYM_SECTIONS = ("subregions", "structures", "layers", "endpoints", "impressions")


def check_raw(parsed: ParsedYaml) -> list[Issue]:
    """Check what the schema cannot see: duplicate keys and placeholder values."""
    issues: list[Issue] = [(line, "duplicate-key", f"key '{key}' appears twice in one mapping; keep one of them") for line, key in parsed.duplicate_keys]
    for path, value in _walk_values(parsed.data, ()):
        if isinstance(value, str) and value.strip().casefold() in PLACEHOLDERS:
            issues.append((parsed.line_of(path), "placeholder-value", f"'{value}' at {_dotted(path)} is a placeholder; write the real value or remove the entry"))
    return issues


def _walk_values(data: Any, path: tuple) -> Iterator[tuple[tuple, Any]]:
    if isinstance(data, dict):
        for key, value in data.items():
            yield from _walk_values(value, path + (key,))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from _walk_values(value, path + (index,))
    else:
        yield path, data


def _dotted(path: tuple) -> str:
    return ".".join(str(p) for p in path) or "top level"


def validate_schema(parsed: ParsedYaml) -> tuple[OrganFile | None, list[Issue]]:
    """Validate the parsed data into ``OrganFile``; return every schema problem at once."""
    if not isinstance(parsed.data, dict):
        return None, [(1, "schema-error", "the file must be a YAML mapping with 'organ', 'version', 'source', ... at the top level")]
    try:
        return OrganFile.model_validate(parsed.data), []
    except ValidationError as error:
        return None, [_schema_issue(parsed, e) for e in error.errors()]


def _schema_issue(parsed: ParsedYaml, error: dict[str, Any]) -> Issue:
    loc = tuple(error["loc"])
    line = parsed.line_of(loc)
    if error["type"] == "missing" and loc in (("source",), ("version",)):
        return line, f"missing-{loc[0]}", f"the file has no '{loc[0]}'; add '{loc[0]}:' at the top level ({_field_help(loc[0])})"
    if error["type"] == "extra_forbidden":
        allowed = _allowed_keys(loc[:-1])
        return line, "unknown-key", f"unknown key '{loc[-1]}' at {_dotted(loc[:-1])}{did_you_mean(str(loc[-1]), allowed)}"
    if error["type"] == "missing":
        return line, "missing-key", f"{_dotted(loc[:-1])} has no '{loc[-1]}'; add it"
    if error["type"] == "string_pattern_mismatch":
        return line, "schema-error", f"{_dotted(loc)}: {error.get('input')!r} {_PATTERN_HELP.get(error['ctx']['pattern'], 'does not match ' + error['ctx']['pattern'])}"
    return line, "schema-error", f"{_dotted(loc)}: {error['msg']}"


_PATTERN_HELP = {
    ID_PATTERN: "is not a valid id; use lower-case letters, digits and underscores, starting with a letter",
    RULE_ID_PATTERN: "is not a valid rule id; use letters, digits and underscores, starting with a lower-case letter",
    SEMVER_PATTERN: "is not a semantic version; write MAJOR.MINOR.PATCH, for example 1.2.0",
    SNOMED_PATTERN: "is not a SNOMED CT id; write the 6 to 18 digits of the concept id in quotes",
}


def _field_help(name: str) -> str:
    info = OrganFile.model_fields[name]
    return info.description or "for example 'AJCC Cancer Staging Manual, 8th edition'"


def _allowed_keys(loc: tuple) -> list[str]:
    model: Any = OrganFile
    for part in loc:
        if isinstance(part, int) or not (isinstance(model, type) and issubclass(model, BaseModel)):
            continue
        if part not in model.model_fields:
            if model is not OrganFile and hasattr(model, "model_fields"):
                continue
            return []
        model = _inner_model(model.model_fields[part].annotation)
        if model is None:
            return []
    return list(model.model_fields) if isinstance(model, type) and issubclass(model, BaseModel) else []


def _inner_model(annotation: Any) -> Any:
    while True:
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            return annotation
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if not args:
            return None
        annotation = args[-1]


def check_document(doc: OrganFile, parsed: ParsedYaml, stem: str | None = None) -> list[Issue]:
    """Check references, ids, cycles, rules, reachability and synonyms of a schema-valid file."""
    index = build_index(doc)
    issues: list[Issue] = []
    issues += _check_identity(doc, parsed, stem)
    issues += _check_duplicate_ids(doc, parsed)
    issues += _check_references(doc, parsed, index)
    issues += _check_cycles(doc, parsed)
    issues += _check_staging(doc, parsed, index)
    issues += _check_reachability(doc, parsed)
    issues += _check_synonyms(doc, parsed, index)
    issues += _check_snomed(parsed)
    return issues


def _check_identity(doc: OrganFile, parsed: ParsedYaml, stem: str | None) -> list[Issue]:
    issues: list[Issue] = []
    if stem in ORGANS and doc.organ != stem:
        issues.append((parsed.line_of(("organ",)), "organ-mismatch", f"file {stem}.yaml declares organ '{doc.organ}'; set 'organ: {stem}' or rename the file"))
    if doc.organ not in ORGANS:
        issues.append((parsed.line_of(("organ",)), "unknown-organ", f"organ '{doc.organ}' is not one of {', '.join(ORGANS)}{did_you_mean(doc.organ, ORGANS)}"))
    return issues


def _id_entries(doc: OrganFile) -> Iterator[tuple[str, str, tuple]]:
    """Yield ``(kind, id, path)`` of every declared id."""
    for kind, section in (("subregion", "subregions"), ("structure", "structures"), ("layer", "layers"),
                          ("endpoint", "endpoints"), ("impression", "impressions")):
        for i, spec in enumerate(getattr(doc, section)):
            yield kind, spec.id, (section, i, "id")
    for attribute, spec in doc.findings.items():
        for i, term in enumerate(spec.terms):
            yield "finding", term.id, ("findings", attribute, "terms", i, "id")
    for t, table in enumerate(doc.staging.tables):
        yield "table", table.id, ("staging", "tables", t, "id")
        for axis in ("T", "N", "M"):
            for r, rule in enumerate(getattr(table, axis)):
                yield "rule", rule.id, ("staging", "tables", t, axis, r, "id")


def _check_duplicate_ids(doc: OrganFile, parsed: ParsedYaml) -> list[Issue]:
    issues: list[Issue] = []
    seen: dict[tuple[str, str], tuple] = {}
    for kind, spec_id, path in _id_entries(doc):
        # Neighbour lists name subregions and structures alike, so they share one id space.
        space = "region" if kind in ("subregion", "structure") else kind
        if (space, spec_id) in seen:
            first = parsed.line_of(seen[(space, spec_id)])
            issues.append((parsed.line_of(path), "duplicate-id", f"{kind} id '{spec_id}' is already used on line {first}; give this entry another id"))
        else:
            seen[(space, spec_id)] = path
        if kind == "endpoint" and spec_id in BEHAVIOURS:
            issues.append((parsed.line_of(path), "duplicate-id", f"endpoint id '{spec_id}' is reserved for the behaviour endpoint; name the histology, for example '{spec_id}_neoplasm'"))
    return issues


def _check_references(doc: OrganFile, parsed: ParsedYaml, index: TermIndex) -> list[Issue]:
    issues: list[Issue] = []
    subregions = index.ids("subregion")
    regions = subregions + index.ids("structure")
    histologies = [e.id for e in doc.endpoints]
    impressions = index.ids("impression")
    tables = [t.id for t in doc.staging.tables]
    totalseg_names = {name for labels in doc.totalsegmentator.values() for name in labels}

    def ref(value: str | None, choices: list[str], expected_kind: str, path: tuple) -> None:
        if value is not None and value not in choices:
            issues.append((parsed.line_of(path), "unknown-reference", f"unknown {expected_kind} '{value}'{_other_kind_hint(index, value, expected_kind)}{did_you_mean(value, choices)}"))

    for i, spec in enumerate(doc.subregions):
        ref(spec.part_of, subregions, "subregion", ("subregions", i, "part_of"))
        for j, name in enumerate(spec.neighbours):
            ref(name, regions, "subregion or structure", ("subregions", i, "neighbours", j))
    for j, name in enumerate(doc.neighbours):
        ref(name, index.ids("structure"), "structure", ("neighbours", j))
    for section in ("subregions", "structures"):
        for i, spec in enumerate(getattr(doc, section)):
            if spec.totalseg is not None and spec.totalseg not in totalseg_names:
                issues.append((parsed.line_of((section, i, "totalseg")), "unknown-reference",
                               f"TotalSegmentator class '{spec.totalseg}' is not listed under 'totalsegmentator'{did_you_mean(spec.totalseg, totalseg_names)}"))
    for i, imp in enumerate(doc.impressions):
        issues += _check_impression_refs(doc, parsed, index, i, imp, ref, histologies, impressions, tables)
    return issues


def _check_impression_refs(doc, parsed, index, i, imp, ref, histologies, impressions, tables) -> list[Issue]:
    issues: list[Issue] = []
    findings = index.ids("finding")
    ref(imp.histology, histologies, "histology endpoint", ("impressions", i, "histology"))
    for key in ("supports", "contradicts"):
        for j, evidence in enumerate(getattr(imp, key)):
            ref(evidence.finding, findings, "finding", ("impressions", i, key, j, "finding"))
    for j, other in enumerate(imp.differential):
        ref(other, impressions, "impression", ("impressions", i, "differential", j))
    ref(imp.subtype_of, impressions, "impression", ("impressions", i, "subtype_of"))
    ref(imp.staging_table, tables, "staging table", ("impressions", i, "staging_table"))

    endpoint = next((e for e in doc.endpoints if e.id == imp.histology), None)
    if endpoint is not None and endpoint.behaviour != imp.behaviour:
        issues.append((parsed.line_of(("impressions", i, "behaviour")), "behaviour-mismatch",
                       f"impression '{imp.id}' is {imp.behaviour} but its histology '{endpoint.id}' is {endpoint.behaviour}; make them agree"))
    supported = {e.finding for e in imp.supports}
    for j, evidence in enumerate(imp.contradicts):
        if evidence.finding in supported:
            issues.append((parsed.line_of(("impressions", i, "contradicts", j, "finding")), "conflicting-evidence",
                           f"finding '{evidence.finding}' both supports and contradicts impression '{imp.id}'; keep one"))
    return issues


def _other_kind_hint(index: TermIndex, value: str, expected_kind: str) -> str:
    term = index.lookup(value)
    if term is None or term.kind in expected_kind or term.id != value:
        return ""
    article = "an" if term.kind[0] in "aeiou" else "a"
    return f" ('{value}' is {article} {term.kind}, not a {expected_kind})"


def ladder_graph(doc: OrganFile) -> nx.DiGraph:
    """Return the part-of, subtype and finding -> impression -> endpoint edges as one digraph."""
    graph = nx.DiGraph()
    for spec in doc.subregions:
        if spec.part_of:
            graph.add_edge(("subregion", spec.id), ("subregion", spec.part_of))
    for imp in doc.impressions:
        if imp.subtype_of:
            graph.add_edge(("impression", imp.id), ("impression", imp.subtype_of))
        for evidence in imp.supports:
            graph.add_edge(("finding", evidence.finding), ("impression", imp.id))
        graph.add_edge(("impression", imp.id), ("endpoint", imp.histology))
    return graph


def _check_cycles(doc: OrganFile, parsed: ParsedYaml) -> list[Issue]:
    paths = {("subregion", s.id): ("subregions", i, "part_of") for i, s in enumerate(doc.subregions)}
    paths |= {("impression", m.id): ("impressions", i, "subtype_of") for i, m in enumerate(doc.impressions)}
    issues: list[Issue] = []
    for cycle in nx.simple_cycles(ladder_graph(doc)):
        names = " -> ".join(f"{kind} '{spec_id}'" for kind, spec_id in cycle + cycle[:1])
        line = min(parsed.line_of(paths.get(node, ())) for node in cycle)
        issues.append((line, "cycle", f"the ladder must be acyclic but has the cycle {names}; remove one 'part_of' or 'subtype_of' link"))
    return issues


def _check_staging(doc: OrganFile, parsed: ParsedYaml, index: TermIndex) -> list[Issue]:
    issues: list[Issue] = []
    resolver = make_resolver(doc, index)
    defaults = [t for t in doc.staging.tables if t.default]
    if len(defaults) != 1:
        issues.append((parsed.line_of(("staging", "tables")), "default-table", f"exactly one staging table must have 'default: true'; found {len(defaults)}"))
    for t, table in enumerate(doc.staging.tables):
        base = ("staging", "tables", t)
        if not table.default and table.applies_when is None:
            issues.append((parsed.line_of(base + ("id",)), "missing-key", f"table '{table.id}' is not the default, so it needs 'applies_when' to say which facts choose it"))
        if table.applies_when is not None:
            issues += _condition_issues(table.applies_when, base + ("applies_when",), parsed, resolver)
        for axis in ("T", "N", "M"):
            for r, rule in enumerate(getattr(table, axis)):
                path = base + (axis, r)
                if not re.fullmatch(CATEGORY_PATTERNS[axis], rule.category):
                    issues.append((parsed.line_of(path + ("category",)), "invalid-category", f"rule '{rule.id}' assigns '{rule.category}', which is not an AJCC 8 {axis} category{did_you_mean(rule.category, _axis_examples(axis))}"))
                issues += _condition_issues(rule.when, path + ("when",), parsed, resolver)
    return issues


def _axis_examples(axis: str) -> list[str]:
    body = CATEGORY_PATTERNS[axis][len("^" + axis + "("):-len(")$")]
    return [axis + part for part in body.split("|")]


def _condition_issues(condition: dict, base: tuple, parsed: ParsedYaml, resolver) -> list[Issue]:
    return [(parsed.line_of(base + issue.path), issue.code, issue.message) for issue in check_condition(condition, resolver)]


def make_resolver(doc: OrganFile, index: TermIndex):
    """Return the resolver that maps names in rules and facts to structure, layer and histology ids."""
    histology_by_impression = {imp.id: imp.histology for imp in doc.impressions}

    def resolver(fact_type: str, name: str) -> str | None:
        if not isinstance(name, str):
            return None
        if fact_type == "structure_list":
            term = index.lookup(name, "structure")
            return term.id if term else None
        if fact_type == "layer":
            term = index.lookup(name, "layer")
            return term.id if term else None
        term = index.lookup(name, "endpoint")
        if term is not None and term.id not in BEHAVIOURS:
            return term.id
        term = index.lookup(name, "impression")
        return histology_by_impression.get(term.id) if term else None

    def choices(fact_type: str) -> list[str]:
        kind = {"structure_list": "structure", "layer": "layer"}.get(fact_type, "endpoint")
        return [i for i in index.ids(kind) if i not in BEHAVIOURS]

    resolver.choices = choices  # type: ignore[attr-defined]
    return resolver


def _check_reachability(doc: OrganFile, parsed: ParsedYaml) -> list[Issue]:
    return [
        (parsed.line_of(("impressions", i, "id")), "unreachable-impression",
         f"impression '{imp.id}' has no supporting finding, so no reasoning chain can reach it; add a 'supports' entry")
        for i, imp in enumerate(doc.impressions) if not imp.supports
    ]


def _check_synonyms(doc: OrganFile, parsed: ParsedYaml, index: TermIndex) -> list[Issue]:
    issues: list[Issue] = []
    for key, owners in index.forms.items():
        by_kind: dict[str, list[str]] = {}
        for kind, spec_id in owners:
            by_kind.setdefault(kind, []).append(spec_id)
        for kind, ids in by_kind.items():
            if len(ids) > 1:
                path = _term_path(doc, kind, ids[1])
                issues.append((parsed.line_of(path), "ambiguous-synonym", f"'{key}' names {kind}s {', '.join(repr(i) for i in ids)}; keep it on one of them"))
    for section in SYNONYM_SECTIONS:
        for i, spec in enumerate(getattr(doc, section)):
            issues += _language_issues(spec, (section, i), parsed)
    issues += _language_issues(doc.lesion, ("lesion",), parsed)
    for attribute, spec in doc.findings.items():
        for i, term in enumerate(spec.terms):
            issues += _language_issues(term, ("findings", attribute, "terms", i), parsed)
    return issues


def _language_issues(spec, path: tuple, parsed: ParsedYaml) -> list[Issue]:
    absent = [lang for lang in REQUIRED_LANGUAGES if not spec.synonyms.get(lang)]
    if not absent:
        return []
    return [(parsed.line_of(path + ("id",)), "missing-synonym", f"'{spec.id}' has no synonyms in {', '.join(absent)}; add 'synonyms: {{{absent[0]}: [...]}}' so reports in that language resolve")]


def _term_path(doc: OrganFile, kind: str, spec_id: str) -> tuple:
    for entry_kind, entry_id, path in _id_entries(doc):
        if entry_kind == kind and entry_id == spec_id:
            return path[:-1]
    return ()


def _check_snomed(parsed: ParsedYaml) -> list[Issue]:
    issues: list[Issue] = []
    for path, value in _walk_values(parsed.data, ()):
        if path and path[-1] == "snomed" and isinstance(value, str) and value.isdigit() and not verhoeff_valid(value):
            issues.append((parsed.line_of(path), "invalid-snomed", f"SNOMED CT id {value} fails its check digit; copy the id again from the SNOMED browser"))
    return issues


def verhoeff_valid(number: str) -> bool:
    """Return whether ``number`` passes the Verhoeff check that SNOMED CT ids carry in their last digit."""
    check = 0
    for position, digit in enumerate(reversed(number)):
        check = _D[check][_P[position % 8][int(digit)]]
    return check == 0


_D = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 2, 3, 4, 0, 6, 7, 8, 9, 5], [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
    [3, 4, 0, 1, 2, 8, 9, 5, 6, 7], [4, 0, 1, 2, 3, 9, 5, 6, 7, 8], [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
    [6, 5, 9, 8, 7, 1, 0, 4, 3, 2], [7, 6, 5, 9, 8, 2, 1, 0, 4, 3], [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
    [9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
]
_P = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 5, 7, 6, 2, 8, 3, 0, 9, 4], [5, 8, 0, 3, 7, 9, 6, 1, 4, 2],
    [8, 9, 1, 6, 0, 4, 3, 5, 2, 7], [9, 4, 5, 3, 1, 2, 6, 8, 7, 0], [4, 2, 8, 6, 5, 7, 3, 9, 0, 1],
    [2, 7, 9, 3, 8, 0, 6, 4, 1, 5], [7, 0, 4, 6, 9, 1, 3, 2, 5, 8],
]

