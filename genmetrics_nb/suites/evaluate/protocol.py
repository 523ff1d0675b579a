"""The evaluate suite's protocol block: everything that reproduces its numbers, one row per item."""
from __future__ import annotations

import dataclasses
import html

from genmetrics_nb.suites.evaluate.display import frame
from genmetrics_nb.suites.evaluate.sets import Evaluation

__all__ = ["ProtocolTable", "protocol_table"]


@dataclasses.dataclass(frozen=True)
class ProtocolTable:
    """The protocol as rows of (item, value), shown in full (digests are not cut)."""

    rows: tuple

    @property
    def table(self):
        return frame(list(self.rows)).set_index("item")

    def to_dict(self) -> dict:
        return {r["item"]: r["value"] for r in self.rows}

    def __str__(self) -> str:
        return "\n".join(f"{r['item']}: {r['value']}" for r in self.rows)

    def _repr_html_(self) -> str:
        body = "".join(f"<tr><th style='text-align:left'>{html.escape(str(r['item']))}</th>"
                       f"<td style='text-align:left'>{html.escape(str(r['value']))}</td></tr>" for r in self.rows)
        return f"<table>{body}</table>"


def protocol_table(ev: Evaluation) -> ProtocolTable:
    """Everything needed to reproduce the numbers, one row per item; each set's full size and used size."""
    p = ev.protocol
    rows = []
    for role in ("extractor", "pr_extractor"):
        e = p[role]
        rows += [{"item": f"{role}", "value": e["name"]},
                 {"item": f"{role} weights sha256", "value": e["weights_sha256"]},
                 {"item": f"{role} preprocessing", "value": ", ".join(f"{k}={v}" for k, v in e["preprocessing"].items())
                  if isinstance(e["preprocessing"], dict) else str(e["preprocessing"])},
                 {"item": f"{role} output", "value": e["output"]}]
    for name, n in p["n"].items():
        used = "all" if n["used"] == n["total"] else f"a seeded random subset (seed {p['seed']})"
        rows.append({"item": f"n ({name})", "value": f"{n['used']} used of {n['total']}: {used}"})
    rows.append({"item": "num_images (cap per set)", "value": "none: every image" if p["num_images"] is None
                 else p["num_images"]})
    rows.append({"item": "held-out real images", "value": p["heldout"]})
    rows.append({"item": "seed", "value": p["seed"]})
    rows.append({"item": "precision", "value": p.get("precision")})
    rows += [{"item": f"source ({name})", "value": f"{s['source']}; fingerprint {s['fingerprint']}"}
             for name, s in p["sources"].items()]
    rows += [{"item": f"version ({k})", "value": v} for k, v in p["versions"].items()]
    return ProtocolTable(tuple(rows))
