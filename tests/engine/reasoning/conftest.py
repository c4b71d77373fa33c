"""Fixtures for the reasoner and calibrator tests: real KGs, the real extractor, hand-set imaging measurements."""

from __future__ import annotations

import pytest

from data_contracts import CaseInput, ImagingFeatures
from engine.config import AgentBackend, EngineConfig, LLMSettings
from engine.state import CaseState, EngineContext
from kg import kg_version, load_all


@pytest.fixture(scope="session")
def kgs():
    return load_all()


@pytest.fixture(scope="session")
def extract():
    """Run the real rules extractor on a report text."""
    from engine.extraction import extract_report

    kgs = load_all()

    def _extract(text: str, case_id: str = "case-1"):
        return extract_report(text, case_id, kgs)

    return _extract


@pytest.fixture
def make_ctx(kgs):
    def _make(backend: str = "rules", seed: int = 0, repair_rounds: int = 2, llm=None, api_base: str | None = None) -> EngineContext:
        reasoner = AgentBackend(backend=backend, model="openai/fake-reasoner" if backend == "llm" else None, api_base=api_base)
        config = EngineConfig(reasoner=reasoner, seed=seed, repair_rounds=repair_rounds, llm=LLMSettings(cache_dir=None, max_retries=0))
        return EngineContext(config=config, kgs=kgs, kg_version=kg_version(kgs), engine_version="test", llm=llm)

    return _make


@pytest.fixture
def make_state(extract, kgs):
    def _make(text: str, case_id: str = "case-1", imaging: ImagingFeatures | None = None, pathology_text: str | None = None) -> CaseState:
        from engine.extraction import extract_pathology

        report = extract(text, case_id)
        pathology = extract_pathology(pathology_text, case_id, kgs) if pathology_text else None
        return CaseState(case=CaseInput(case_id=case_id, ct_path=f"/data/{case_id}/ct.nii.gz"), report_text=text, report=report,
                         imaging=imaging, pathology_text=pathology_text, pathology=pathology)

    return _make
