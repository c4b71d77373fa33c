"""Sentence templates of the rules backend, chosen by a per-case seeded generator.

Each sentence's template is drawn from a generator seeded with (config seed,
case id, organ, step key), so a re-run reproduces every sentence, different
cases read differently, and adding or removing one step leaves the wording of
the others unchanged.
"""

from __future__ import annotations

import random

TEMPLATES: dict[str, tuple[str, ...]] = {
    "location": (
        "A {size}lesion is seen in the {region}.",
        "There is a {size}mass arising from the {region}.",
        "The {region} contains a {size}focal lesion.",
        "A {size}focal abnormality is located in the {region}.",
    ),
    "attribute": (
        "The lesion is {value}.",
        "It appears {value} on CT.",
        "On CT the lesion looks {value}.",
        "The lesion shows a {value} appearance.",
    ),
    "feature": (
        "There is {value}.",
        "{Value} is also present.",
        "The study also shows {value}.",
        "{Value} is noted.",
    ),
    "vessel": (
        "The tumour shows {value} of the {vessel}.",
        "There is {value} of the {vessel} by the mass.",
        "The {vessel} is involved, with {value}.",
    ),
    "nodes": (
        "{count}suspicious regional lymph nodes are present.",
        "The study shows {count}enlarged regional lymph nodes.",
        "{count}regional lymph nodes look suspicious for metastasis.",
    ),
    "metastasis": (
        "Distant lesions are seen in the {site}.",
        "There are distant lesions involving the {site}.",
        "The {site} shows distant lesions.",
    ),
    "impression": (
        "The {finding} finding points to {impression}.",
        "{Impression} is supported by the {finding} finding.",
        "This {finding} feature favours {impression}.",
        "The {finding} appearance is in keeping with {impression}.",
    ),
    "stage_T": (
        "By AJCC 8th edition rules the primary tumour is {category}{reason}.",
        "The primary tumour stages as {category}{reason} (AJCC 8th edition).",
        "{reason_lead}the tumour is classified {category} under AJCC 8.",
    ),
    "stage_N": (
        "Regional nodes stage as {category}{reason}.",
        "The nodal category is {category}{reason} by AJCC 8th edition rules.",
    ),
    "stage_M": (
        "The distant metastasis category is {category}{reason}.",
        "Distant spread stages as {category}{reason}.",
    ),
    "normal": (
        "No focal lesion is seen in the {organ}.",
        "The {organ} appears normal, without a focal lesion.",
        "The {organ} shows no mass or focal abnormality.",
        "No lesion is identified in the {organ}.",
    ),
}


class Phraser:
    """Fill templates chosen by generators seeded from (seed, case id, organ, step key)."""

    def __init__(self, seed: int, case_id: str, organ: str) -> None:
        self.prefix = f"{seed}|{case_id}|{organ}"

    def say(self, kind: str, key: str = "", **values: str) -> str:
        """Return a sentence of ``kind``; ``key`` (the step's KG edge id) picks the template."""
        template = random.Random(f"{self.prefix}|{kind}|{key}").choice(TEMPLATES[kind])
        capitalised = {key[0].upper() + key[1:]: _capitalise(str(value)) for key, value in values.items()}
        sentence = template.format(**values, **capitalised)
        return _capitalise(sentence)


def _capitalise(text: str) -> str:
    return text[:1].upper() + text[1:] if text else text
