"""Report section of the optical plugin: supernodes per site and optical transport per link."""

from __future__ import annotations

import html
import json


def render_fabric_section(run: dict):
    """Text and a bar chart for the HTML report; stores the datasets in ``run["results"]``.

    Parameters
    ----------
    run : dict
        ``{"scenario": Scenario, "results": {name: xr.Dataset}, ...}``.

    Returns
    -------
    tuple of (str, holoviews object)
    """
    import holoviews as hv
    import holoviews.plotting.bokeh  # noqa: F401  (registers the backend that .opts needs)

    from .analyses import fabric_analysis
    from .presets import compare_published
    from .transport import transport_analysis

    sc = run["scenario"]
    fab = fabric_analysis(sc)
    tra = transport_analysis(sc)
    run["results"]["fabric"] = fab
    run["results"]["transport"] = tra
    if "summary" in run:
        run["summary"]["fabric"] = json.loads(fab.attrs["summary_json"])
        run["summary"]["transport"] = json.loads(tra.attrs["summary_json"])
    cmp = compare_published()
    rows = "".join(
        f"<tr><td>{html.escape(r.preset)}</td><td>{html.escape(r.quantity)}</td><td>{r.computed:,.4g}</td>"
        f"<td>{r.published:,.4g}</td><td>{100 * r.error:+.1f}%</td><td>{html.escape(r.source)}</td></tr>"
        for r in cmp.itertuples())
    text = (f"<p>{html.escape(fab.attrs['summary_text'])}.</p><p>Optical transport: "
            f"{html.escape(tra.attrs['summary_text'])}.</p>"
            "<p>Presets are structural inputs only; their computed totals against published figures:</p>"
            "<table><tr><th>preset</th><th>quantity</th><th>computed</th><th>published</th><th>error</th>"
            f"<th>source</th></tr>{rows}</table>")
    power = fab["total_power_w"].to_series() / 1e6
    power = power[power > 0].sort_values(ascending=False)
    plot = hv.Bars(list(power.items()), kdims=["site"], vdims=["total power [MW]"]).opts(
        width=900, height=320, xrotation=60, title="Supernode power per site (IT x PUE)", tools=["hover"])
    return text, plot
