"""A plain-English checker for chain sentences, written apart from the code that builds them.

It flags what a reader of a radiology chain notices first. That is a wrong
indefinite article, 'The segment 7' for a Couinaud segment, a singular verb
after 'the colon and rectum', a doubled word or a leftover placeholder. A
sentence must also start with a capital and end with a period.
"""

from __future__ import annotations

import re

CONSONANT_SOUND_VOWEL_STARTS = ("uni", "use", "usu", "uro", "ure", "eu", "one", "once")
SILENT_H_STARTS = ("hour", "honest", "honour", "heir")
VOWEL_SOUND_NUMBER = re.compile(r"^(8\d*|11|18)(\.\d+)?$")

ARTICLE = re.compile(r"\b(a|an|A|An) ([\w-]+)")
COUINAUD_SEGMENT = re.compile(r"\b[Tt]he segment \d")
DOUBLED_WORD = re.compile(r"\b(\w+) \1\b", re.IGNORECASE)
PLURAL_SUBJECT_SINGULAR_VERB = re.compile(r"\b(colon and rectum|nodes|lesions|lungs|septations) (contains|is|shows|appears|has|lies)\b")
ONE_PLURAL = re.compile(r"\b(1|one|a) (suspicious |positive |enlarged )?(regional )?lymph nodes\b")
SINGULAR_AFTER_NUMBER = re.compile(r"\b([2-9]|\d{2,}|two|three|four|five|six|seven|eight|nine|ten) (suspicious |positive )?(regional )?(lymph node|lesion)\b(?!s)")
THERE_ARE_ARTICLE = re.compile(r"\b[Tt]here are an? ")
THERE_IS_PLURAL = re.compile(r"\b[Tt]here is (\w+ )?(septations|diverticula|nodules|lesions|signs)\b")


def _starts_with_vowel_sound(word: str) -> bool:
    lowered = word.casefold()
    if lowered[0].isdigit():
        return bool(VOWEL_SOUND_NUMBER.match(lowered))
    if lowered.startswith(SILENT_H_STARTS):
        return True
    if lowered.startswith(CONSONANT_SOUND_VOWEL_STARTS):
        return False
    return lowered[0] in "aeiou"


def grammar_problems(sentence: str) -> list[str]:
    """Return the problems a reader would see in ``sentence``, or an empty list when it reads correctly."""
    problems = []
    if not sentence[:1].isupper():
        problems.append("does not start with a capital")
    if not sentence.endswith("."):
        problems.append("does not end with a period")
    for article, word in ARTICLE.findall(sentence):
        vowel = _starts_with_vowel_sound(word)
        if article.casefold() == "a" and vowel:
            problems.append(f"'a {word}' should be 'an {word}'")
        if article.casefold() == "an" and not vowel:
            problems.append(f"'an {word}' should be 'a {word}'")
    checks = (
        (COUINAUD_SEGMENT, "a Couinaud segment takes no article"),
        (DOUBLED_WORD, "doubled word"),
        (PLURAL_SUBJECT_SINGULAR_VERB, "singular verb after a plural subject such as 'colon and rectum'"),
        (ONE_PLURAL, "one lymph node written as plural"),
        (SINGULAR_AFTER_NUMBER, "a count above one with a singular noun"),
        (THERE_ARE_ARTICLE, "'there are' before a singular noun"),
        (THERE_IS_PLURAL, "'there is' before a plural noun"),
    )
    for pattern, problem in checks:
        if pattern.search(sentence):
            problems.append(problem)
    for leftover in ("_", "{", "}", "  ", " .", " ,", ",,", ".."):
        if leftover in sentence:
            problems.append(f"contains {leftover!r}")
    return problems
