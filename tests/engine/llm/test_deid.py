"""De-identification of report text, and what reaches a non-local provider."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from engine.config import AgentBackend, LLMSettings
from engine.llm import LLMClient
from engine.privacy import Deidentifier, deidentify, is_local, reidentify
from tests.fakes.llm_server import fake_llm, good  # noqa: F401

REPORT = """Patient: John Smith   MRN: 00123456   DOB: 03/04/1961
Exam date: 2021-03-04. Accession # S21-12345. Phone: (555) 123-4567, email john.smith@example.org
Address: 42 Elm Street, Springfield, IL 62704
Referring physician: Dr. Alice Wong
FINDINGS: A 2.4 x 3.1 cm hypodense mass in segment 7 of the liver, 45 HU. Compared with 4 March 2021 and March 5, 2020.
Pancreatic head lesion measuring 3.2 cm. pT3N1M0, 3/14 lymph nodes positive. Fracture of L1 and T12. CA19-9 1200 U/mL.
Mr. Smith tolerated the exam well.
检查日期：2021年3月4日 姓名：张三 住院号：A123456 电话：13812345678
Signed by: Alice Wong, MD on 12.05.2021"""

IDENTIFIERS = [
    "John", "Smith", "00123456", "03/04/1961", "2021-03-04", "S21-12345", "(555) 123-4567", "555", "john.smith@example.org",
    "42 Elm Street", "Springfield", "62704", "Alice", "Wong", "4 March 2021", "March 5, 2020", "2021年3月4日", "张三", "A123456",
    "13812345678", "12.05.2021",
]
CLINICAL = ["2.4 x 3.1 cm", "segment 7", "45 HU", "3.2 cm", "pT3N1M0", "3/14 lymph nodes", "L1", "T12", "CA19-9 1200 U/mL"]


@pytest.mark.parametrize("identifier", IDENTIFIERS)
def test_identifier_is_removed(identifier):
    assert identifier not in deidentify(REPORT, "case-1").text


@pytest.mark.parametrize("phrase", CLINICAL)
def test_clinical_content_survives(phrase):
    assert phrase in deidentify(REPORT, "case-1").text


@pytest.mark.parametrize(
    "text",
    [
        "Lesion 1.2 x 0.8 x 0.9 cm in segments 5/6, enhancing to 120 HU.",
        "ypT2N0 (0/12), margins negative, grade 2/3.",
        "Stage IIB, T3N1M0 per AJCC 8th edition.",
        "Measures 12 mm (previously 9 mm), ratio 1.5/2.0.",
    ],
)
def test_clinical_sentences_are_untouched(text):
    assert deidentify(text).text == text


@pytest.mark.parametrize(
    ("text", "expected_category"),
    [
        ("Seen on 2021/03/04 again", "DATE"),
        ("Scan of 04-Mar-2021", "DATE"),
        ("Follow-up in March 2022.", "DATE"),
        ("Report 2021-03-04T10:22:01 signed", "DATE"),
        ("Call 555-867-5309 for results", "PHONE"),
        ("Tel: +44 20 7946 0958", "PHONE"),
        ("MRN 12345678", "ID"),
        ("SSN 123-45-6789", "ID"),
        ("Dr Li Ming reviewed the images", "NAME"),
        ("Name: SMITH, JOHN", "NAME"),
        ("Prof. Maria Garcia-Lopez", "NAME"),
    ],
)
def test_formats_are_recognised(text, expected_category):
    result = deidentify(text)
    assert any(p.startswith(f"[{expected_category}_") for p in result.replacements)


def test_placeholders_are_stable_within_case():
    deidentifier = Deidentifier("case-1")
    first = deidentifier.deidentify("Patient: John Smith, seen 2021-03-04.")
    second = deidentifier.deidentify("Smith returned; John Smith was scanned on 2021-03-04.")

    assert first.text == "Patient: [NAME_1], seen [DATE_1]."
    assert "[NAME_1] was scanned on [DATE_1]" in second.text
    assert second.replacements["[NAME_1]"] == "John Smith"


def test_reidentify_restores_original():
    result = deidentify(REPORT, "case-1")
    assert result.reidentify(result.text) == REPORT
    assert reidentify("[NAME_1] had [DATE_1]", result.replacements) == f"{result.replacements['[NAME_1]']} had 03/04/1961"


@pytest.mark.parametrize(
    ("model", "api_base", "local"),
    [
        ("openai/qwen", "http://127.0.0.1:8000/v1", True),
        ("hosted_vllm/qwen", "http://localhost:8000/v1", True),
        ("ollama/qwen2.5", None, True),
        ("openai/gpt-4o-mini", None, False),
        ("anthropic/claude-3-5-sonnet", None, False),
        ("openai/qwen", "https://api.example.com/v1", False),
    ],
)
def test_local_host_policy(model, api_base, local):
    assert is_local(model, api_base, ("127.0.0.1", "localhost", "::1")) is local


class Summary(BaseModel):
    patient: str
    finding: str


def test_no_identifier_reaches_external_provider(tmp_path, fake_llm):
    # 127.0.0.1 is left off local_hosts, so the fake stands in for an external provider.
    settings = LLMSettings(local_hosts=("localhost",), allow_external=True, cache_dir=str(tmp_path / "cache"))
    client = LLMClient(settings)
    fake_llm.responder = lambda body: good({"patient": "[NAME_1]", "finding": "mass of 3.2 cm"})
    backend = AgentBackend(backend="llm", model="openai/fake-model", api_base=fake_llm.url)
    messages = [{"role": "system", "content": "Summarize."}, {"role": "user", "content": REPORT}]

    result = client.structured("summarizer", backend, messages, Summary, case_id="case-1", prompt_hash="h")

    sent = "\n".join(fake_llm.user_texts())
    for identifier in IDENTIFIERS:
        assert identifier not in sent
    for phrase in CLINICAL:
        assert phrase in sent
    assert result.value.patient == "John Smith"


def test_local_provider_gets_original_text(tmp_path, fake_llm):
    client = LLMClient(LLMSettings(cache_dir=None))
    fake_llm.queue(good({"patient": "x", "finding": "y"}))
    backend = AgentBackend(backend="llm", model="openai/fake-model", api_base=fake_llm.url)

    client.structured("summarizer", backend, [{"role": "user", "content": REPORT}], Summary, case_id="case-1", prompt_hash="h")

    assert "John Smith" in fake_llm.user_texts()[0]


HEADER_LEAKS = [
    ("姓 名: 欧阳小明  住院号: 00123456  CT号: CT2207010023", ["欧阳小明", "00123456", "2207010023"]),
    ("姓　名：张三  病案号：BA778812  影像号：YX20220701", ["张三", "BA778812", "20220701"]),
    ("Patient Name: DOE, JANE A   MRN: 00482913", ["DOE", "JANE", " A ", "00482913"]),
    ("Name: O'Brien, Patrick  DOB: 1956-04-12", ["O'Brien", "Patrick", "1956"]),
]


@pytest.mark.parametrize(("header", "identifiers"), HEADER_LEAKS)
def test_report_header_identifiers_removed(header, identifiers):
    result = deidentify(header + "\nFINDINGS: 2.4 x 3.1 cm mass in segment 7, pT3N1M0, T12 intact.")
    for identifier in identifiers:
        assert identifier not in result.text, result.text
    assert "2.4 x 3.1 cm mass in segment 7, pT3N1M0, T12 intact." in result.text
