"""Valid VQA sample records built in memory, for the shard benchmarks and the flow tests."""

from __future__ import annotations

import json

from data_contracts import SCHEMA_VERSION, EvidenceRef, EvidenceSpan, Provenance, ReasoningStep, Triplet, VQASample

REPORT_TEXT = "FINDINGS: A hypodense mass in the pancreatic head measures 3.2 cm. No liver lesion.\nIMPRESSION: Pancreatic head mass."


def make_sample(case_id: str, index: int, split: str = "train", task_type: str = "attribute", input_hash: str = "h0", organ: str = "pancreas") -> VQASample:
    """Build a valid sample with one chain step citing a span of ``REPORT_TEXT``."""
    span_start = REPORT_TEXT.index("hypodense mass")
    span = EvidenceSpan(source="report", start=span_start, end=span_start + len("hypodense mass"), text="hypodense mass", section="findings")
    step = ReasoningStep(
        step_id="F1",
        level="finding",
        triplet=Triplet(subject="pancreas", predicate="has_finding", object="hypodense_mass"),
        sentence="The pancreatic head shows a hypodense mass.",
        kg_edge_id="pancreas:e12",
        evidence=(EvidenceRef(kind="report", ref_id="rep-L1", field="density", value="hypodense", span=span),),
    )
    answer = {"T": "T2", "N": "N0", "M": "M0"} if task_type == "tnm" else {"value": "hypodense"}
    return VQASample(
        sample_id=f"{case_id}-{task_type}-{index}",
        case_id=case_id,
        split=split,
        task_type=task_type,
        subtask="density" if task_type != "tnm" else "T",
        organ=organ,
        ct_path=f"/data/{case_id}/ct.nii.gz",
        question="What is the density of the pancreatic lesion?",
        think="The report describes a hypodense mass in the pancreatic head.",
        answer="Hypodense.",
        answer_json=json.dumps(answer),
        chain=(step,),
        provenance=Provenance(case_id=case_id, input_hash=input_hash, kg_version="kg1", engine_version="0.1.0", schema_version=SCHEMA_VERSION),
    )
