"""Colours and legends for label maps (segmentation figures)."""
from __future__ import annotations

import numpy as np

__all__ = ["label_colours", "label_image", "class_legend"]


def label_colours(num_classes: int) -> np.ndarray:
    """``num_classes x 3`` RGB colours in 0..1: black background, then tab10/tab20 colours."""
    import matplotlib

    base = matplotlib.colormaps["tab20" if num_classes > 11 else "tab10"]
    cols = [(0.0, 0.0, 0.0)] + [base(i % base.N)[:3] for i in range(num_classes - 1)]
    return np.array(cols)


def label_image(labels: np.ndarray, colours: np.ndarray) -> np.ndarray:
    return colours[np.clip(np.asarray(labels), 0, len(colours) - 1)]


def class_legend(fig, class_names, colours, present=None):
    """A colour key of the classes, under the panels."""
    from matplotlib.patches import Patch

    idx = range(len(class_names)) if present is None else sorted(set(int(i) for i in present))
    idx = [i for i in idx if 0 <= i < len(class_names)]
    handles = [Patch(color=colours[i], label=class_names[i]) for i in idx]
    # Hung below the figure: tight_layout ignores figure legends and the saved
    # PNG / inline image uses bbox_inches="tight", which takes it in.
    fig.legend(handles=handles, loc="upper center", ncol=min(6, max(1, len(handles))), fontsize=8,
               frameon=False, bbox_to_anchor=(0.5, 0.0))  # fmt: skip
