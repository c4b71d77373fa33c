"""Regular expressions of the pathology rules backend, including common OCR misreadings.

OCR of scanned pathology reports turns "0" into "O", "1" into "l" or "I", and "cm"
into "em" or "ern". The patterns accept those forms where the context keeps them
unambiguous.
"""

from __future__ import annotations

import re

DIGIT_FIX = str.maketrans({"O": "0", "o": "0", "l": "1", "I": "1", "i": "1"})

# A category may be followed directly by the next axis ("pT3N1M0"), so N and M may end a T match.
_AXIS_END = r"(?=[NM](?:[0-3OIlXx]|\s)|[^A-Za-z0-9]|$)"
T_STAGE = re.compile(rf"(?<![A-Za-z])(?P<prefix>y?[pP]|c|u)\s?T\s?(?P<cat>is|X|[0-4OIl](?:\s?[a-c])?){_AXIS_END}")
N_STAGE = re.compile(rf"(?<![A-Za-z])(?P<prefix>y?[pP]|c|u)?\s?N\s?(?P<cat>X|[0-3OIl](?:[a-c])?)(?=M|[^A-Za-z0-9]|$)")
M_STAGE = re.compile(r"(?<![A-Za-z])(?P<prefix>y?[pP]|c)?\s?M\s?(?P<cat>X|[01OIl](?:[a-c])?)(?![A-Za-z0-9])")
EDITION = re.compile(
    r"(?<![A-Za-z])(?P<system>AJCC|UICC|TNM)[^\n]{0,40}?(?P<ordinal>\d)(?:st|nd|rd|th)\s+ed|(?P<ordinal2>\d)(?:st|nd|rd|th)\s+edition"
    r"|(?P<system2>AJCC|UICC)\s*,?\s*(?P<year>20\d\d)|(?<![A-Za-z])(?P<system3>AJCC|UICC|TNM)\s*(?P<ordinal3>\d)(?:st|nd|rd|th)?(?![\d.])"
    r"|(?P<system4>AJCC|UICC)\s*第\s*(?P<ordinal4>\d)\s*版",
    re.IGNORECASE,
)
EDITION_YEARS = {"2002": "6", "2009": "7", "2010": "7", "2016": "8", "2017": "8", "2018": "8"}

NODE_RATIO = re.compile(r"(?P<pos>\d{1,2})\s*(?:/|of|out of)\s*(?P<total>\d{1,3})\s*(?:total\s+)?(?:\w+\s+){0,2}(?:lymph\s+)?nodes?", re.IGNORECASE)
NODE_RATIO_PAREN = re.compile(r"(?:pN\w*|nodes?[^.\n]{0,40}?)\(\s*(?P<pos>\d{1,2})\s*/\s*(?P<total>\d{1,3})\s*\)", re.IGNORECASE)
NODE_METASTASES = re.compile(r"(?P<pos>\d{1,2})\s+lymph\s+node\s+metastas[ie]s\s+out\s+of\s+(?P<total>\d{1,3})", re.IGNORECASE)
NODE_SINGLE_OF = re.compile(r"\bA\s+single\s+\(of\s+(?P<total>\d{1,3})\)\s+regional\s+lymph\s+node\s+is\s+positive", re.IGNORECASE)
NODE_ALL_NEGATIVE = re.compile(
    r"(?:all\s+)?(?P<total>\d{1,3}|[A-Za-z]+)\s+(?:regional\s+)?lymph\s+nodes\s+(?:are\s+dissected[^.]{0,60}?they\s+)?are\s+(?:all\s+)?negative",
    re.IGNORECASE,
)
NUMBER_WORDS = {
    "zero": 0, "no": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
    "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
    "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50,
}

GRADE_WORDS = (
    ("中-低分化", "G3"), ("中低分化", "G3"), ("高-中分化", "G2"), ("高中分化", "G2"), ("未分化", "G4"), ("低分化", "G3"), ("中分化", "G2"),
    ("高分化", "G1"),
    ("poorly differentiated", "G3"), ("poorly-differentiated", "G3"), ("undifferentiated", "G4"),
    ("moderately differentiated", "G2"), ("moderately-differentiated", "G2"), ("moderately to poorly", "G3"),
    ("well differentiated", "G1"), ("well-differentiated", "G1"),
)
GRADE_CODE = re.compile(r"\b(?:grade\s*(?P<num>[1-4IV]{1,3})(?!\d)|G(?P<g>[1-4Il])\b)", re.IGNORECASE)

TUMOR_SIZE_LABEL = re.compile(
    r"(?:tumou?r\s+size|size\s+of\s+(?:the\s+)?tumou?r|(?:maximum|greatest)\s+tumou?r\s+(?:dimension|diameter|size)"
    r"|tumou?r\s+(?:greatest|maximum)\s+(?:dimension|diameter))\s*[:.]|(?:肿瘤|肿块|瘤体|癌灶)大小",
    re.IGNORECASE,
)
TUMOR_WORD = re.compile(r"\b(?:tumou?r|mass|\w*carcinoma|\w*sarcoma|nodule|neoplasm|lesion)\b", re.IGNORECASE)
NOT_TUMOR_AFTER = re.compile(r"^\W{0,3}(?:large\s+)?(?:portion|segment|lamellae|appendix|spleen|omentum|lymph|pancreas\b|of\s+(?:distal|liver|fat))", re.IGNORECASE)

MARGIN_POSITIVE = re.compile(
    r"\bR[12]\b|margins?\s*(?:\([^)]*\)\s*)?(?:[:：]\s*|(?:is|are)\s+)?(?:positive|involved|infiltrated)\b"
    r"|\bpositive\s+(?:\w+\s+)?margins?\b|extend\w*\s+to\s+the\s+(?:\w+\s+)?(?:resection\s+)?margin|切缘(?:阳性|见癌|可见癌)",
    re.IGNORECASE,
)
MARGIN_NEGATIVE = re.compile(
    r"margins?\b[^.\n;]{0,40}?\b(?:negative|uninvolved|not\s+involved|free|clear|R0|without\s+(?:tumou?r|carcinoma))\b"
    r"|\b(?:CRM|circumferential\s+(?:resection\s+)?margin)\s*[:：]?\s*(?:clear|negative|uninvolved)|\bR0\b"
    r"|切缘[^。；\n]{0,15}?(?:未见癌|阴性|未见肿瘤|净|干净)",
    re.IGNORECASE,
)
SYNOPTIC_INVASION = re.compile(
    r"(?P<label>LVI|LVSI|lymph[\s-]?vascular(?:\s+space)?\s+invasion|angiolymphatic\s+invasion|lymphatic\s+invasion|venous\s+invasion"
    r"|(?:small|large)\s+vessel\s+invasion|vascular\s+invasion|PNI|perineural\s+invasion)\s*(?:\([^)]*\))?\s*[:：]\s*"
    r"(?P<value>present|identified|positive|yes|extensive|focal|absent|not\s+identified|not\s+seen|not\s+present|negative|no|none)\b",
    re.IGNORECASE,
)
MICROSCOPIC_VASCULAR = re.compile(
    r"vascular\s+invasion[\s\S]{0,800}?\(micro(?:scopic)?\)\s*[-–:=]+\s*(?P<value>present|identified|not\s+identified|absent)", re.IGNORECASE
)
"""The CAP liver line 'Vascular invasion (microscopic): Present', also when OCR put the value rows below the label rows."""
ABSENT_VALUE = re.compile(r"absent|not|negative|no|none", re.IGNORECASE)
LVI_ZH = re.compile(r"(?:未见)?(?:脉管|淋巴管|血管)[^，。；\n]{0,4}?(?:癌栓|侵犯|受侵)(?:\s*[（(]\s*(?:(?P<plus>[+＋])|(?P<minus>[-－]))\s*[)）])?")
PNI_ZH = re.compile(r"(?:未见)?神经[^，。；\n]{0,3}?(?:侵犯|受侵|浸润)(?:\s*[（(]\s*(?:(?P<plus>[+＋])|(?P<minus>[-－]))\s*[)）])?")
LVI_CODE = re.compile(r"(?<![A-Za-z])(?P<axis>[LV])(?P<value>[01])(?![A-Za-z0-9])")
PNI_CODE = re.compile(r"\bPn(?P<value>[01l])\b")
PRESENT_WORDS = re.compile(r"^[\s:.,-]{0,4}(?:is\s+|are\s+)?(?:present|seen|identified|positive|yes|extensive)\b|(?:present|seen)\b", re.IGNORECASE)
