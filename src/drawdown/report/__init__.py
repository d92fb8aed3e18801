"""One self-contained, offline HTML report of a scenario and what the engines made of it.

Everything the page needs is inside the file: plotly.js (inlined once), the map of Europe (Natural Earth,
shipped in ``assets/europe.geojson``), the charts' data and the appendix of sources. Nothing is fetched when it
is opened, so it works on a secure network and can be mailed as one file.

The map is drawn on plain axes (longitude scaled by the cosine of 52° N, a simple equirectangular view of
Europe) rather than plotly's geo subplots, which would fetch their base map from the network.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import math
from functools import lru_cache
from importlib import resources
from typing import Any

import pandas as pd

__all__ = ["build_report", "europe_map"]

#: Longitude stretch of the map: cos(52°), the middle of the frame.
ASPECT = math.cos(math.radians(52.0))
PALETTE = ["#e8eef6", "#c6d7ec", "#9ebbdd", "#6f98c8", "#3f74ae", "#1f4f87"]


@lru_cache(maxsize=1)
def europe_map() -> dict[str, Any]:
    """The shipped country shapes (GeoJSON, ISO3 in ``properties.iso3``)."""
    text = resources.files("drawdown.report").joinpath("assets/europe.geojson").read_text()
    return json.loads(text)


def _rings(geometry: dict[str, Any]) -> list[list[list[float]]]:
    if geometry["type"] == "Polygon":
        return [geometry["coordinates"][0]]
    if geometry["type"] == "MultiPolygon":
        return [polygon[0] for polygon in geometry["coordinates"]]
    return []


def _outline(feature: dict[str, Any]) -> tuple[list[float | None], list[float | None]]:
    xs: list[float | None] = []
    ys: list[float | None] = []
    for ring in _rings(feature["geometry"]):
        xs += [p[0] * ASPECT for p in ring] + [None]
        ys += [p[1] for p in ring] + [None]
    return xs, ys


def _shade(value: float, top: float) -> str:
    if value <= 0 or top <= 0:
        return "#f4f4f4"
    i = min(len(PALETTE) - 1, 1 + int((len(PALETTE) - 1) * math.sqrt(value / top)))
    return PALETTE[i]


# ---- figures -------------------------------------------------------------------------------------------------

def map_figure(run: dict[str, Any], sites: pd.DataFrame) -> Any:
    """Countries shaded by US troops, US sites sized by personnel, one frame per phase with a slider."""
    import plotly.graph_objects as go

    features = europe_map()["features"]
    phases = run["phases"]
    top = max((max(p["us_troops_by_country"].values(), default=0) for p in phases), default=0)
    located = sites.set_index("id")
    traces = []
    for f in features:
        xs, ys = _outline(f)
        traces.append(go.Scatter(x=xs, y=ys, mode="lines", fill="toself", line={"color": "#9aa5b1", "width": 0.6},
                                 fillcolor="#f4f4f4", hoverinfo="text", name=f["properties"]["name"],
                                 text=f["properties"]["name"], showlegend=False))

    def markers(phase: dict[str, Any]) -> dict[str, Any]:
        by_site = phase.get("us_personnel_by_site") or {s: None for s in phase.get("us_sites", [])}
        rows = [(s, n) for s, n in by_site.items() if s in located.index]
        xs = [float(located.at[s, "lon"]) * ASPECT for s, _ in rows]
        ys = [float(located.at[s, "lat"]) for s, _ in rows]
        size = [6 + 30 * math.sqrt((n or 500) / 15000) for _, n in rows]
        text = [f"{located.at[s, 'name']}: {n:,} US personnel" if n else str(located.at[s, "name"]) for s, n in rows]
        return {"x": xs, "y": ys, "marker": {"size": size, "color": "#b22222", "opacity": 0.75,
                                             "line": {"color": "white", "width": 0.5}}, "text": text}

    def fills(phase: dict[str, Any]) -> list[str]:
        by_country = phase["us_troops_by_country"]
        return [_shade(by_country.get(f["properties"]["iso3"], 0), top) for f in features]

    first = markers(phases[0])
    traces.append(go.Scatter(mode="markers", hoverinfo="text", name="US sites", showlegend=False, **first))
    for trace, colour in zip(traces, fills(phases[0])):
        trace.fillcolor = colour
    frames = []
    for k, phase in enumerate(phases):
        colours = fills(phase)
        data = [{"fillcolor": c} for c in colours] + [markers(phase)]
        frames.append(go.Frame(name=str(k), data=data, traces=list(range(len(traces)))))
    steps = [{"label": p["date"], "method": "animate",
              "args": [[str(k)], {"mode": "immediate", "frame": {"duration": 0, "redraw": True},
                                  "transition": {"duration": 0}}]} for k, p in enumerate(phases)]
    figure = go.Figure(data=traces, frames=frames)
    figure.update_layout(
        height=620, margin={"l": 10, "r": 10, "t": 30, "b": 10}, plot_bgcolor="#dfe9f3",
        xaxis={"visible": False, "range": [-12 * ASPECT, 42 * ASPECT], "scaleanchor": "y"},
        yaxis={"visible": False, "range": [35, 71]},
        sliders=[{"active": 0, "steps": steps, "currentvalue": {"prefix": "phase: "}, "pad": {"t": 10}}],
        title={"text": "US troops by country (shade) and by site (dots), phase by phase", "x": 0.01, "font": {"size": 14}})
    return figure


def troops_figure(run: dict[str, Any]) -> Any:
    import plotly.graph_objects as go

    phases = run["phases"]
    dates = [p["date"] for p in phases]
    totals: dict[str, float] = {}
    for p in phases:
        for c, n in p["us_troops_by_country"].items():
            totals[c] = totals.get(c, 0) + n
    top = sorted(totals, key=lambda c: -totals[c])[:8]
    figure = go.Figure()
    for c in top:
        figure.add_trace(go.Scatter(x=dates, y=[p["us_troops_by_country"].get(c, 0) for p in phases], name=c,
                                    stackgroup="us", mode="lines"))
    rest = [p["us_troops_total"] - sum(p["us_troops_by_country"].get(c, 0) for c in top) for p in phases]
    figure.add_trace(go.Scatter(x=dates, y=rest, name="other", stackgroup="us", mode="lines"))
    figure.update_layout(height=360, title="US troops in Europe by country", yaxis_title="personnel",
                         margin={"t": 40, "l": 60, "r": 10, "b": 40})
    return figure


def roadmap_figure(roadmap: dict[str, Any]) -> Any | None:
    """Gantt: each US element present until it leaves; each European addition from decision to service."""
    import plotly.graph_objects as go

    rows = roadmap.get("roadmap") or []
    if not rows:
        return None
    start = roadmap["phases"][0]["date"]
    figure = go.Figure()
    leave = [r for r in rows if r["action"] == "withdraw"]
    field = {}
    for r in rows:
        if r["action"] == "field":
            key = (r["unit_type"], r["decide_by"], r["date"])
            field[key] = field.get(key, 0.0) + (r["units"] or 0.0)
    labels = [f"US {r['element'].removeprefix('usa_')}" for r in leave]
    figure.add_trace(go.Bar(y=labels, x=[_days(start, r["date"]) for r in leave], base=[start] * len(leave),
                            orientation="h", name="US element present", marker_color="#b22222",
                            hovertext=[f"leaves {r['date']} ({r['personnel']:,})" for r in leave]))
    keys = sorted(field, key=lambda k: (k[2], k[0]))
    figure.add_trace(go.Bar(y=[f"{u} x{field[(u, d, f)]:.2f} ({f[:7]})" for u, d, f in keys],
                            x=[_days(d, f) for u, d, f in keys], base=[d for u, d, f in keys], orientation="h",
                            name="European unit: decision to service", marker_color="#1f4f87"))
    figure.update_layout(height=max(300, 22 * (len(leave) + len(keys)) + 80), barmode="overlay",
                         title="Roadmap", xaxis={"type": "date"}, margin={"t": 40, "l": 200, "r": 10, "b": 40})
    return figure


def _days(a: str, b: str) -> float:
    """Milliseconds between two dates (plotly's bar length on a date axis)."""
    return (dt.date.fromisoformat(b) - dt.date.fromisoformat(a)).days * 86_400_000


def deterrence_figure(roadmap: dict[str, Any]) -> Any | None:
    import plotly.graph_objects as go

    phases = roadmap.get("phases") or []
    if not phases:
        return None
    dates = [p["date"] for p in phases]
    figure = go.Figure()
    for t in phases[0]["deterrence"]:
        figure.add_trace(go.Scatter(x=dates, y=[p["deterrence"][t]["present"] for p in phases], name=f"{t} present"))
        figure.add_trace(go.Scatter(x=dates, y=[p["deterrence"][t]["required"] for p in phases], name=f"{t} required",
                                    line={"dash": "dot"}))
    figure.update_layout(height=360, title="Deterrence: defender battalion-equivalents present and required",
                         margin={"t": 40, "l": 60, "r": 10, "b": 40})
    return figure


def burden_figure(roadmap: dict[str, Any]) -> Any | None:
    """Each nation's defence spending with the roadmap's additions, % of GDP, against the 2 % and 3.5 % lines."""
    import plotly.graph_objects as go

    burden = roadmap.get("burden") or {}
    if not burden:
        return None
    lines = roadmap.get("spending_lines_pct", {"low": 2.0, "core": 3.5})
    top = sorted(burden, key=lambda n: -sum(v["usd_m"] for v in burden[n].values()))[:10]
    figure = go.Figure()
    for n in top:
        years = sorted(burden[n])
        figure.add_trace(go.Scatter(x=years, y=[burden[n][y]["spending_pct_gdp"] for y in years], name=n,
                                    mode="lines+markers"))
    for name, value in (("2 %", lines["low"]), ("3.5 %", lines["core"])):
        figure.add_hline(y=value, line={"dash": "dash", "color": "#555"}, annotation_text=name)
    figure.update_layout(height=380, title="Defence spending with the roadmap's additions (% of GDP)",
                         margin={"t": 40, "l": 60, "r": 10, "b": 40})
    return figure


def campaign_figure(campaign: dict[str, Any]) -> Any | None:
    """Probability each objective has fallen by day, and the force ratio's p10-p90 band over the days."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    by_day = campaign.get("prob_objective_by_day") or {}
    if not by_day:
        return None
    figure = make_subplots(rows=1, cols=2, subplot_titles=("probability the objective has fallen by day",
                                                           "attacker/defender ratio (p10-p90 band, median)"))
    for objective, probs in by_day.items():
        days = sorted(probs, key=float)
        figure.add_trace(go.Scatter(x=[float(d) for d in days], y=[probs[d] for d in days], name=objective,
                                    mode="lines+markers"), row=1, col=1)
    for objective, days in (campaign.get("force_ratio_by_day") or {}).items():
        xs = sorted(days, key=float)
        p10 = [days[d]["p10"] for d in xs]
        p90 = [days[d]["p90"] for d in xs]
        p50 = [days[d]["p50"] for d in xs]
        x = [float(d) for d in xs]
        figure.add_trace(go.Scatter(x=x + x[::-1], y=p90 + p10[::-1], fill="toself", line={"width": 0},
                                    opacity=0.25, name=f"{objective} p10-p90", showlegend=False), row=1, col=2)
        figure.add_trace(go.Scatter(x=x, y=p50, name=f"{objective} median ratio"), row=1, col=2)
    figure.update_layout(height=380, margin={"t": 60, "l": 60, "r": 10, "b": 40},
                         title=f"Campaign: {campaign.get('theatre')} on {campaign.get('date')} "
                               f"({campaign.get('samples'):,} samples)")
    return figure


def movement_figure(movement: dict[str, Any]) -> Any | None:
    import plotly.graph_objects as go

    moves = movement.get("movements") or []
    if not moves:
        return None
    names, mid, low, high = [], [], [], []
    for m in moves:
        c = m["closure_days"]
        if isinstance(c, dict):
            if c.get("p50") is None:
                continue
            names.append(m["force"])
            mid.append(c["p50"])
            low.append(c["p50"] - (c["p10"] if c["p10"] is not None else c["p50"]))
            high.append((c["p90"] if c["p90"] is not None else c["p50"]) - c["p50"])
        elif c is not None:
            names.append(m["force"])
            mid.append(c)
            low.append(0)
            high.append(0)
    if not names:
        return None
    figure = go.Figure(go.Bar(x=mid, y=names, orientation="h", marker_color="#3f74ae",
                              error_x={"type": "data", "symmetric": False, "array": high, "arrayminus": low}))
    figure.update_layout(height=max(260, 26 * len(names) + 80), title="Movement: days from order to ready",
                         margin={"t": 40, "l": 260, "r": 10, "b": 40})
    return figure


def tornado_figure(output: str, entry: dict[str, Any]) -> Any | None:
    """Tornado of one sweep output: for each input, the mean output over the lowest and the highest fifth of its
    range, as a bar from one to the other, largest swing on top."""
    import plotly.graph_objects as go

    items = [(p, entry["inputs"][p]["tornado"]) for p in entry.get("ranking", []) if entry["inputs"][p].get("tornado")]
    if not items:
        return None
    items.sort(key=lambda it: abs(it[1]["output_at_high"] - it[1]["output_at_low"]))
    figure = go.Figure()
    figure.add_trace(go.Bar(y=[p for p, _ in items], x=[t["output_at_high"] - t["output_at_low"] for _, t in items],
                            base=[t["output_at_low"] for _, t in items], orientation="h", marker_color="#3f74ae",
                            hovertext=[f"{t['output_at_low']:g} at {t['low_input']:g} → {t['output_at_high']:g} at "
                                       f"{t['high_input']:g}" for _, t in items], name=output))
    figure.update_layout(height=120 + 40 * len(items), title=f"{output}: output at low → high input",
                         margin={"t": 40, "l": 300, "r": 10, "b": 40}, showlegend=False)
    return figure


# ---- the page ------------------------------------------------------------------------------------------------

def _table(rows: list[dict[str, Any]], columns: list[str]) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{html.escape('' if r.get(c) is None else str(r.get(c)))}</td>"
                                    for c in columns) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def build_report(run: dict[str, Any], data: Any, *, campaign: dict[str, Any] | None = None,
                 movement: dict[str, Any] | None = None, roadmap: dict[str, Any] | None = None,
                 cost: dict[str, Any] | None = None, sources: list[str] | None = None,
                 sensitivity: dict[str, Any] | None = None) -> str:
    """The report page for a posture run (``drawdown run --json`` document) and any engine documents."""
    import plotly.io as pio
    from plotly.offline import get_plotlyjs

    sections: list[tuple[str, str, Any]] = [
        ("map", "Posture by phase", map_figure(run, data.sites)),
        ("troops", "US troops", troops_figure(run)),
    ]
    if roadmap and roadmap.get("feasible"):
        sections += [("roadmap", "Roadmap", roadmap_figure(roadmap)),
                     ("deterrence", "Deterrence", deterrence_figure(roadmap)),
                     ("burden", "Who pays", burden_figure(roadmap))]
    if campaign:
        sections.append(("campaign", "Campaign", campaign_figure(campaign)))
    if movement:
        sections.append(("movement", "Movement", movement_figure(movement)))
    for i, (output, entry) in enumerate((sensitivity or {}).get("outputs", {}).items()):
        sections.append((f"sensitivity-{i}", f"Sensitivity: {entry['text']}", tornado_figure(output, entry)))
    parts = []
    for anchor, title, figure in sections:
        if figure is None:
            continue
        div = pio.to_html(figure, include_plotlyjs=False, full_html=False, div_id=f"fig-{anchor}",
                          config={"displaylogo": False, "responsive": True})
        parts.append(f'<section id="{anchor}"><h2>{html.escape(title)}</h2>{div}</section>')
    if roadmap:
        parts.append(_roadmap_text(roadmap))
    if cost and cost.get("buylist"):
        parts.append(_cost_text(cost))
    parts.append(_appendix(run, data, sources or []))
    parts.append(f'<p class="note">Map: {html.escape(europe_map()["source"])}.</p>')
    provenance = "".join(
        f"<li>{html.escape(p.get('outlet') or '')}, “{html.escape(p.get('title') or '')}”, {html.escape(str(p.get('date') or ''))}"
        + (f" — {html.escape(p['note'])}" if p.get("note") else "") + (f" ({html.escape(p['url'])})" if p.get("url") else "")
        + "</li>" for p in run.get("provenance") or [])
    if provenance:
        parts.insert(0, f'<section id="provenance"><h2>Where the scenario comes from</h2><ul>{provenance}</ul></section>')
    title = f"drawdown: {run['scenario']}"
    generated = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<meta name="generator" content="drawdown">
<style>
body {{ font-family: system-ui, sans-serif; margin: 0 auto; max-width: 1200px; padding: 0 16px 40px; color: #1b1f24; }}
h1 {{ margin-bottom: 0.2em; }} .meta {{ color: #57606a; }} section {{ margin-top: 28px; }}
table {{ border-collapse: collapse; font-size: 13px; width: 100%; }}
th, td {{ border-bottom: 1px solid #d0d7de; padding: 4px 6px; text-align: left; vertical-align: top; }}
th {{ background: #f6f8fa; }} .note {{ color: #57606a; font-size: 13px; }}
</style>
<script type="text/javascript">{get_plotlyjs()}</script>
<script type="text/javascript">
// plotly rejects an animation's promise with no reason when the next slider step interrupts it: not an error
window.addEventListener("unhandledrejection", function (event) {{ if (event.reason === undefined) event.preventDefault(); }});
</script>
</head><body>
<h1>{html.escape(run['scenario'])}</h1>
<p class="meta">{html.escape(run.get('description') or '')}</p>
<p class="meta">Phases {run['start']} to {run['horizon']} ({run['step']}); data {html.escape(run['data_version'])};
report generated {generated} by drawdown. Every figure is traceable to the sources in the appendix.</p>
{''.join(parts)}
</body></html>"""


def _roadmap_text(roadmap: dict[str, Any]) -> str:
    if not roadmap.get("feasible"):
        items = "".join(f"<li>{html.escape(c['text'])}</li>" for c in roadmap.get("conflicts", []))
        return f'<section id="roadmap-text"><h2>Roadmap</h2><p>No roadmap meets every constraint:</p><ul>{items}</ul></section>'
    binds = "".join(f"<li>{html.escape(b['text'])}</li>" for b in roadmap.get("binding_constraints", [])[:8])
    whatif = "".join(f"<li>{html.escape(w['text'])}</li>" for w in roadmap.get("what_if", []))
    cost = roadmap.get("cost_usd") or {}
    return (f'<section id="roadmap-text"><h2>What binds, and what if</h2>'
            f'<p>Added cost over the horizon: US$ {cost.get("total_m", 0):,.0f} m '
            f'(objective: {html.escape(roadmap["objective"])}, gap {roadmap.get("gap")}).</p>'
            f'<ul>{binds}</ul><ul>{whatif}</ul></section>')


def _cost_text(cost: dict[str, Any]) -> str:
    buy = cost["buylist"]
    rows = [{"item": i["id"], "count": i["count"], "acquisition US$ m": i["acquisition_usd_m"]["mid"],
             "low": i["acquisition_usd_m"]["low"], "high": i["acquisition_usd_m"]["high"],
             "yearly US$ m": i["annual_usd_m"]["mid"]} for i in buy["items"]]
    life = buy["life_cycle_usd_m"]
    return (f'<section id="cost"><h2>Cost</h2>{_table(rows, list(rows[0]) if rows else [])}'
            f'<p>Life cycle ({buy["life_cycle_years"]} years): US$ {life["mid"] / 1000:,.0f} bn '
            f'(range {life["low"] / 1000:,.0f}-{life["high"] / 1000:,.0f} bn), constant {buy["base_year"]} US$.</p></section>')


def _appendix(run: dict[str, Any], data: Any, extra_sources: list[str]) -> str:
    """Every assumption (parameters, with their values in this run) and every source the run's figures cite."""
    parameters = data.parameters.set_index("path")
    used = run.get("parameters") or {}
    params = [{"parameter": p, "value": v, "source": parameters.at[p, "source"] if p in parameters.index else "scenario",
               "meaning": parameters.at[p, "description"] if p in parameters.index else ""}
              for p, v in sorted(used.items())]
    cited = set(extra_sources) | {r["source"] for r in params}
    table = data.sources.set_index("id")
    rows = [{"id": s, "title": table.at[s, "title"], "publisher": table.at[s, "publisher"],
             "published": table.at[s, "published"], "kind": table.at[s, "kind"], "url": table.at[s, "url"]}
            for s in sorted(cited) if s in table.index]
    assumptions = sum(1 for r in rows if r["kind"] == "assumption")
    return (f'<section id="appendix"><h2>Appendix: assumptions and sources</h2>'
            f'<h3>Parameters in this run</h3>{_table(params, ["parameter", "value", "source", "meaning"])}'
            f'<h3>Sources ({len(rows)}, of which {assumptions} declared assumptions)</h3>'
            f'<p class="note">URLs are printed, never fetched.</p>'
            f'{_table(rows, ["id", "title", "publisher", "published", "kind", "url"])}</section>')
