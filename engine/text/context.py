"""Negation, uncertainty and history of report mentions, decided by medspacy's ConText.

Mentions (lesions, impressions, nodes, vessels, metastases) are found by a medspacy
target matcher whose ``TargetRule``s come from the KG synonym index plus the
generic lesion words. ConText then assigns each mention its modifiers. The default
ConText rules are extended with cues that radiology and pathology reports use
("cannot be excluded", "status post", "is negative", "not identified", "probable").

Importing medspacy takes about 6 s, so the pipeline is built lazily, once per
process and target rule set, and reused. spaCy and medspacy do not promise that one
``Language`` object may process documents in several threads at once, so every call
of a shared pipeline holds that pipeline's lock. Extraction is CPU-bound Python, so
under the GIL the lock costs no throughput.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from dataclasses import dataclass

log = logging.getLogger(__name__)

NEGATED = "NEGATED_EXISTENCE"
POSSIBLE = "POSSIBLE_EXISTENCE"
PROBABLE = "PROBABLE_EXISTENCE"
HISTORICAL = "HISTORICAL"
HYPOTHETICAL = "HYPOTHETICAL"

# Each rule is (literal, category, direction). A FORWARD cue modifies what follows it,
# a BACKWARD cue what precedes it, and a TERMINATE cue ends another cue's scope.
EXTRA_CONTEXT_RULES: tuple[tuple[str, str, str], ...] = (
    ("cannot be excluded", POSSIBLE, "BACKWARD"),
    ("cannot be entirely excluded", POSSIBLE, "BACKWARD"),
    ("cannot be ruled out", POSSIBLE, "BACKWARD"),
    ("can not be excluded", POSSIBLE, "BACKWARD"),
    ("not excluded", POSSIBLE, "BACKWARD"),
    ("is in the differential", POSSIBLE, "BACKWARD"),
    ("in the differential diagnosis", POSSIBLE, "BACKWARD"),
    ("questionable", POSSIBLE, "FORWARD"),
    ("possibly", POSSIBLE, "FORWARD"),
    ("may represent", POSSIBLE, "FORWARD"),
    ("may indicate", POSSIBLE, "FORWARD"),
    ("versus", POSSIBLE, "BIDIRECTIONAL"),
    ("must be considered", POSSIBLE, "BACKWARD"),
    ("probable", PROBABLE, "FORWARD"),
    ("probably", PROBABLE, "FORWARD"),
    ("likely", PROBABLE, "FORWARD"),
    ("most likely", PROBABLE, "FORWARD"),
    ("suspected", PROBABLE, "BIDIRECTIONAL"),
    ("suspicious for", PROBABLE, "FORWARD"),
    ("very suspicious for", PROBABLE, "FORWARD"),
    ("concerning for", PROBABLE, "FORWARD"),
    ("highly concerning for", PROBABLE, "FORWARD"),
    ("worrisome for", PROBABLE, "FORWARD"),
    ("favor", PROBABLE, "FORWARD"),
    ("status post", HISTORICAL, "FORWARD"),
    ("s/p", HISTORICAL, "FORWARD"),
    ("history of", HISTORICAL, "FORWARD"),
    ("previous", HISTORICAL, "FORWARD"),
    ("prior", HISTORICAL, "FORWARD"),
    ("has been resected", HISTORICAL, "BACKWARD"),
    ("no evidence of", NEGATED, "FORWARD"),
    ("no evidence for", NEGATED, "FORWARD"),
    ("without evidence of", NEGATED, "FORWARD"),
    ("without any evidence of", NEGATED, "FORWARD"),
    ("negative for", NEGATED, "FORWARD"),
    ("is negative for", NEGATED, "BIDIRECTIONAL"),
    ("are negative for", NEGATED, "BIDIRECTIONAL"),
    ("is negative", NEGATED, "BACKWARD"),
    (": negative", NEGATED, "BACKWARD"),
    ("are negative", NEGATED, "BACKWARD"),
    ("are all negative", NEGATED, "BACKWARD"),
    ("is not identified", NEGATED, "BACKWARD"),
    ("are not identified", NEGATED, "BACKWARD"),
    ("not identified", NEGATED, "BACKWARD"),
    ("not detected", NEGATED, "BACKWARD"),
    ("is not seen", NEGATED, "BACKWARD"),
    ("not seen", NEGATED, "BACKWARD"),
    ("is absent", NEGATED, "BACKWARD"),
    ("absent", NEGATED, "BACKWARD"),
    ("is uninvolved", NEGATED, "BACKWARD"),
    ("without tumor", NEGATED, "BACKWARD"),
    ("free of tumor", NEGATED, "BACKWARD"),
    ("however", NEGATED, "TERMINATE"),
    ("although", NEGATED, "TERMINATE"),
    ("which", NEGATED, "TERMINATE"),
    ("with", NEGATED, "TERMINATE"),
)


@dataclass(frozen=True)
class Mention:
    """A target the matcher found, with the ConText decision for it."""

    start: int
    end: int
    text: str
    label: str
    sentence_start: int
    sentence_end: int
    negated: bool = False
    uncertain: bool = False
    probable: bool = False
    historical: bool = False
    hypothetical: bool = False

    @property
    def certainty(self) -> str:
        """'possible', 'probable' or 'definite', the form ``LesionFinding.certainty`` takes."""
        if self.uncertain:
            return "possible"
        return "probable" if self.probable else "definite"


@dataclass(frozen=True)
class AnalysedText:
    """Sentences (character ranges) and the mentions of one text."""

    sentences: tuple[tuple[int, int], ...]
    mentions: tuple[Mention, ...]


MAX_PIPELINES = 4
"""Pipelines kept per process: one per target rule set (report targets, pathology targets, a few KG versions)."""
_LOCK = threading.Lock()
_PIPELINES: dict[tuple[tuple[str, str], ...], tuple[object, threading.Lock]] = {}


def analyse(text: str, targets: Iterable[tuple[str, str]]) -> AnalysedText:
    """Find ``targets`` (literal, label) in ``text`` and decide their context with ConText."""
    nlp, lock = _pipeline(tuple(sorted(set(targets))))
    with lock:
        doc = nlp(text)
        sentences = tuple((s.start_char, s.end_char) for s in doc.sents)
        mentions = tuple(_mention(ent) for ent in doc.ents)
    return AnalysedText(sentences, mentions)


def _pipeline(targets: tuple[tuple[str, str], ...]) -> tuple[object, threading.Lock]:
    with _LOCK:
        entry = _PIPELINES.get(targets)
        if entry is None:
            entry = (_build_pipeline(targets), threading.Lock())
            if len(_PIPELINES) >= MAX_PIPELINES:
                _PIPELINES.pop(next(iter(_PIPELINES)))
            _PIPELINES[targets] = entry
        return entry


def _build_pipeline(targets: tuple[tuple[str, str], ...]):
    import medspacy
    from loguru import logger
    from medspacy.context import ConTextRule
    from medspacy.target_matcher import TargetRule

    # PyRuSH logs every token decision at DEBUG through loguru, which prints to stderr by default.
    logger.disable("PyRuSH")

    # PyRuSH, medspacy's default sentencizer, took 85% of the extraction time on the
    # real reports (cProfile, 2-core x86_64), so spaCy's rule sentencizer plus line
    # breaks replaces it.
    nlp = medspacy.load(enable=["medspacy_target_matcher", "medspacy_context"])
    if "medspacy_pyrush" in nlp.pipe_names:
        nlp.remove_pipe("medspacy_pyrush")
    _register_line_breaks()
    nlp.add_pipe("sentencizer", first=True, config={"punct_chars": [".", "!", "?", ";", "。", "；"]})
    nlp.add_pipe("tumorcot_line_breaks", after="sentencizer")
    nlp.get_pipe("medspacy_target_matcher").add([TargetRule(literal, label) for literal, label in targets])
    default_rules = ConTextRule.from_json(nlp.get_pipe("medspacy_context").DEFAULT_RULES_FILEPATH)
    nlp.remove_pipe("medspacy_context")
    context = nlp.add_pipe("medspacy_context", config={"rules": None})
    context.add([_adjusted(rule) for rule in default_rules])
    context.add([ConTextRule(literal, category, direction=direction) for literal, category, direction in EXTRA_CONTEXT_RULES])
    log.debug("built a medspacy pipeline with %d target rules", len(targets))
    return nlp


def _adjusted(rule):
    """Return a default ConText rule, with ': no' made bidirectional.

    medspacy's default ': no' looks backward only ("Fever: no"). Structured radiology
    reports write "Pancreas: No pancreatic mass.", and there the longer ': no' modifier
    overrode the forward 'no', so the mass was not negated.
    """
    from medspacy.context import ConTextRule

    if rule.literal == ": no":
        return ConTextRule(rule.literal, rule.category, direction="BIDIRECTIONAL")
    return rule


def _register_line_breaks() -> None:
    """Register a spaCy component that starts a sentence after every line break."""
    from spacy.language import Language

    if "tumorcot_line_breaks" in Language.factories:
        return

    @Language.component("tumorcot_line_breaks")
    def line_breaks(doc):
        for token in doc[1:]:
            if "\n" in doc[token.i - 1].text or "\n" in doc[token.i - 1].whitespace_:
                token.is_sent_start = True
        return doc


_PROBABLE_CUES = frozenset(literal for literal, category, _ in EXTRA_CONTEXT_RULES if category == PROBABLE)


def _category(doc, modifier) -> str:
    # medspacy's default rules file "likely" and "probable" as POSSIBLE_EXISTENCE, and
    # its rule wins over ours on the same words; our cue list decides those words.
    start, end = modifier.modifier_span
    if modifier.category == POSSIBLE and doc[start:end].text.lower() in _PROBABLE_CUES:
        return PROBABLE
    return modifier.category


def _mention(ent) -> Mention:
    categories = {_category(ent.doc, modifier) for modifier in ent._.modifiers}
    return Mention(
        start=ent.start_char,
        end=ent.end_char,
        text=ent.text,
        label=ent.label_,
        sentence_start=ent.sent.start_char,
        sentence_end=ent.sent.end_char,
        negated=NEGATED in categories,
        uncertain=POSSIBLE in categories,
        probable=PROBABLE in categories,
        historical=HISTORICAL in categories,
        hypothetical=HYPOTHETICAL in categories,
    )
