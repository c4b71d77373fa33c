"""Every contract record survives a Parquet round trip unchanged, and strictness holds."""

from __future__ import annotations

import datetime as dt

import pyarrow.parquet as pq
import pytest
from pydantic import ValidationError

import data_contracts as dc


def _span(text: str = "hypodense mass", start: int = 10) -> dc.EvidenceSpan:
    return dc.EvidenceSpan(source="report", start=start, end=start + len(text), text=text, section="findings")


def _examples() -> list[dc.Record]:
    stage = dc.StageResult(organ="pancreas", T="T2", N="N1", M="M0", table="pancreas_exocrine", rules=("pancreas.T2.size",), missing=())
    step = dc.ReasoningStep(
        step_id="F1",
        level="finding",
        triplet=dc.Triplet(subject="pancreas lesion", predicate="has_density", object="hypodense"),
        sentence="The pancreatic head lesion is hypodense.",
        kg_edge_id="pancreas:e17",
        evidence=(dc.EvidenceRef(kind="report", ref_id="rep-L1", field="density", value="hypodense", span=_span()),),
        confidence=0.9,
    )
    repair = dc.RepairRecord(
        round=1,
        strategy="expand_region",
        failed_checks=(dc.CheckFailure(code="hallucinated_finding", message="cites rep-L9", step_id="F2"),),
        resolved=True,
    )
    provenance = dc.Provenance(
        case_id="c1",
        input_hash="abc",
        kg_version="kg123",
        engine_version="0.1.0",
        schema_version=dc.SCHEMA_VERSION,
        agents=(dc.AgentProvenance(agent="reasoner", backend="llm", model="openai/x", prompt_hash="p1"),),
        chain_ids=("ch1",),
        repair_history=(repair,),
        evidence=step.evidence,
    )
    return [
        dc.CaseInput(case_id="c1", ct_path="/data/ct.nii.gz", report_path="/data/r.txt", metadata=(dc.KeyValue(key="phase", value="portal"),)),
        dc.ImagingFeatures(
            case_id="c1",
            ct_path="/data/ct.nii.gz",
            ct_sha256="ff",
            shape_xyz=(10, 20, 30),
            spacing_mm_xyz=(1.0, 1.0, 2.5),
            hu_min=-1024.0,
            hu_max=1500.0,
            organs=(
                dc.OrganFeatures(
                    organ="liver",
                    present=True,
                    voxel_count=100,
                    volume_ml=0.25,
                    bbox_voxel_xyz=(0, 1, 2, 5, 6, 7),
                    bbox_norm_xyz=(0.0, 0.05, 0.07, 0.5, 0.3, 0.23),
                    centroid_mm_ras=(1.0, 2.0, 3.0),
                    hu_mean=55.0,
                    hu_std=10.0,
                ),
                dc.OrganFeatures(organ="esophagus", present=False, voxel_count=0),
            ),
            flags=(dc.Flag(code="truncated_fov", message="c1: liver touches slice 0", file="/data/seg.nii.gz", field="liver"),),
        ),
        dc.ReportFeatures(
            case_id="c1",
            lesions=(
                dc.LesionFinding(
                    finding_id="rep-L1",
                    organ="pancreas",
                    subregions=("head",),
                    density="hypodense",
                    sizes_mm=(32.0, 20.0),
                    max_diameter_mm=32.0,
                    evidence=(dc.FieldEvidence(field="density", span=_span()),),
                ),
            ),
            nodes=(dc.NodeFinding(node_id="rep-N1", station="peripancreatic", short_axis_mm=12.0, suspicious=True),),
            vessels=(dc.VesselFinding(vessel_id="rep-V1", vessel="common_hepatic_artery", relation="encasement"),),
            invasions=(dc.InvasionFinding(invasion_id="rep-I1", structure="duodenum"),),
            metastases=(dc.MetastasisFinding(metastasis_id="rep-M1", site="liver", negated=True),),
        ),
        dc.PathologyFeatures(
            case_id="c1",
            histology="ductal_adenocarcinoma",
            nodes_positive=2,
            nodes_examined=14,
            stated_stage=dc.StatedStage(T="T3", N="N1", edition="AJCC7", text="pT3 N1"),
        ),
        stage,
        dc.Chain(chain_id="ch1", case_id="c1", organ="pancreas", steps=(step,), stage=stage, repairs=(repair,)),
        dc.VQASample(
            sample_id="s1",
            case_id="c1",
            split="train",
            task_type="tnm",
            subtask="T",
            organ="pancreas",
            ct_path="/data/ct.nii.gz",
            question="What is the T category?",
            think="The tumour measures 32 mm.",
            answer="T2",
            answer_json='{"T": "T2"}',
            chain=(step,),
            iir_rounds=(dc.IIRRound(round=1, attend_organ="pancreas", roi_bbox_norm_xyz=(0.1, 0.2, 0.3, 0.4, 0.5, 0.6), intermediate_answer="A pancreatic head mass."),),
            provenance=provenance,
        ),
        dc.RejectRecord(case_id="c2", agent="segmenter", reason_code="not_hu", message="c2: values in 0..1", rejected_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC)),
        dc.DatasetManifest(
            dataset_name="demo",
            schema_version=dc.SCHEMA_VERSION,
            engine_version="0.1.0",
            kg_version="kg123",
            config_hash="cfg",
            run_id="r1",
            created_at=dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.UTC),
            shards=(dc.ShardInfo(path="shards/part-0.parquet", rows=3, sha256="00", bytes=100, case_ids=("c1",)),),
            samples_by_task=(dc.CountItem(key="tnm", count=3),),
        ),
    ]


@pytest.mark.parametrize("record", _examples(), ids=lambda r: type(r).__name__)
def test_record_roundtrips_through_parquet(record: dc.Record, tmp_path) -> None:
    cls = type(record)
    path = tmp_path / "records.parquet"
    pq.write_table(cls.to_table([record]), path)

    table = pq.read_table(path)
    assert table.schema.remove_metadata().equals(cls.arrow_schema().remove_metadata())
    assert cls.from_table(table) == [record]


def test_every_top_level_record_has_an_example() -> None:
    covered = {type(r) for r in _examples()}
    assert set(dc.ALL_RECORDS) <= covered


def test_records_are_frozen() -> None:
    flag = dc.Flag(code="not_hu", message="m")
    with pytest.raises(ValidationError):
        flag.code = "other"  # type: ignore[misc]


def test_strict_mode_rejects_coercion() -> None:
    with pytest.raises(ValidationError):
        dc.OrganFeatures(organ="liver", present=True, voxel_count="12")  # type: ignore[arg-type]


def test_unknown_reason_code_is_rejected() -> None:
    with pytest.raises(ValidationError, match="unknown reason code"):
        dc.RejectRecord(case_id="c", agent="segmenter", reason_code="bad_code", message="m")


def test_extra_fields_are_rejected() -> None:
    with pytest.raises(ValidationError):
        dc.Triplet(subject="a", predicate="b", object="c", note="x")  # type: ignore[call-arg]


def test_evidence_span_end_before_start_is_rejected() -> None:
    with pytest.raises(ValidationError, match="before start"):
        dc.EvidenceSpan(source="report", start=5, end=2, text="")


def test_schema_carries_version_metadata() -> None:
    schema = dc.VQASample.arrow_schema()
    assert schema.metadata[b"tumorcot.schema_version"] == dc.SCHEMA_VERSION.encode()
    assert schema.metadata[b"tumorcot.record"] == b"VQASample"


def test_public_surface_is_stable() -> None:
    assert "VQASample" in dc.__all__
    for name in dc.__all__:
        assert hasattr(dc, name), name
