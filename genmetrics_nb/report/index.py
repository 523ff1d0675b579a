"""``reports/index.html``: every report with its status and headline numbers."""
from __future__ import annotations

import html
import json
from pathlib import Path

__all__ = ["write_index", "headline"]

_MAX_HEADLINE = 6


def headline(metrics: dict) -> list[tuple[str, str]]:
    """The scalar numbers of a results.json, formatted, at most six.

    Values recorded as dicts (a result's ``to_dict()``) contribute their
    scalar entries as ``name.key``.
    """
    out = []

    def visit(key, value, depth):
        if len(out) == _MAX_HEADLINE:
            return
        if isinstance(value, dict) and depth < 2:
            for k, v in value.items():
                visit(f"{key}.{k}", v, depth + 1)
            return
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            return
        if isinstance(value, str) and value not in ("inf", "-inf", "nan"):
            return
        out.append((key, f"{value:.4g}" if isinstance(value, float) else str(value)))

    for key, value in metrics.items():
        visit(key, value, 0)
    return out


def write_index(out_dir) -> Path:
    """Rebuild ``out_dir/index.html`` from every ``*/results.json`` found there."""
    out_dir = Path(out_dir)
    rows = []
    for res_path in sorted(out_dir.glob("*/results.json")):
        try:
            res = json.loads(res_path.read_text())
        except ValueError:
            continue
        name = res.get("notebook", res_path.parent.name)
        status = res.get("status", "unknown")
        numbers = "<br>".join(
            f"<code>{html.escape(k)}</code> = {html.escape(v)}" for k, v in headline(res.get("metrics", {}))
        )
        err = f"<div class='err'>{html.escape(res['error'])}</div>" if res.get("error") else ""
        rows.append(
            f"<tr class='{html.escape(status)}'><td><a href='{html.escape(name)}/{html.escape(name)}.html'>"
            f"{html.escape(name)}</a></td><td>{html.escape(status)}{err}</td>"
            f"<td>{html.escape(str(res.get('profile', '')))}</td>"
            f"<td>{res.get('wall_time_s', 0):.1f} s</td><td>{html.escape(str(res.get('device', '')))}</td>"
            f"<td>{numbers}</td></tr>"
        )
    page = f"""<!doctype html>
<html><head><meta charset="utf-8"><title>genmetrics-nb reports</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em; }}
table {{ border-collapse: collapse; }}
td, th {{ border: 1px solid #ccc; padding: .4em .8em; vertical-align: top; text-align: left; }}
tr.ok td:nth-child(2) {{ color: #1a7f37; font-weight: bold; }}
tr.failed td:nth-child(2), tr.timeout td:nth-child(2) {{ color: #cf222e; font-weight: bold; }}
.err {{ font-weight: normal; font-size: .85em; max-width: 30em; }}
</style></head><body>
<h1>genmetrics-nb reports</h1>
<p>{len(rows)} notebook(s). Each link opens the executed notebook as HTML; numbers are read from
each report's <code>results.json</code>.</p>
<table><tr><th>notebook</th><th>status</th><th>profile</th><th>time</th><th>device</th><th>headline numbers</th></tr>
{''.join(rows)}
</table></body></html>
"""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "index.html"
    path.write_text(page, encoding="utf-8")
    return path
