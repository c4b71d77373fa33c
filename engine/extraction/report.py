"""Rules backend for radiology reports: text in, ``ReportFeatures`` out, offline and deterministic."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

from data_contracts.common import Flag
from data_contracts.report import ReportFeatures
from engine.extraction import chinese
from engine.extraction.consistency import reconcile_locations
from engine.extraction.language import detect_language, text_problem
from engine.extraction.lesions import find_lesion_drafts, implausible_size_flags, merge_drafts, to_findings
from engine.extraction.lexicon import IGNORED_WORDS, LESION_WORDS, METASTASIS_WORDS, NODE_WORDS, RELATION_WORDS, Lexicon, build_lexicon
from engine.extraction.mentions import Sentence, organ_of, organise
from engine.extraction.metastases import find_metastases
from engine.extraction.nodes import find_nodes
from engine.extraction.vessels import find_relations
from engine.text.context import analyse
from engine.text.sections import split_sections, standardize
from engine.text.sizes import find_sizes

log = logging.getLogger(__name__)

_NORMAL = re.compile(r"\b(?:normal|unremarkable|within normal limits|clear)\b", re.IGNORECASE)


def extract_report(text: str, case_id: str, kgs: Mapping[str, Any], *, source_file: str | None = None, encoding: str = "utf-8") -> ReportFeatures:
    """Extract lesions, nodes, vessels, invasions and metastases from one radiology report."""
    problem = text_problem(text, case_id, source_file)
    if problem is not None:
        language = detect_language(text) if problem.code == "unsupported_language" else "en"
        return ReportFeatures(case_id=case_id, language=language, encoding=encoding, flags=(problem,))
    language = detect_language(text)
    lexicon = build_lexicon(kgs)
    if language == "zh" and not lexicon.has_zh:
        problem = Flag(code="unsupported_language", file=source_file, message=f"case {case_id}: the report is Chinese and the KGs have no Chinese synonyms")
        return ReportFeatures(case_id=case_id, language=language, encoding=encoding, flags=(problem,))
    if language == "zh":
        features = chinese.extract_chinese(text, case_id, kgs, lexicon, source_file=source_file, encoding=encoding)
    else:
        features = _extract_english(text, case_id, kgs, lexicon, source_file, encoding)

    flags = list(features.flags)
    if not features.lesions and not features.organs_normal:
        flags.append(_no_findings(case_id, source_file))
    log.debug("case %s: %d lesions, %d nodes", case_id, len(features.lesions), len(features.nodes))
    return features.model_copy(update={"flags": tuple(flags)})


def _extract_english(text: str, case_id: str, kgs: Mapping[str, Any], lexicon: Lexicon, source_file: str | None, encoding: str) -> ReportFeatures:
    sections = split_sections(text)
    analysed = analyse(text, targets(lexicon))
    sentences = organise(text, analysed, lexicon, find_sizes(text), sections)
    mentions = find_lesion_drafts(text, sentences, lexicon, kgs, sections)
    location_problems = reconcile_locations(text, mentions, sentences, kgs, case_id, source_file)
    location_problems += implausible_size_flags(mentions, case_id)
    drafts = merge_drafts(mentions, kgs)
    lesion_organs = [(d.start, d.organ) for d in mentions if not d.negated and not d.historical]
    vessels, invasions = find_relations(text, sentences, kgs, sections, lesion_organs)
    return ReportFeatures(
        case_id=case_id,
        language="en",
        encoding=encoding,
        standardized=standardize(text, sections),
        lesions=tuple(to_findings(drafts, lexicon, kgs)),
        nodes=tuple(find_nodes(text, sentences, kgs, sections)),
        vessels=tuple(vessels),
        invasions=tuple(invasions),
        metastases=tuple(find_metastases(text, sentences, kgs, sections)),
        organs_normal=normal_organs(text, sentences, set(kgs), drafts),
        flags=tuple(location_problems),
    )


def targets(lexicon: Lexicon) -> list[tuple[str, str]]:
    """Return the ConText target rules: KG lesion, impression, endpoint and finding forms plus generic words."""
    return lexicon.memo("report_targets", lambda: _build_targets(lexicon))


def _build_targets(lexicon: Lexicon) -> list[tuple[str, str]]:
    rules = lexicon.targets(("lesion", "impression", "endpoint", "finding"))
    rules += [(w, "LESION") for w in LESION_WORDS]
    rules += [(w, "NODE") for w in NODE_WORDS]
    rules += [(w, "METASTASIS") for w in METASTASIS_WORDS]
    rules += [(w, "RELATION") for w in RELATION_WORDS]
    rules += [(w, "IGNORED") for w in IGNORED_WORDS]
    return rules


def normal_organs(text: str, sentences: list[Sentence], organs: set[str], drafts) -> tuple[str, ...]:
    """Return organs named in a sentence that calls them normal, leaving out organs with a current lesion."""
    found: list[str] = []
    organs = organs - {d.organ for d in drafts if not d.negated and not d.historical}
    for sentence in sentences:
        if not _NORMAL.search(text, sentence.start, sentence.end):
            continue
        if any(m.label in ("LESION", "IMPRESSION") and not m.negated for m in sentence.mentions):
            continue
        for hit in sentence.terms:
            for reading in hit.readings:
                organ = organ_of(reading, organs) if reading.kind in ("organ", "structure") else None
                if organ and organ not in found:
                    found.append(organ)
    return tuple(found)


def _no_findings(case_id: str, file: str | None) -> Flag:
    return Flag(code="no_findings", severity="info", file=file, message=f"case {case_id}: no lesion or organ statement was found in the report")
