"""Sentence templates of the rules backend, chosen by a per-case seeded generator.

Each sentence's template is drawn from a generator seeded with (config seed,
case id, organ, step key), so a re-run reproduces every sentence, different
cases read differently, and adding or removing one step leaves the wording of
the others unchanged. ``engine.reasoning.sentences`` fills the placeholders
with phrases that already carry their articles and verb agreement.
"""

from __future__ import annotations

import random

TEMPLATES: dict[str, tuple[str, ...]] = {
    # {a_size} is 'a 16 mm', 'an 8 mm' or 'a', and {region} is a phrase such as 'segment 7 of the liver' or 'the pancreatic head'.
    "location": (
        "{A_size} lesion is seen in {region}.",
        "{Region} {contains} {a_size} focal lesion.",
        "{A_size} focal lesion is located in {region}.",
        "There is {a_size} lesion in {region}.",
    ),
    "location_extent": (
        "The lesion also involves {region}.",
        "The lesion extends into {region}.",
    ),
    "location_another": (
        "A further lesion is seen in {region}.",
        "Another lesion lies in {region}.",
    ),
    # {clause} is 'is hypodense', 'has mixed density' or 'shows washout', and {appear_clause} turns 'is' into 'appears'.
    "state": (
        "The lesion {clause}.",
        "On CT the lesion {appear_clause}.",
        "The lesion {appear_clause} on CT.",
    ),
    # {noun} is 'calcification', 'a central scar' or 'septations', and {be} agrees with it.
    "presence": (
        "There {be} {noun}.",
        "{Noun} {be} also present.",
        "The study also shows {noun}.",
        "{Noun} {be} noted.",
    ),
    "context": (
        "The patient has {noun}.",
        "The clinical background includes {noun}.",
    ),
    "single": (
        "The lesion is solitary.",
        "A solitary lesion is described.",
    ),
    "multiple": (
        "Multiple lesions are present.",
        "The lesions are multiple.",
        "There are multiple lesions.",
    ),
    "counted": (
        "There are {count} lesions in total.",
        "The report counts {count} lesions.",
    ),
    # {clauses} is a phrase such as 'encases the common hepatic artery and abuts the portal vein'.
    "vessel": (
        "The lesion {clauses}.",
        "On CT the lesion {clauses}.",
        "The mass {clauses}.",
    ),
    # {nodes} is 'three suspicious regional lymph nodes', 'a suspicious regional lymph node' or 'suspicious regional lymph nodes'.
    "nodes": (
        "There {be} {nodes}.",
        "The study shows {nodes}.",
        "On CT, there {be} {nodes}.",
    ),
    # {sites} is 'the liver' or 'the liver and lung'.
    "metastasis": (
        "Lesions suspicious for distant metastasis are seen in {sites}.",
        "There are distant metastatic lesions in {sites}.",
        "{Sites} {contains} lesions suspicious for metastasis.",
    ),
    # {subject} is 'the hypodense appearance' or 'the septations', {impression} the bare name and {impression_np} the name with its article.
    "impression": (
        "{Subject} {supports} a diagnosis of {impression}.",
        "The diagnosis of {impression} is supported by {subject}.",
        "{Subject} {favours} {impression_np}.",
        "{Subject} {be} in keeping with {impression_np}.",
    ),
    # {reason} is ', because it measures 30 mm' and {reason_lead} is 'Because it measures 30 mm, '.
    "stage_T": (
        "Under AJCC 8th edition rules the primary tumour is {category}{reason}.",
        "The primary tumour is staged {category}{reason} (AJCC 8th edition).",
        "{reason_lead}the primary tumour is classified {category} under AJCC 8th edition rules.",
    ),
    "stage_N": (
        "The regional lymph nodes are staged {category}{reason}.",
        "Under AJCC 8th edition rules the nodal category is {category}{reason}.",
    ),
    "stage_M": (
        "The distant metastasis category is {category}{reason}.",
        "Under AJCC 8th edition rules distant metastasis is staged {category}{reason}.",
    ),
    # {organ} is 'the liver' or 'the colon and rectum'.
    "normal": (
        "No focal lesion is seen in {organ}.",
        "{Organ} {appears} normal, without a focal lesion.",
        "{Organ} {shows} no mass or focal abnormality.",
        "No lesion is identified in {organ}.",
    ),
    "normal_mask": (
        "{Organ} {is_} segmented on CT, and the report describes no lesion there.",
        "The report describes no lesion in {organ}, which is visible on CT.",
    ),
}


class Phraser:
    """Fill templates chosen by generators seeded from (seed, case id, organ, step key)."""

    def __init__(self, seed: int, case_id: str, organ: str) -> None:
        self.prefix = f"{seed}|{case_id}|{organ}"

    def say(self, kind: str, key: str = "", **values: str) -> str:
        """Return a sentence of ``kind``; ``key`` (the step's KG edge id) picks the template.

        Each value ``name`` is also offered capitalised as ``Name``, for a template
        that starts its sentence with it.
        """
        return self.fill(self.choose(kind, key), **values)

    def choose(self, kind: str, key: str = "", templates: tuple[str, ...] | None = None) -> str:
        """Return the template of ``kind`` (or one of ``templates``) that the seeded generator picks for ``key``."""
        return random.Random(f"{self.prefix}|{kind}|{key}").choice(templates or TEMPLATES[kind])

    @staticmethod
    def fill(template: str, **values: str) -> str:
        """Fill ``template`` with ``values`` and their capitalised forms; the sentence starts with a capital."""
        capitalised = {name[0].upper() + name[1:]: _capitalise(str(value)) for name, value in values.items()}
        return _capitalise(template.format(**values, **capitalised))


def _capitalise(text: str) -> str:
    return text[:1].upper() + text[1:] if text else text
