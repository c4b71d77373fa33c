"""The dataset report: one self-contained HTML page with inline SVG plots.

It shows the task-type mix, organ and T/N/M distributions, repairs and rejects
by reason, token use and cost, and example samples with their chains, KG edge
ids and evidence spans highlighted in the report text. Plots are drawn with
matplotlib into SVG and written into the page, so it opens offline.
"""

from __future__ import annotations

import html
import io
import json
import logging
from collections import Counter

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from data_contracts import VQASample
from flows.dataset_manifest import REJECTS_NAME, STATS_NAME, read_manifest_json
from flows.explain import _locate, _read_text, sample_spans
from flows.storage import Storage

logger = logging.getLogger(__name__)
REPORT_NAME = "report.html"
EXAMPLES_PER_TASK = 2
_SUMMARY_COLUMNS = ["sample_id", "task_type", "organ", "split", "answer_json"]


def write_report(storage: Storage, name: str = REPORT_NAME) -> str:
    """Build the report of the dataset in ``storage`` and write it as ``name``; return its path."""
    page = build_report_html(storage)
    return storage.write_bytes_atomic(name, page.encode("utf-8"))


def build_report_html(storage: Storage) -> str:
    """Return the report page of the dataset in ``storage``."""
    manifest = read_manifest_json(storage)
    stats = json.loads(storage.read_bytes(STATS_NAME)) if storage.exists(STATS_NAME) else {}
    table = _read_columns(storage, [s.path for s in manifest.shards])
    rejects = pq.read_table(io.BytesIO(storage.read_bytes(REJECTS_NAME))) if storage.exists(REJECTS_NAME) else None

    task_counts = Counter(table["task_type"].to_pylist()) if table is not None else Counter()
    organ_counts = Counter(table["organ"].to_pylist()) if table is not None else Counter()
    split_counts = Counter(table["split"].to_pylist()) if table is not None else Counter()
    tnm = _tnm_counts(table)
    reject_counts = Counter(rejects["reason_code"].to_pylist()) if rejects is not None else Counter()

    sections = [
        _header(manifest, stats),
        _figure("Task-type mix", _pie_svg(task_counts, "Samples by task type")),
        _figure("Samples by organ", _bar_svg(organ_counts, "samples")),
        _figure("Samples by split", _bar_svg(split_counts, "samples")),
        _figure("T, N and M categories (TNM samples)", _tnm_svg(tnm)),
        _figure("Repairs by strategy", _bar_svg(Counter(stats.get("repairs_by_strategy", {})), "repair rounds")),
        _figure("Rejects by reason", _bar_svg(reject_counts, "reject rows")),
        _usage_section(stats),
        _rejects_table(rejects),
        _examples_section(storage, manifest, table, stats),
    ]
    return _page(manifest.dataset_name, "\n".join(sections))


def _read_columns(storage: Storage, paths: list[str]) -> pa.Table | None:
    tables = [pq.read_table(io.BytesIO(storage.read_bytes(path)), columns=_SUMMARY_COLUMNS) for path in paths]
    return pa.concat_tables(tables) if tables else None


def _tnm_counts(table: pa.Table | None) -> dict[str, Counter]:
    counts = {"T": Counter(), "N": Counter(), "M": Counter()}
    if table is None:
        return counts
    tnm_rows = table.filter(pc.equal(table["task_type"], "tnm"))
    for text in tnm_rows["answer_json"].to_pylist():
        try:
            answer = json.loads(text)
        except ValueError:
            continue
        stage = answer.get("stage", answer) if isinstance(answer, dict) else {}
        for key in counts:
            value = stage.get(key) if isinstance(stage, dict) else None
            if isinstance(value, str):
                counts[key][value] += 1
    return counts


# Plots ---------------------------------------------------------------------------


def _svg(figure) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(figure)
    text = buffer.getvalue()
    return text[text.find("<svg") :]


def _pie_svg(counts: Counter, title: str) -> str:
    if not counts:
        return "<p>No data.</p>"
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels, values = zip(*sorted(counts.items()), strict=True)
    figure, axis = plt.subplots(figsize=(5, 4))
    axis.pie(values, labels=[f"{label}\n{value}" for label, value in zip(labels, values, strict=True)], autopct="%1.0f%%", startangle=90, wedgeprops={"width": 0.45})
    axis.set_title(title)
    return _svg(figure)


def _bar_svg(counts: Counter, unit: str) -> str:
    if not counts:
        return "<p>None.</p>"
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels, values = zip(*counts.most_common(), strict=True)
    figure, axis = plt.subplots(figsize=(6, 0.35 * len(labels) + 1.2))
    axis.barh(list(labels)[::-1], list(values)[::-1], color="#3b6ea5")
    axis.set_xlabel(unit)
    for position, value in enumerate(list(values)[::-1]):
        axis.text(value, position, f" {value}", va="center", fontsize=8)
    return _svg(figure)


def _tnm_svg(tnm: dict[str, Counter]) -> str:
    if not any(tnm.values()):
        return "<p>No TNM samples.</p>"
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, 3, figsize=(10, 3))
    for axis, (category, counts) in zip(axes, tnm.items(), strict=True):
        labels = sorted(counts)
        axis.bar(labels, [counts[label] for label in labels], color="#a55a3b")
        axis.set_title(category)
        axis.tick_params(axis="x", rotation=45, labelsize=8)
    return _svg(figure)


# Sections ------------------------------------------------------------------------


def _header(manifest, stats: dict) -> str:
    rows = [
        ("Dataset", manifest.dataset_name),
        ("Run id", manifest.run_id),
        ("Created", manifest.created_at.isoformat(timespec="seconds")),
        ("Engine version", manifest.engine_version),
        ("KG version", manifest.kg_version),
        ("Config hash", manifest.config_hash),
        ("Cases in manifest", manifest.cases_total),
        ("Cases with samples", manifest.cases_done),
        ("Cases rejected", manifest.cases_rejected),
        ("Samples", manifest.samples_total),
        ("Shards", len(manifest.shards)),
    ]
    body = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>" for k, v in rows)
    return f"<section><h2>Summary</h2><table class='kv'>{body}</table></section>"


def _usage_section(stats: dict) -> str:
    rows = [
        ("LLM calls", stats.get("llm_calls", 0)),
        ("Prompt tokens", stats.get("prompt_tokens", 0)),
        ("Completion tokens", stats.get("completion_tokens", 0)),
        ("Cost (USD)", f"{stats.get('cost_usd', 0.0):.4f}"),
        ("Batch time (s, summed over batches)", f"{stats.get('batch_seconds', 0.0):.1f}"),
    ]
    body = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>" for k, v in rows)
    return f"<section><h2>Tokens and cost</h2><table class='kv'>{body}</table></section>"


def _rejects_table(rejects: pa.Table | None) -> str:
    if rejects is None or rejects.num_rows == 0:
        return "<section><h2>Rejects</h2><p>No case was rejected.</p></section>"
    rows = rejects.select(["case_id", "agent", "reason_code", "message"]).to_pylist()[:200]
    body = "".join(
        f"<tr><td>{html.escape(r['case_id'])}</td><td>{html.escape(r['agent'])}</td><td>{html.escape(r['reason_code'])}</td><td>{html.escape(r['message'])}</td></tr>" for r in rows
    )
    more = f"<p>First 200 of {rejects.num_rows} rows; all are in rejects.parquet.</p>" if rejects.num_rows > 200 else ""
    return f"<section><h2>Rejects</h2>{more}<table><tr><th>case</th><th>agent</th><th>reason</th><th>message</th></tr>{body}</table></section>"


def _examples_section(storage: Storage, manifest, table: pa.Table | None, stats: dict) -> str:
    if table is None:
        return "<section><h2>Example samples</h2><p>No samples.</p></section>"
    wanted: list[str] = []
    for task_type in ("localization", "attribute", "tnm", "cot_report"):
        ids = table.filter(pc.equal(table["task_type"], task_type))["sample_id"].to_pylist()
        wanted.extend(sorted(ids)[:EXAMPLES_PER_TASK])
    samples = _load_samples(storage, manifest, set(wanted))
    cases = stats.get("cases", {})
    blocks = [_example_block(sample, _read_text(cases.get(sample.case_id, {}).get("report_path"))) for sample in samples]
    return "<section><h2>Example samples</h2>" + "\n".join(blocks) + "</section>"


def _load_samples(storage: Storage, manifest, wanted: set[str]) -> list[VQASample]:
    found: list[VQASample] = []
    for shard in manifest.shards:
        shard_table = pq.read_table(io.BytesIO(storage.read_bytes(shard.path)))
        mask = pc.is_in(shard_table["sample_id"], value_set=pa.array(sorted(wanted), type=pa.string()))
        found.extend(VQASample.from_table(shard_table.filter(mask)))
        if len(found) >= len(wanted):
            break
    return sorted(found, key=lambda s: (s.task_type, s.sample_id))


def _example_block(sample: VQASample, report_text: str | None) -> str:
    steps = "".join(
        f"<tr><td>{html.escape(step.step_id)}</td><td>{html.escape(step.level)}</td>"
        f"<td>{html.escape(step.triplet.subject)} &rarr; <i>{html.escape(step.triplet.predicate)}</i> &rarr; {html.escape(step.triplet.object)}</td>"
        f"<td><code>{html.escape(step.kg_edge_id or 'none')}</code></td><td>{html.escape(step.sentence)}</td></tr>"
        for step in sample.chain
    )
    chain = f"<table><tr><th>step</th><th>level</th><th>triplet</th><th>KG edge</th><th>sentence</th></tr>{steps}</table>" if steps else "<p>No chain steps.</p>"
    report = f"<pre class='report'>{_highlight(report_text, sample)}</pre>" if report_text else ""
    return (
        f"<article><h3>{html.escape(sample.task_type)} / {html.escape(sample.subtask)}: {html.escape(sample.organ)} "
        f"<code>{html.escape(sample.sample_id)}</code></h3>"
        f"<p><b>Case</b> {html.escape(sample.case_id)} ({html.escape(sample.split)})</p>"
        f"<p><b>Q:</b> {html.escape(sample.question)}</p><p><b>Think:</b> {html.escape(sample.think)}</p><p><b>A:</b> {html.escape(sample.answer)}</p>"
        f"{chain}{report}</article>"
    )


def _highlight(text: str, sample: VQASample) -> str:
    ranges = sorted({_locate(text, span) for span in sample_spans(sample, "report")} - {None})
    parts, cursor = [], 0
    for start, end in ranges:
        if start < cursor:
            continue
        parts.extend([html.escape(text[cursor:start]), "<mark>", html.escape(text[start:end]), "</mark>"])
        cursor = end
    parts.append(html.escape(text[cursor:]))
    return "".join(parts)


def _figure(title: str, svg: str) -> str:
    return f"<section><h2>{html.escape(title)}</h2><div class='plot'>{svg}</div></section>"


def _page(title: str, body: str) -> str:
    style = (
        "body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}"
        "table{border-collapse:collapse;margin:.5em 0;font-size:.9em}td,th{border:1px solid #ccc;padding:.25em .5em;text-align:left;vertical-align:top}"
        "table.kv th{background:#f4f4f4}mark{background:#ffe27a}pre.report{white-space:pre-wrap;background:#fafafa;border:1px solid #ddd;padding:.75em}"
        "article{border-top:2px solid #3b6ea5;margin-top:1.5em}.plot svg{max-width:100%;height:auto}"
    )
    return (
        f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}: TumorCoT dataset report</title>"
        f"<style>{style}</style></head><body><h1>{html.escape(title)}: TumorCoT dataset report</h1>{body}</body></html>"
    )
