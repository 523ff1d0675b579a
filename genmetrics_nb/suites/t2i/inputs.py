"""Which images answer which prompt: the user's folder, or a labelled stand-in folder."""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

__all__ = ["load_prompted", "write_class_prompt_folder"]


def load_prompted(images, prompts=None):
    """The images of ``images`` with their prompts.

    Parameters
    ----------
    images : path-like
        A folder of generated images.
    prompts : str or path-like, optional
        ``None``: ``images/prompts.jsonl``. A ``.jsonl`` file: read from there
        (file names relative to ``images``). A prompt-set name with an image
        layout (``"geneval"``, ``"t2i-compbench"``, ``"hpdv2"``): the folder is
        read in that benchmark's layout and every prompt is checked against
        the published set (:func:`genmetrics_nb.prompts.load`).

    Returns
    -------
    PromptedImages
    """
    from genmetrics_nb.sources.prompted import LAYOUTS, prompted_images

    if images is None:
        raise ValueError("images is None; pass the folder of generated images (or use the offline stand-ins)")
    folder = Path(os.fspath(images)).expanduser()
    if prompts is None:
        return prompted_images(folder)
    if isinstance(prompts, str) and prompts in LAYOUTS:
        from genmetrics_nb.prompts import load

        return prompted_images(folder, prompts=load(prompts))
    path = Path(os.fspath(prompts)).expanduser()
    if path.suffix == ".jsonl" and path.is_file():
        return prompted_images(folder, jsonl=path)
    raise ValueError(f"prompts={prompts!r} is neither a prompts.jsonl file nor a prompt set with an image layout "
                     f"({', '.join(LAYOUTS)}); pass one of those, or None for IMAGES/prompts.jsonl")


def write_class_prompt_folder(folder, *, n_per_class: int = 6, size: int = 64, seed: int = 0,
                              split: str = "test", offset: int = 0) -> Path:
    """Fashion-MNIST images as a folder with a ``prompts.jsonl``: ``"a photo of a <class name>"``.

    Stand-in input for runs without generated images. These are **real
    Fashion-MNIST photographs, not generated images**: every class is drawn
    ``n_per_class`` times (seeded), upscaled with Pillow bicubic to ``size``
    and repeated to RGB; the prompt names the class and the category is the
    class name. ``offset`` skips that many draws per class, so two calls
    give disjoint folders (one "generated", one reference).

    Returns
    -------
    pathlib.Path
        ``folder``, holding ``00000.png``, ... and ``prompts.jsonl``.
    """
    from PIL import Image

    from genmetrics_nb.datasets.fashionmnist import fashion_mnist

    data = fashion_mnist(split)
    rng = np.random.default_rng(seed)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    lines = []
    labels = np.asarray(data.labels)
    for c, name in enumerate(data.class_names):
        idx = rng.permutation(np.flatnonzero(labels == c))[offset:offset + n_per_class]
        for i in np.sort(idx):
            img = Image.fromarray(np.asarray(data.images[i])[0]).resize((size, size), Image.BICUBIC).convert("RGB")
            fname = f"{len(lines):05d}.png"
            img.save(folder / fname)
            lines.append({"file_name": fname, "prompt": f"a photo of a {name.lower()}", "category": name})
    with open(folder / "prompts.jsonl", "w") as fh:
        fh.write("".join(json.dumps(line) + "\n" for line in lines))
    return folder
