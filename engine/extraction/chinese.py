"""Rule layer for Chinese reports: KG zh synonyms, sizes and basic negation and uncertainty cues.

medspacy's ConText is English-only, so Chinese sentences get a small cue list
instead: a negation cue before a mention in the same clause negates it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from data_contracts.report import ReportFeatures
from engine.extraction.consistency import reconcile_locations
from engine.extraction.lesions import find_lesion_drafts, implausible_size_flags, merge_drafts, to_findings
from engine.extraction.lexicon import Lexicon
from engine.extraction.mentions import SKIPPED_SECTIONS, Sentence, TermHit
from engine.extraction.nodes import find_nodes
from engine.extraction.vessels import find_relations
from engine.text.context import Mention
from engine.text.sections import section_at, split_sections, standardize
from engine.text.sizes import find_sizes

LESION_WORDS_ZH = ("病变", "病灶", "肿块", "占位", "结节", "肿瘤", "囊肿", "增厚", "癌", "灶", "团块", "肿物", "新生物")
METASTASIS_WORDS_ZH = ("转移灶", "转移瘤", "转移癌", "转移")
NOT_LESION_AFTER_ZH = ("癌栓", "癌胚", "结节样", "结节状", "灶性", "灶状", "肿块样", "占位效应")
"""Words that start with a lesion word but name no lesion: tumour thrombus, carcinoembryonic antigen, nodular-like, focal, mass effect."""
NODE_WORDS_ZH = ("淋巴结",)
NEGATION_CUES_ZH = ("未见", "未发现", "无", "没有", "未显示", "排除")
POSSIBLE_CUES_ZH = ("可能", "不除外", "待排", "疑似", "可疑")
PROBABLE_CUES_ZH = ("考虑", "倾向")
_CLAUSE = re.compile(r"[^。；;\n]+")
_COMMA = re.compile(r"[，,]")


def extract_chinese(text: str, case_id: str, kgs: Mapping[str, Any], lexicon: Lexicon, *, source_file: str | None, encoding: str) -> ReportFeatures:
    """Extract lesions from a Chinese report with the KG's zh synonyms."""
    sections = split_sections(text)
    # A clause that starts with a heading ("诊断意见：...") lies in the section that heading opens.
    sentences = [_sentence(text, m.start(), m.end(), lexicon, section_at(sections, m.end() - 1)) for m in _CLAUSE.finditer(text)]
    sentences = [sentence for sentence in sentences if sentence.section not in SKIPPED_SECTIONS]
    mentions = find_lesion_drafts(text, sentences, lexicon, kgs, sections)
    location_problems = reconcile_locations(text, mentions, sentences, kgs, case_id, source_file)
    location_problems += implausible_size_flags(mentions, case_id)
    drafts = merge_drafts(mentions, kgs)
    lesion_organs = [(d.start, d.organ) for d in mentions if not d.negated and not d.historical]
    vessels, invasions = find_relations(text, sentences, kgs, sections, lesion_organs)
    return ReportFeatures(
        case_id=case_id, language="zh", encoding=encoding, standardized=standardize(text, sections),
        lesions=tuple(to_findings(drafts, lexicon, kgs)), nodes=tuple(find_nodes(text, sentences, kgs, sections)), vessels=tuple(vessels),
        invasions=tuple(invasions), flags=tuple(location_problems),
    )


def _sentence(text: str, start: int, end: int, lexicon: Lexicon, section: str) -> Sentence:
    sentence = Sentence(start, end, section)
    sentence.terms = [TermHit(s, e, text[s:e], tuple(r)) for s, e, r in lexicon.find(text, start, end)]
    sentence.sizes = find_sizes(text, start, end)
    anchors = [(s, e, _label(h)) for h in sentence.terms for s, e in [(h.start, h.end)] if _label(h)]
    for word in METASTASIS_WORDS_ZH + LESION_WORDS_ZH + NODE_WORDS_ZH:
        for match in re.finditer(re.escape(word), text[start:end]):
            s, e = start + match.start(), start + match.end()
            if text.startswith(NOT_LESION_AFTER_ZH, s) or _after_node_word(text, s):
                continue
            if not any(a <= s < b or s <= a < e for a, b, _ in anchors):
                anchors.append((s, e, _zh_label(word)))
    sentence.mentions = [_mention(text, start, end, s, e, label) for s, e, label in sorted(anchors)]
    return sentence


def _zh_label(word: str) -> str:
    if word in NODE_WORDS_ZH:
        return "NODE"
    return "METASTASIS" if word in METASTASIS_WORDS_ZH else "LESION"


def _after_node_word(text: str, position: int) -> bool:
    """Return True for '转移' in '淋巴结转移': nodal metastasis is read by the node rules."""
    return any(text.endswith(word, 0, position) or text.endswith(word + "多发", 0, position) for word in NODE_WORDS_ZH)


def _label(hit: TermHit) -> str | None:
    kinds = {r.kind for r in hit.readings}
    if "impression" in kinds:
        return "IMPRESSION"
    if "lesion" in kinds:
        return "LESION"
    if "finding" in kinds:
        return "FINDING"
    return None


def _mention(text: str, clause_start: int, clause_end: int, start: int, end: int, label: str) -> Mention:
    # A cue governs its comma-delimited part of the sentence: in "肝内未见占位，胰头见肿块" the mass is not negated.
    before = _COMMA.split(text[clause_start:start])[-1]
    after = _COMMA.split(text[end:clause_end])[0]
    return Mention(
        start=start, end=end, text=text[start:end], label=label, sentence_start=clause_start, sentence_end=clause_end,
        negated=any(cue in before for cue in NEGATION_CUES_ZH),
        uncertain=any(cue in before or cue in after for cue in POSSIBLE_CUES_ZH),
        probable=any(cue in before for cue in PROBABLE_CUES_ZH),
    )
