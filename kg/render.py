"""Draw an organ KG: a text summary, Graphviz DOT text, a PNG (matplotlib) and a self-contained HTML page."""

from __future__ import annotations

import html
import json
from collections import Counter
from pathlib import Path

import networkx as nx

from kg.model import OrganKG

KIND_COLOURS = {
    "organ": "#1f77b4", "lesion": "#17becf", "subregion": "#aec7e8", "structure": "#c7c7c7", "layer": "#dbdb8d",
    "finding": "#98df8a", "impression": "#ff9896", "endpoint": "#d62728", "stage_category": "#9467bd",
    "table": "#c5b0d5", "rule": "#e7ba52", "fact": "#f7b6d2",
}
COLUMN_OF_KIND = {
    "organ": 0, "subregion": 0, "structure": 0, "layer": 0, "lesion": 1, "finding": 2, "impression": 3,
    "endpoint": 4, "table": 4, "stage_category": 5, "rule": 5, "fact": 6,
}
RENDER_SUFFIXES = (".dot", ".png", ".html")


def summary(kg: OrganKG) -> str:
    """Return a plain-text summary of ``kg`` for ``kg show``."""
    kinds = Counter(d["kind"] for _, d in kg.graph.nodes(data=True))
    predicates = Counter(d["predicate"] for _, _, d in kg.graph.edges(data=True))
    lines = [
        f"organ: {kg.organ} ({kg.doc.name})",
        f"file version: {kg.file_version}   content hash: {kg.version}",
        f"source: {kg.source}",
        f"nodes: {kg.graph.number_of_nodes()} ({', '.join(f'{k} {n}' for k, n in sorted(kinds.items()))})",
        f"edges: {kg.graph.number_of_edges()} ({', '.join(f'{p} {n}' for p, n in sorted(predicates.items()))})",
        f"subregions: {', '.join(s.id for s in kg.doc.subregions)}",
        f"neighbours: {', '.join(kg.neighbours)}",
        f"finding attributes: {', '.join(f'{a} ({len(s.terms)})' for a, s in kg.doc.findings.items())}",
        "impressions:",
    ]
    for info in kg.impressions.values():
        lines.append(f"  {info.id}: {info.name} [{info.behaviour}, {info.histology}] "
                     f"supports {len(info.supports)}, contradicts {len(info.contradicts)}"
                     + (f", staged by {info.staging_table}" if info.staging_table else ""))
    lines.append("staging tables (AJCC8):")
    for table in kg.tables:
        counts = ", ".join(f"{axis} {len(rules)}" for axis, rules in table.rules.items())
        lines.append(f"  {table.id}{' (default)' if table.default else ''}: {table.title}; rules {counts}")
    return "\n".join(lines)


def render(kg: OrganKG, out: Path) -> Path:
    """Write ``kg`` to ``out``; the suffix (.dot, .png or .html) chooses the format."""
    out = Path(out)
    suffix = out.suffix.lower()
    if suffix not in RENDER_SUFFIXES:
        raise ValueError(f"cannot render to '{out}': use a file ending in {', '.join(RENDER_SUFFIXES)}")
    out.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".dot":
        out.write_text(to_dot(kg), encoding="utf-8")
    elif suffix == ".png":
        _write_png(kg, out)
    else:
        out.write_text(to_html(kg), encoding="utf-8")
    return out


def _quote(text: str) -> str:
    return '"' + str(text).replace("\\", "\\\\").replace('"', '\\"') + '"'


def to_dot(kg: OrganKG) -> str:
    """Return Graphviz DOT text of ``kg``: one cluster per node kind, edges labelled by predicate."""
    lines = [f"digraph {_quote(kg.organ)} {{", "  rankdir=LR;", '  node [style=filled, fontname="Helvetica"];']
    by_kind: dict[str, list[str]] = {}
    for node, data in kg.graph.nodes(data=True):
        by_kind.setdefault(data["kind"], []).append(node)
    for kind, nodes in sorted(by_kind.items()):
        lines.append(f"  subgraph {_quote('cluster_' + kind)} {{")
        lines.append(f"    label={_quote(kind)};")
        for node in sorted(nodes):
            name = kg.graph.nodes[node].get("name", node)
            lines.append(f"    {_quote(node)} [label={_quote(name)}, fillcolor={_quote(KIND_COLOURS.get(kind, '#ffffff'))}];")
        lines.append("  }")
    for u, v, data in sorted(kg.graph.edges(data=True), key=lambda e: e[2]["edge_id"]):
        label = data["predicate"] + (f" {data['strength']}" if "strength" in data else "")
        lines.append(f"  {_quote(u)} -> {_quote(v)} [label={_quote(label)}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def layout(kg: OrganKG) -> dict[str, tuple[float, float]]:
    """Return node positions in [0, 1]²: one column per step of the finding -> impression -> stage ladder."""
    graph = nx.Graph()
    for node, data in kg.graph.nodes(data=True):
        graph.add_node(node, layer=COLUMN_OF_KIND.get(data["kind"], 6))
    graph.add_edges_from((u, v) for u, v in kg.graph.edges())
    positions = nx.multipartite_layout(graph, subset_key="layer")
    xs = [p[0] for p in positions.values()]
    ys = [p[1] for p in positions.values()]
    span_x = (max(xs) - min(xs)) or 1.0
    span_y = (max(ys) - min(ys)) or 1.0
    return {n: ((p[0] - min(xs)) / span_x, (p[1] - min(ys)) / span_y) for n, p in positions.items()}


def _write_png(kg: OrganKG, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    positions = layout(kg)
    colours = [KIND_COLOURS.get(kg.graph.nodes[n]["kind"], "#ffffff") for n in kg.graph.nodes]
    fig, ax = plt.subplots(figsize=(18, 24), dpi=80)
    nx.draw_networkx_edges(nx.DiGraph(kg.graph), positions, ax=ax, alpha=0.15, arrows=False)
    nx.draw_networkx_nodes(kg.graph, positions, ax=ax, node_color=colours, node_size=60)
    labels = {n: kg.graph.nodes[n].get("name", n) for n in kg.graph.nodes if kg.graph.nodes[n]["kind"] != "rule"}
    nx.draw_networkx_labels(kg.graph, positions, labels=labels, ax=ax, font_size=6)
    ax.set_title(f"{kg.organ} knowledge graph {kg.file_version} ({kg.version})")
    ax.axis("off")
    fig.savefig(out, bbox_inches="tight")
    plt.close(fig)


def to_html(kg: OrganKG) -> str:
    """Return a self-contained HTML page: an inline SVG of the graph, hover details and a kind filter."""
    width, height = 1600, max(900, 14 * max(Counter(COLUMN_OF_KIND.get(d["kind"], 6) for _, d in kg.graph.nodes(data=True)).values()))
    positions = {n: (40 + x * (width - 280), 20 + y * (height - 40)) for n, (x, y) in layout(kg).items()}
    edges = []
    for u, v, data in kg.graph.edges(data=True):
        (x1, y1), (x2, y2) = positions[u], positions[v]
        edges.append(f'<line class="e" data-k="{data["predicate"]}" data-u="{html.escape(u)}" data-v="{html.escape(v)}" '
                     f'x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}"><title>{html.escape(data["edge_id"])}</title></line>')
    nodes = []
    for node, data in kg.graph.nodes(data=True):
        x, y = positions[node]
        detail = json.dumps({k: v for k, v in data.items() if k in ("kind", "name", "synonyms", "behaviour", "attribute", "category", "note")}, ensure_ascii=False)
        nodes.append(f'<g class="n" data-kind="{data["kind"]}" data-id="{html.escape(node)}" data-detail="{html.escape(detail)}">'
                     f'<circle cx="{x:.1f}" cy="{y:.1f}" r="5" fill="{KIND_COLOURS.get(data["kind"], "#fff")}"/>'
                     f'<text x="{x + 8:.1f}" y="{y + 4:.1f}">{html.escape(str(data.get("name", node)))}</text></g>')
    kinds = sorted({d["kind"] for _, d in kg.graph.nodes(data=True)})
    boxes = "".join(f'<label><input type="checkbox" checked value="{k}"> {k}</label> ' for k in kinds)
    return _HTML_TEMPLATE.format(
        title=html.escape(f"{kg.organ} knowledge graph {kg.file_version} ({kg.version})"),
        source=html.escape(kg.source), boxes=boxes, width=width, height=height,
        edges="\n".join(edges), nodes="\n".join(nodes),
    )


_HTML_TEMPLATE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font-family: sans-serif; margin: 0; }} header {{ padding: 8px 12px; background: #f4f4f4; }}
svg text {{ font-size: 10px; }} line.e {{ stroke: #999; stroke-opacity: 0.25; }} line.hot {{ stroke: #d62728; stroke-opacity: 0.9; }}
#detail {{ position: fixed; right: 8px; top: 60px; width: 320px; background: #fff; border: 1px solid #ccc; padding: 8px; font-size: 12px; white-space: pre-wrap; }}
</style></head><body>
<header><b>{title}</b><br><small>{source}</small><br>Show kinds: {boxes}</header>
<pre id="detail">Hover a node to see its synonyms and edges.</pre>
<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}">
{edges}
{nodes}
</svg>
<script>
const detail = document.getElementById('detail');
document.querySelectorAll('g.n').forEach(function (g) {{
  g.addEventListener('mouseenter', function () {{
    const id = g.dataset.id;
    const lines = [];
    document.querySelectorAll('line.e').forEach(function (l) {{
      const hot = l.dataset.u === id || l.dataset.v === id;
      l.classList.toggle('hot', hot);
      if (hot) lines.push(l.querySelector('title').textContent);
    }});
    detail.textContent = id + '\\n' + JSON.stringify(JSON.parse(g.dataset.detail), null, 1) + '\\n' + lines.join('\\n');
  }});
}});
document.querySelectorAll('header input').forEach(function (box) {{
  box.addEventListener('change', function () {{
    const shown = new Set(Array.from(document.querySelectorAll('header input:checked')).map(function (b) {{ return b.value; }}));
    const visible = new Set();
    document.querySelectorAll('g.n').forEach(function (g) {{
      const on = shown.has(g.dataset.kind);
      g.style.display = on ? '' : 'none';
      if (on) visible.add(g.dataset.id);
    }});
    document.querySelectorAll('line.e').forEach(function (l) {{
      l.style.display = visible.has(l.dataset.u) && visible.has(l.dataset.v) ? '' : 'none';
    }});
  }});
}});
</script></body></html>
"""
