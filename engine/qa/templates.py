"""Question templates: several phrasings per subtask, chosen by a seeded generator.

Placeholders: ``{organ}`` (organ name), ``{be}`` and ``{its}`` (agreeing with the
organ name: "the colon and rectum" takes "are" and "their"), ``{adjective}``
("pancreatic"), ``{tumour}`` ("pancreatic tumour"), ``{lesion}`` (a phrase such
as "the lesion in the pancreatic head") and ``{axis}`` (the box convention below).
"""

from __future__ import annotations

import random

from engine.qa.wording import verb

BOX_CONVENTION = (
    "Give the box as [x_min, y_min, z_min, x_max, y_max, z_max] normalized to [0, 1] by the volume shape, "
    "in RAS+ voxel order: x grows toward the patient's right, y toward anterior, z toward superior; maxima are exclusive."
)
"""Axis order of every localization question and answer; the same as ``data_contracts.imaging``."""

QUESTION_TEMPLATES: dict[str, tuple[str, ...]] = {
    "organ_bbox": (
        "Where {be} the {organ} in this CT volume? {axis}",
        "Locate the {organ} and return {its} 3D bounding box. {axis}",
        "Find the {organ} in the scan. {axis}",
        "Which region of the volume is occupied by the {organ}? {axis}",
    ),
    "lesion_bbox": (
        "Where is {lesion} in this CT volume? {axis}",
        "Locate {lesion} and return its 3D bounding box. {axis}",
        "Mark {lesion} with a bounding box. {axis}",
    ),
    "density": (
        "What is the attenuation of {lesion} on CT?",
        "What is the attenuation of {lesion} relative to the surrounding tissue?",
        "Describe the density of {lesion}.",
    ),
    "shape": (
        "What is the shape of {lesion}?",
        "Describe the shape of {lesion}.",
        "Is {lesion} round, oval, lobulated or irregular?",
    ),
    "count": (
        "How many lesions are seen in the {organ}?",
        "Is there a single {adjective} lesion, or are there several?",
        "Count the focal lesions in the {organ}.",
    ),
    "boundary": (
        "What are the margins of {lesion} like?",
        "Is {lesion} well-defined or ill-defined?",
        "Describe the margins of {lesion}.",
    ),
    "size": (
        "What is the maximum diameter of {lesion}?",
        "How large is {lesion}?",
        "Measure the maximum diameter of {lesion} in millimetres.",
    ),
    "enhancement": (
        "How does {lesion} enhance after contrast?",
        "Describe the enhancement pattern of {lesion}.",
        "What is the enhancement behaviour of {lesion}?",
    ),
    "subregion": (
        "In which part of the {organ} is {lesion} located?",
        "Which subregion of the {organ} contains {lesion}?",
        "Where within the {organ} does {lesion} lie?",
    ),
    "T": (
        "What is the T category of the {tumour} by AJCC 8th edition?",
        "Stage the primary {tumour}: which AJCC 8th edition T category applies?",
        "Based on this CT and report, what is the T category of the {tumour}?",
    ),
    "N": (
        "What is the N category of the {tumour} by AJCC 8th edition?",
        "Assess the regional lymph nodes of the {tumour}: which N category applies?",
        "What is the nodal stage of the {tumour}?",
    ),
    "M": (
        "What is the M category of the {tumour} by AJCC 8th edition?",
        "Is there distant metastasis from the {tumour}? Give the M category.",
        "What is the M category of the {tumour}?",
    ),
    "report": (
        "Write a structured CT report for this scan, reasoning step by step.",
        "Read this abdominal CT and write the report with your reasoning.",
        "Describe the findings of this CT systematically and give your impression.",
    ),
    "organ_report": (
        "Review the {organ} on this CT step by step and report your findings and impression.",
        "Write the {organ} section of the CT report, with your reasoning.",
        "Examine the {organ} systematically and state your impression.",
    ),
}


def pick_question(subtask: str, rng: random.Random, **values: str) -> str:
    """Return one template of ``subtask``, chosen by ``rng``, with ``values`` filled in."""
    templates = QUESTION_TEMPLATES.get(subtask)
    if not templates:
        raise KeyError(f"no question templates for subtask {subtask!r}; known subtasks: {', '.join(QUESTION_TEMPLATES)}")
    template = templates[rng.randrange(len(templates))]
    organ = values.get("organ", "")
    agreement = {"be": verb(organ, "is", "are"), "its": verb(organ, "its", "their")}
    return template.format(axis=BOX_CONVENTION, **{**agreement, **values})
