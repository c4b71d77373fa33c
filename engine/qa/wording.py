"""English noun phrases and clauses for organs, subregions, findings and staging facts in the samples.

Every question, think block and answer builds its noun phrases here, so the
grammar is decided once: "segment 5 of the liver" (a Couinaud segment takes no
article), "the pancreatic head" (the name already says the organ), "the uncinate
process of the pancreas" (it does not), "the colon and rectum lie" (plural).
Sizes are printed in mm with at most one decimal.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

ORGAN_ADJECTIVES = {"liver": "liver", "pancreas": "pancreatic", "stomach": "gastric", "colon": "colorectal", "esophagus": "esophageal"}
"""Adjective (or noun adjunct) for a tumour of the organ: 'the pancreatic tumour', 'the colorectal cancer'."""

ORGAN_WORDS = {
    "liver": ("liver", "hepatic"),
    "pancreas": ("pancreas", "pancreatic"),
    "stomach": ("stomach", "gastric"),
    "colon": ("colon", "rectum", "cecum", "flexure"),
    "esophagus": ("esophagus", "esophageal"),
}
"""Words that make a subregion name stand alone: 'pancreatic head' and 'sigmoid colon' need no 'of the <organ>'."""

SEGMENT_NAME = re.compile(r"^segment \w+$")
"""Couinaud segment names ('segment 5', 'segment 4a'), which take no article."""

CONSONANT_SOUND_STARTS = ("uni", "use", "usu", "uro", "ure", "eu", "one", "once")
"""Word starts spelled with a vowel but spoken with a consonant sound: 'a unilocular cyst', 'a one-step rule'."""

SILENT_H_STARTS = ("hour", "honest", "honour", "honor", "heir")

COUNT_NOUN_HEADS = frozenset({
    "capsule", "scar", "wall", "sign", "mass", "abscess", "lumen", "plane", "malignancy", "history", "nodule", "lesion", "polyp",
})
"""Head nouns that take 'a' or 'an' in the singular; other singular findings are mass nouns ('calcification', 'washout')."""

PLURAL_NOUNS = frozenset({"diverticula"})
MASS_NOUNS_ENDING_IN_S = frozenset({"ascites", "gas", "stenosis", "necrosis", "cirrhosis", "fibrosis", "thrombosis"})

POST_MODIFIER = re.compile(r"\s+(?:of|with|in|over|from|at|to)\s+")
"""The start of a post-modifier, so the head noun of 'history of pancreatitis' is 'history'."""

ADJECTIVE_ENDINGS = ("ic", "ar", "ed", "ing", "al", "ous", "ive", "dense")

FACT_WORDS = {
    "max_diameter_mm": "the tumour size",
    "tumor_count": "the number of tumours",
    "nodes_positive": "the number of positive regional lymph nodes",
    "node_metastasis": "whether regional lymph nodes are involved",
    "invaded_structures": "the structures the tumour invades",
    "depth": "the depth of invasion",
    "vascular_invasion": "vascular invasion",
    "distant_metastasis": "whether there is distant metastasis",
    "metastasis_sites": "the sites of distant metastasis",
    "tumor_deposits": "tumour deposits",
    "histology": "the histological type",
}
"""Plain words for the staging fact keys of ``kg.schema.FACTS``."""

FACT_GROUPS = (
    (("nodes_positive", "node_metastasis"), "the regional lymph node status"),
    (("distant_metastasis", "metastasis_sites"), "the distant metastasis status"),
)
"""Fact pairs that read as one missing item when both are unknown."""

AXIS_SUBJECTS = {"T": "the primary tumour", "N": "the regional lymph nodes", "M": "distant metastasis"}


def format_mm(value: float) -> str:
    """Return a length in mm with at most one decimal and no trailing '.0': 45.0 -> '45', 12.35 -> '12.4'."""
    return f"{value:.1f}".rstrip("0").rstrip(".")


def capitalize(text: str) -> str:
    """Return ``text`` with its first letter upper-cased and the rest unchanged."""
    return text[:1].upper() + text[1:]


def histology_sentence(impression_name: str, histology_name: str, *, same_name: bool, confirmed: bool) -> str:
    """Return the sentence of an ``impression --histology--> endpoint`` step.

    ``same_name`` says the impression and its histology endpoint name the same
    entity, so the sentence names it once. ``confirmed`` says a pathology report
    states that histology; only then does the sentence say histology confirms it.
    """
    if not same_name:
        return f"{capitalize(impression_name)} corresponds to the histology {histology_name}."
    if confirmed:
        return f"Histology confirms {impression_name}."
    return f"{capitalize(impression_name)} is also the name of its histological type."


def join_words(items: Iterable[str], conjunction: str = "and") -> str:
    """Return 'a', 'a and b' or 'a, b and c'; a serial comma is added when an item has its own 'and' ('a, the colon and rectum, and b')."""
    words = [item for item in items if item]
    if len(words) <= 1:
        return "".join(words)
    serial = "," if len(words) > 2 and any(f" {conjunction} " in word for word in words) else ""
    return f"{', '.join(words[:-1])}{serial} {conjunction} {words[-1]}"


def is_plural(organ_name: str) -> bool:
    """True for an organ name that takes a plural verb, such as 'colon and rectum'."""
    return " and " in organ_name


def verb(organ_name: str, singular: str, plural: str) -> str:
    """Return the verb form that agrees with ``organ_name``: verb('colon and rectum', 'lies', 'lie') -> 'lie'."""
    return plural if is_plural(organ_name) else singular


def organ_adjective(organ: str, organ_name: str) -> str:
    """Return the adjective for a tumour of the organ: 'pancreatic', 'colorectal', or the organ name itself."""
    return ORGAN_ADJECTIVES.get(organ, organ_name)


def names_organ(organ: str, organ_name: str, subregion_name: str) -> bool:
    """True when the subregion name already says which organ it belongs to."""
    words = ORGAN_WORDS.get(organ, tuple(organ_name.split()))
    lowered = subregion_name.casefold()
    return any(re.search(rf"\b{re.escape(word)}\b", lowered) for word in words)


def location_phrase(organ: str, organ_name: str, subregion_name: str, *, with_organ: bool = True) -> str:
    """Return the subregion as a noun phrase: 'segment 5 of the liver', 'the pancreatic head', 'the cardia of the stomach'.

    ``with_organ=False`` drops the 'of the <organ>' tail where the sentence already
    names the organ: 'segment 5', 'the cardia'.
    """
    if SEGMENT_NAME.match(subregion_name):
        return f"{subregion_name} of the {organ_name}" if with_organ else subregion_name
    if names_organ(organ, organ_name, subregion_name) or not with_organ:
        return f"the {subregion_name}"
    return f"the {subregion_name} of the {organ_name}"


def locations_phrase(organ: str, organ_name: str, subregion_names: Sequence[str]) -> str:
    """Return several subregions of one organ as one phrase: 'segments 5 and 6 of the liver', 'the pancreatic head and neck'."""
    if len(subregion_names) == 1:
        return location_phrase(organ, organ_name, subregion_names[0])
    if all(SEGMENT_NAME.match(name) for name in subregion_names):
        numbers = join_words(name.split(" ", 1)[1] for name in subregion_names)
        return f"segments {numbers} of the {organ_name}"
    parts = [location_phrase(organ, organ_name, name, with_organ=False) for name in subregion_names]
    tail = "" if all(names_organ(organ, organ_name, name) for name in subregion_names) else f" of the {organ_name}"
    return join_words(parts) + tail


def attribute_clause(subtask: str, name: str) -> str:
    """Return the predicate that states one finding term: 'is hypodense', 'has mixed density', 'shows an enhancing capsule'.

    Margin terms describe the margins ('has ill-defined margins') and density
    nouns take 'has'. Shape terms and one-word adjectives take 'is' ('round',
    'hypoenhancing', 'cystic').
    Any other term is a noun and takes 'shows' with ``noun_phrase``, so a
    singular count noun gets its article ('shows an enhancing capsule') while a
    mass noun or a plural reads bare ('shows rim enhancement', 'shows septations').
    """
    if subtask == "boundary":
        return f"has {name} margins"
    if name.endswith("density"):
        return f"has {name}"
    if subtask == "shape" or _is_adjective(name):
        return f"is {name}"
    return f"shows {noun_phrase(name)}"


def _is_adjective(name: str) -> bool:
    return " " not in name and name.endswith(ADJECTIVE_ENDINGS)


def indefinite_article(phrase: str) -> str:
    """Return 'a' or 'an' for ``phrase`` by the sound of its first word: 'an 8 mm', 'an ill-defined', 'a unilocular', 'an hour'."""
    word = phrase.strip().split(" ", 1)[0].casefold()
    if not word:
        return "a"
    if word[0].isdigit():
        # 8, 80, 800 ('eight...'), 11 and 18 ('eleven', 'eighteen') and 11000-11999 or 18000-18999 start with a vowel sound.
        digits = re.match(r"\d+", word).group()
        spoken_vowel = digits.startswith("8") or digits in ("11", "18") or (len(digits) == 5 and digits[:2] in ("11", "18"))
        return "an" if spoken_vowel else "a"
    if word.startswith(SILENT_H_STARTS):
        return "an"
    if word.startswith(CONSONANT_SOUND_STARTS):
        return "a"
    return "an" if word[0] in "aeiou" else "a"


def with_article(phrase: str) -> str:
    """Return ``phrase`` with its indefinite article: 'an enhancing capsule'."""
    return f"{indefinite_article(phrase)} {phrase}"


def head_noun(name: str) -> str:
    """Return the last word before any post-modifier: 'history of pancreatitis' -> 'history'."""
    return POST_MODIFIER.split(name, maxsplit=1)[0].split()[-1]


def is_plural_noun(name: str) -> bool:
    """True for a finding named by a plural noun: 'septations', 'clinical signs of infection', 'diverticula'."""
    head = head_noun(name).casefold()
    if head in PLURAL_NOUNS:
        return True
    if head in MASS_NOUNS_ENDING_IN_S or head.endswith(("ss", "sis", "us")):
        return False
    return head.endswith("s")


def noun_phrase(name: str) -> str:
    """Return a noun finding with the article it needs: 'a double-duct sign', 'septations', 'calcification'."""
    if is_plural_noun(name) or head_noun(name).casefold() not in COUNT_NOUN_HEADS:
        return name
    return with_article(name)


def missing_fact_items(missing: Sequence[str]) -> list[str]:
    """Return the unknown staging facts in words, in their order, pairs merged: ['nodes_positive', 'node_metastasis'] -> ['the regional lymph node status']."""
    keys = list(dict.fromkeys(missing))
    items: list[str] = []
    done: set[str] = set()
    for key in keys:
        if key in done:
            continue
        group = next(((pair, phrase) for pair, phrase in FACT_GROUPS if key in pair and all(k in keys for k in pair)), None)
        if group is not None:
            items.append(group[1])
            done.update(group[0])
        else:
            items.append(FACT_WORDS.get(key, key.replace("_", " ")))
            done.add(key)
    return items


def not_stated(missing: Sequence[str]) -> str:
    """Return a clause saying the facts are unknown: 'the tumour size is not stated', 'the depth of invasion and ... are not stated'."""
    items = missing_fact_items(missing)
    return f"{join_words(items)} {'are' if len(items) > 1 else 'is'} not stated"


def fact_value_text(key: str, value) -> str:
    """Return one known staging fact in words: 'tumour size 45 mm', 'no invaded structures', '3 positive regional lymph nodes'."""
    if key == "max_diameter_mm":
        return f"tumour size {format_mm(float(value))} mm"
    if key == "tumor_count":
        return "a solitary tumour" if int(value) == 1 else f"{int(value)} tumours"
    if key == "nodes_positive":
        return f"{int(value)} positive regional lymph node{'' if int(value) == 1 else 's'}"
    if key in ("invaded_structures", "metastasis_sites"):
        items = [str(item).replace("_", " ") for item in (value or ())]
        noun = "invaded structures" if key == "invaded_structures" else "distant metastasis sites"
        return f"{noun}: {join_words(items)}" if items else f"no {noun}"
    if key == "depth":
        return f"invasion into the {str(value).replace('_', ' ')}"
    if isinstance(value, bool):
        positive = {"node_metastasis": "regional lymph node metastasis", "vascular_invasion": "vascular invasion",
                    "distant_metastasis": "distant metastasis", "tumor_deposits": "tumour deposits"}.get(key, key.replace("_", " "))
        return positive if value else f"no {positive}"
    return f"{key.replace('_', ' ')} {str(value).replace('_', ' ')}"


CONDITION_FACT_NAMES = {
    "max_diameter_mm": "tumour size", "tumor_count": "tumours", "nodes_positive": "positive regional lymph nodes",
    "node_metastasis": "regional lymph node metastasis", "depth": "depth of invasion", "invaded_structures": "invaded structures",
    "metastasis_sites": "distant metastasis sites", "distant_metastasis": "distant metastasis", "vascular_invasion": "vascular invasion",
    "tumor_deposits": "tumour deposits", "histology": "histology",
}
COUNTED_FACTS = frozenset({"tumor_count", "nodes_positive"})
"""Integer facts read as a number of things: '1 to 3 positive regional lymph nodes', not 'nodes_positive at least 1'."""
COMPARISON_WORDS = {"gt": "over", "ge": "at least", "lt": "under", "le": "at most", "eq": "", "ne": "not"}
LIST_OPS = ("in", "not_in", "contains", "any_of", "none_of", "other_than")


def condition_text(condition) -> str:
    """Return a staging rule condition (``kg.conditions`` language) in words: 'tumour size over 20 mm and at most 40 mm'."""
    if "all" in condition:
        return _all_text(condition["all"])
    if "any" in condition:
        return join_words([condition_text(part) for part in _without_equivalents(condition["any"])], "or")
    if "not" in condition:
        return f"not ({condition_text(condition['not'])})"
    return _leaf_text(condition["fact"], condition["op"], condition["value"])


def _all_text(parts) -> str:
    """Return the parts joined by 'and', naming a fact once when consecutive parts compare it: 'tumour size over 20 mm and at most 40 mm'."""
    leaves = [part for part in parts if "fact" in part]
    facts = {part["fact"] for part in leaves}
    if len(leaves) == len(parts) == 2 and len(facts) == 1:
        (fact,) = facts
        bounds = {part["op"]: part["value"] for part in parts}
        if fact in COUNTED_FACTS and set(bounds) == {"ge", "le"}:
            return f"{bounds['ge']} to {bounds['le']} {_counted_name(fact, 2)}"
        if fact == "max_diameter_mm":
            first, second = (_leaf_text(fact, part["op"], part["value"]) for part in parts)
            return f"{first} and {second.removeprefix(CONDITION_FACT_NAMES[fact] + ' ')}"
    return join_words([condition_text(part) for part in parts])


def _without_equivalents(parts):
    """Drop the second fact of an equivalent pair ('no distant metastasis' or 'no distant metastasis sites') from an ``any``."""
    facts = {part.get("fact") for part in parts}
    dropped = {second for first, second in (("nodes_positive", "node_metastasis"), ("distant_metastasis", "metastasis_sites"))
               if first in facts and second in facts}
    return [part for part in parts if part.get("fact") not in dropped]


def _counted_name(fact: str, value) -> str:
    name = CONDITION_FACT_NAMES[fact]
    return name.removesuffix("s") if value == 1 else name


def _leaf_text(fact: str, op: str, value) -> str:
    name = CONDITION_FACT_NAMES.get(fact, fact.replace("_", " "))
    if isinstance(value, bool):
        present = value == (op == "eq")
        return name if present else f"no {name}"
    if op in LIST_OPS or (fact == "depth" and op in ("eq", "ne")):
        return _list_text(fact, name, op, value)
    if op.startswith("count_"):
        if op == "count_eq" and value == 0:
            return f"no {name}"
        word = {"count_eq": "exactly", "count_ge": "at least", "count_le": "at most"}[op]
        return f"{word} {value} {name.removesuffix('s') if value == 1 else name}"
    if fact == "tumor_count" and op == "eq" and value == 1:
        return "a solitary tumour"
    if fact in COUNTED_FACTS:
        return f"{COMPARISON_WORDS.get(op, op)} {value} {_counted_name(fact, value)}".strip()
    unit = " mm" if fact == "max_diameter_mm" else ""
    text = f"{value}{unit}" if not isinstance(value, str) else value.replace("_", " ")
    return " ".join(word for word in (name, COMPARISON_WORDS.get(op, op), text) if word)


def _list_text(fact: str, name: str, op: str, value) -> str:
    items = join_words([str(v).replace("_", " ") for v in (value if isinstance(value, list) else [value])], "or")
    if fact == "depth":
        return f"invasion into the {items}" if op in ("eq", "in") else f"no invasion into the {items}"
    return {"in": f"{name} in {items}", "not_in": f"{name} not in {items}", "contains": f"{name} include {items}",
            "any_of": f"{name} include {items}", "none_of": f"no {items} among the {name}",
            "other_than": f"{name} other than {items}"}[op]
