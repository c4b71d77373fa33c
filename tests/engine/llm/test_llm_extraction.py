"""The llm extraction backend end to end against the fake server."""

from __future__ import annotations

import json

import pytest

from engine.config import AgentBackend, EngineConfig, LLMSettings
from engine.extraction.llm_backend import extract_pathology_llm, extract_report_llm, locate_quote
from engine.llm import LLMInvalidOutput, load_prompt
from engine.state import EngineContext
from tests.fakes.llm_server import fake_llm, good, prose  # noqa: F401

REPORT = (
    "FINDINGS: There is a 3.2 x 2.5 cm hypodense mass in the head of the pancreas with upstream duct dilatation.\n"
    "The mass abuts the superior mesenteric vein. No focal liver lesion.\n"
    "IMPRESSION: Findings suspicious for pancreatic ductal adenocarcinoma."
)
PATHOLOGY = (
    "Pancreaticoduodenectomy: moderately differentiated ductal adenocarcinoma, 3.0 cm.\n"
    "Metastatic carcinoma in 3/14 lymph nodes. Margins negative. Perineural invasion present.\n"
    "pT2 pN1 (AJCC 8th edition)."
)


def report_reply(body: dict) -> dict:
    """A plausible answer that quotes the report it was sent, plus one invented quote."""
    sent = body["messages"][-1]["content"]
    assert "3.2 x 2.5 cm" in sent
    return {
        "language": "en",
        "lesions": [
            {
                "organ": "pancreatic",
                "subregions": ["head of pancreas"],
                "impression": "pdac",
                "density": "low density",
                "signs": ["upstream_duct_dilatation"],
                "count": 1,
                "sizes_mm": [25, 32],
                "certainty": "probable",
                "evidence": [
                    {"field": "density", "quote": "hypodense mass"},
                    {"field": "sizes_mm", "quote": "3.2 x 2.5  CM"},
                    {"field": "signs", "quote": "marked atrophy of the pancreatic tail"},
                ],
            },
            {"organ": "liver", "negated": True, "evidence": [{"field": "negated", "quote": "No focal liver lesion"}]},
        ],
        "vessels": [
            {"vessel": "superior_mesenteric_vein", "relation": "abutment", "organ": "pancreas",
             "evidence": [{"field": "relation", "quote": "abuts the superior mesenteric vein"}]}
        ],
        "organs_normal": [],
    }


def make_context(tmp_path, server, kgs) -> EngineContext:
    config = EngineConfig(
        extractor=AgentBackend(backend="llm", model="openai/fake-extractor", api_base=server.url),
        llm=LLMSettings(cache_dir=str(tmp_path / "cache"), max_retries=1),
    )
    return EngineContext(config=config, kgs=kgs, kg_version="test", engine_version="test")


@pytest.fixture(scope="module")
def kgs():
    from kg import load_all

    return load_all()


def test_report_features_from_llm(tmp_path, fake_llm, kgs):
    fake_llm.responder = report_reply
    ctx = make_context(tmp_path, fake_llm, kgs)

    features = extract_report_llm(REPORT, "case-7", ctx)

    mass, liver = features.lesions
    assert (mass.finding_id, liver.finding_id) == ("rep-L1", "rep-L2")
    assert mass.organ == "pancreas"
    assert mass.subregions == ("head",)
    assert mass.density == "hypodense"
    assert mass.impression_id == "pdac"
    assert mass.sizes_mm == (32.0, 25.0)
    assert mass.max_diameter_mm == 32.0
    assert mass.certainty == "probable"
    assert liver.negated is True
    assert features.vessels[0].relation == "abutment"
    assert features.backend == "llm"
    assert features.model == "openai/fake-extractor"
    assert features.prompt_hash == load_prompt("extractor_report").sha256


def test_evidence_spans_match_report(tmp_path, fake_llm, kgs):
    fake_llm.responder = report_reply
    features = extract_report_llm(REPORT, "case-7", make_context(tmp_path, fake_llm, kgs))

    spans = [e.span for lesion in features.lesions for e in lesion.evidence] + [e.span for e in features.vessels[0].evidence]
    assert len(spans) == 4
    for span in spans:
        assert REPORT[span.start:span.end] == span.text
    assert features.lesions[0].evidence[1].span.text == "3.2 x 2.5 cm"
    assert features.lesions[0].evidence[0].span.section == "findings"


def test_invented_quote_is_dropped_with_flag(tmp_path, fake_llm, kgs):
    fake_llm.responder = report_reply
    features = extract_report_llm(REPORT, "case-7", make_context(tmp_path, fake_llm, kgs))

    fields = [e.field for e in features.lesions[0].evidence]
    assert fields == ["density", "sizes_mm"]
    flags = [f for f in features.flags if f.code == "evidence_not_found"]
    assert len(flags) == 1
    assert "rep-L1" in flags[0].message
    assert "atrophy" not in flags[0].message


def test_prompt_lists_kg_vocabulary(tmp_path, fake_llm, kgs):
    fake_llm.responder = report_reply
    extract_report_llm(REPORT, "case-7", make_context(tmp_path, fake_llm, kgs))

    system = fake_llm.requests[0]["messages"][0]["content"]
    assert "organ pancreas" in system
    assert "hypodense" in system
    assert "superior_mesenteric_vein" in system


def test_rerun_is_served_from_cache(tmp_path, fake_llm, kgs):
    fake_llm.responder = report_reply
    first = extract_report_llm(REPORT, "case-7", make_context(tmp_path, fake_llm, kgs))
    second_ctx = make_context(tmp_path, fake_llm, kgs)
    second = extract_report_llm(REPORT, "case-7", second_ctx)

    assert second == first
    assert len(fake_llm.requests) == 1
    assert second_ctx.usage.cache_hits == {"extractor": 1}


def test_persistent_prose_raises_typed_error(tmp_path, fake_llm, kgs):
    fake_llm.queue(prose(), prose())
    with pytest.raises(LLMInvalidOutput) as caught:
        extract_report_llm(REPORT, "case-7", make_context(tmp_path, fake_llm, kgs))
    assert caught.value.case_id == "case-7"
    assert caught.value.agent == "extractor"


def test_pathology_features_from_llm(tmp_path, fake_llm, kgs):
    fake_llm.queue(good(json.dumps({
        "organ": "pancreas",
        "histology": "ductal adenocarcinoma",
        "histology_text": "moderately differentiated ductal adenocarcinoma",
        "malignant": True,
        "tumor_size_mm": 30,
        "nodes_positive": 3,
        "nodes_examined": 14,
        "margins": "negative",
        "perineural_invasion": True,
        "stated_stage": {"T": "pT2", "N": "pN1", "edition": "AJCC8", "text": "pT2 pN1"},
        "evidence": [{"field": "nodes_positive", "quote": "3/14 lymph nodes"}, {"field": "grade", "quote": "poorly differentiated"}],
    })))

    features = extract_pathology_llm(PATHOLOGY, "case-7", make_context(tmp_path, fake_llm, kgs))

    assert features.histology == "ductal_adenocarcinoma"
    assert (features.nodes_positive, features.nodes_examined) == (3, 14)
    assert features.stated_stage.edition == "AJCC8"
    assert [e.span.text for e in features.evidence] == ["3/14 lymph nodes"]
    assert features.evidence[0].span.source == "pathology"
    assert [f.code for f in features.flags] == ["evidence_not_found"]
    assert features.prompt_hash == load_prompt("extractor_pathology").sha256


@pytest.mark.parametrize(
    ("quote", "expected"),
    [("hypodense mass", "hypodense mass"), ("HYPODENSE   mass", "hypodense mass"), ("no such words", None), ("", None)],
)
def test_locate_quote(quote, expected):
    located = locate_quote(REPORT, quote)
    assert (REPORT[located[0]:located[1]] if located else None) == expected
