"""Explain one sample: its question and answer, its chain with each step's KG edge, and the
report text with the evidence spans marked, so a reviewer can trace every claim."""

from __future__ import annotations

import json
from dataclasses import dataclass

import duckdb

from data_contracts import EvidenceSpan, VQASample
from flows.dataset_manifest import STATS_NAME, read_manifest_json
from flows.storage import Storage

SPAN_OPEN = "[["
SPAN_CLOSE = "]]"


@dataclass
class Explanation:
    """A sample and the source texts its evidence points into."""

    sample: VQASample
    report_text: str | None
    pathology_text: str | None


def find_sample(url: str, sample_id: str) -> VQASample:
    """Return the sample with ``sample_id`` from the dataset's listed shards."""
    storage = Storage.open(url)
    manifest = read_manifest_json(storage)
    for shard in manifest.shards:
        path = storage.local_path(shard.path)
        if path is None:
            raise ValueError(f"explain reads local datasets only; copy {url} to a local folder first")
        table = duckdb.sql(f"SELECT * FROM read_parquet('{_quote(path)}') WHERE sample_id = '{_quote(sample_id)}'").to_arrow_table()
        if table.num_rows:
            return VQASample.from_row(table.to_pylist()[0])
    raise KeyError(f"sample {sample_id!r} not found in the {len(manifest.shards)} shards of {url}")


def explain_sample(url: str, sample_id: str) -> Explanation:
    """Load the sample and the report and pathology texts of its case."""
    sample = find_sample(url, sample_id)
    stats = json.loads(Storage.open(url).read_bytes(STATS_NAME))
    paths = stats.get("cases", {}).get(sample.case_id, {})
    return Explanation(sample=sample, report_text=_read_text(paths.get("report_path")), pathology_text=_read_text(paths.get("pathology_path")))


def mark_spans(text: str, spans: list[EvidenceSpan]) -> str:
    """Return ``text`` with each span wrapped in [[ ]]; a span whose offsets do not match its text is located by search."""
    ranges = sorted({_locate(text, span) for span in spans} - {None})
    marked, cursor = [], 0
    for start, end in ranges:
        if start < cursor:
            continue
        marked.extend([text[cursor:start], SPAN_OPEN, text[start:end], SPAN_CLOSE])
        cursor = end
    marked.append(text[cursor:])
    return "".join(marked)


def sample_spans(sample: VQASample, source: str) -> list[EvidenceSpan]:
    """Return every evidence span of ``source`` (report or pathology) that the sample's chain and provenance cite."""
    refs = [ref for step in sample.chain for ref in step.evidence] + list(sample.provenance.evidence)
    return [ref.span for ref in refs if ref.span is not None and ref.span.source == source]


def format_explanation(explanation: Explanation) -> str:
    """Render an explanation as plain text."""
    sample = explanation.sample
    lines = [
        f"sample {sample.sample_id}  case {sample.case_id}  split {sample.split}  task {sample.task_type}/{sample.subtask}  organ {sample.organ}",
        f"CT: {sample.ct_path}",
        f"Q: {sample.question}",
        f"<think> {sample.think} </think>",
        f"A: {sample.answer}",
        "",
        "chain:",
    ]
    for step in sample.chain:
        triplet = step.triplet
        lines.append(f"  {step.step_id:<5} [{step.level}] {triplet.subject} --{triplet.predicate}--> {triplet.object}   KG edge: {step.kg_edge_id or 'none'}")
        lines.append(f"        {step.sentence}")
        for ref in step.evidence:
            span_text = f" span {ref.span.start}-{ref.span.end} {ref.span.text!r}" if ref.span else ""
            lines.append(f"        evidence {ref.kind}:{ref.ref_id} {ref.field or ''}={ref.value or ''}{span_text}")
    provenance = sample.provenance
    lines += ["", f"KG version {provenance.kg_version}  engine {provenance.engine_version}  input hash {provenance.input_hash}"]
    lines += [f"  {a.agent}: {a.backend}{' / ' + a.model if a.model else ''}" for a in provenance.agents]
    lines += [f"  repair round {r.round} ({r.strategy}): {'resolved' if r.resolved else 'unresolved'} {r.note}" for r in provenance.repair_history]
    for source, text in (("report", explanation.report_text), ("pathology", explanation.pathology_text)):
        if text:
            lines += ["", f"{source} text (evidence spans in {SPAN_OPEN} {SPAN_CLOSE}):", mark_spans(text, sample_spans(sample, source))]
    return "\n".join(lines)


def _locate(text: str, span: EvidenceSpan) -> tuple[int, int] | None:
    if 0 <= span.start <= span.end <= len(text) and text[span.start : span.end] == span.text:
        return span.start, span.end
    found = text.find(span.text) if span.text else -1
    return (found, found + len(span.text)) if found >= 0 else None


def _read_text(path: str | None) -> str | None:
    if not path:
        return None
    from engine.text.decode import ReportInputError, read_text_file

    try:
        return read_text_file(path).text
    except (ReportInputError, OSError):
        return None


def _quote(value: str) -> str:
    return value.replace("'", "''")
