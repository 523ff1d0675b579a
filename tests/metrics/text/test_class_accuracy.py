"""gm.clip_class_accuracy against open_clip's own zero-shot classifier.

The reference is open_clip's ``build_zero_shot_classifier`` (open_clip
``zero_shot_classifier.py``) with its ``IMAGENET_CLASSNAMES`` and
``OPENAI_IMAGENET_TEMPLATES`` (``zero_shot_metadata.py``), its tokenizer and
``open_clip.model.CLIP`` loaded from a random-weight open_clip safetensors
file; images go through open_clip's ``image_transform``.
"""
from __future__ import annotations

import numpy as np
import pytest

import genmetrics_nb as gm
from genmetrics_nb.extractors.clip import CLIPVisionConfig
from genmetrics_nb.metrics.text.class_accuracy import clip_class_accuracy, imagenet_metadata, zero_shot_weights
from genmetrics_nb.testing import clip_checkpoint as cc

torch = pytest.importorskip("torch")
open_clip = pytest.importorskip("open_clip")
Image = pytest.importorskip("PIL.Image")

SMALL = CLIPVisionConfig(width=128, layers=1, patch_size=32, image_size=224, embed_dim=64)
N_CLASSES = 12  # the first 12 ImageNet classes, all 80 templates (960 prompts): fast on CPU


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    d = tmp_path_factory.mktemp("zero_shot")
    rng = np.random.default_rng(4)
    files = []
    for i in range(10):
        low = rng.integers(0, 256, size=(8, 10, 3), dtype=np.uint8)
        img = np.asarray(Image.fromarray(low).resize((250, 200), Image.BILINEAR))
        files.append(str(d / f"{i}.png"))
        Image.fromarray(img).save(files[-1])
    return {"files": files, "model": cc.write_open_clip(d / "oc.safetensors", SMALL, seed=31, text_layers=1)}


@pytest.fixture(scope="module")
def reference(data):
    from open_clip.model import CLIP, CLIPTextCfg, CLIPVisionCfg
    from open_clip.zero_shot_classifier import build_zero_shot_classifier
    from open_clip.zero_shot_metadata import IMAGENET_CLASSNAMES, OPENAI_IMAGENET_TEMPLATES
    from safetensors.torch import load_file

    model = CLIP(embed_dim=64, vision_cfg=CLIPVisionCfg(layers=1, width=128, head_width=64, patch_size=32,
                                                          image_size=224),
                 text_cfg=CLIPTextCfg(context_length=77, vocab_size=49408, width=64, heads=1, layers=1),
                 quick_gelu=False).eval()
    model.load_state_dict(load_file(str(data["model"])), strict=True)
    weights = build_zero_shot_classifier(model, open_clip.get_tokenizer("ViT-B-32"),
                                         IMAGENET_CLASSNAMES[:N_CLASSES], OPENAI_IMAGENET_TEMPLATES)
    transform = open_clip.image_transform(224, is_train=False)
    with torch.no_grad():
        x = torch.stack([transform(Image.open(f)) for f in data["files"]])
        img = model.encode_image(x, normalize=True)
    return {"weights": weights.double(), "logits": (img @ weights).double()}


@pytest.mark.reference
def test_classifier_weights_equal_open_clip(data, reference):
    from genmetrics_nb.extractors.clip_model import load_clip

    meta = imagenet_metadata()
    clip = load_clip(data["model"], activation="gelu", device="cpu")
    ours, report = zero_shot_weights(clip, meta["classnames"][:N_CLASSES], meta["templates"], progress=False)
    assert ours.shape == reference["weights"].shape == (64, N_CLASSES)
    assert (ours - reference["weights"]).abs().max() <= 1e-5
    assert report.n_truncated == 0


@pytest.mark.reference
def test_accuracy_equals_open_clip_predictions(data, reference):
    meta = imagenet_metadata()
    pred = reference["logits"].argmax(1).numpy()
    top5 = reference["logits"].topk(5, dim=1).indices.numpy()
    labels = pred.copy()
    labels[::2] = (labels[::2] + 1) % N_CLASSES  # every other label wrong for open_clip's top-1
    r = clip_class_accuracy(data["files"], labels.tolist(), model=data["model"], activation="gelu",
                            classnames=meta["classnames"][:N_CLASSES], templates=meta["templates"],
                            device="cpu", progress=False)
    assert np.array_equal(r.predicted, pred)
    assert r.value == pytest.approx(np.mean(pred == labels))
    assert r.top5 == pytest.approx(np.mean((top5 == labels[:, None]).any(1)))
    assert r.n == 10 and r.n_classes == N_CLASSES and r.n_templates == 80
    # labels by name give the same result
    names = [meta["classnames"][i] for i in labels]
    r2 = clip_class_accuracy(data["files"], names, model=data["model"], activation="gelu",
                             classnames=meta["classnames"][:N_CLASSES], templates=meta["templates"],
                             device="cpu", progress=False)
    assert np.array_equal(r2.correct, r.correct)


def test_defaults_are_the_open_clip_wheel_metadata():
    from open_clip.zero_shot_metadata import IMAGENET_CLASSNAMES, OPENAI_IMAGENET_TEMPLATES

    meta = imagenet_metadata()
    # CLIP's ImageNet protocol: 1,000 classes, 80 templates (Radford et al. 2021, sec. 3.1.4)
    assert len(meta["classnames"]) == 1000 and len(meta["templates"]) == 80
    assert meta["classnames"] == tuple(IMAGENET_CLASSNAMES)
    assert [t.format("cat") for t in meta["templates"]] == [t("cat") for t in OPENAI_IMAGENET_TEMPLATES]
    assert len(meta["sha256"]) == 64
    assert "clip_class_accuracy" in gm.__all__ or hasattr(gm, "clip_class_accuracy")


def test_bad_labels(data):
    kw = dict(model=data["model"], activation="gelu", classnames=["cat", "dog"], templates=["a {}"], device="cpu",
              progress=False)
    with pytest.raises(ValueError, match="not one of classnames"):
        clip_class_accuracy(data["files"][:1], ["fox"], **kw)
    with pytest.raises(ValueError, match="outside 0..1"):
        clip_class_accuracy(data["files"][:1], [2], **kw)
    with pytest.raises(ValueError, match="one label per image"):
        clip_class_accuracy(data["files"][:2], [0], **kw)
    with pytest.raises(ValueError, match="one '{}'"):
        clip_class_accuracy(data["files"][:1], [0], **dict(kw, templates=["no slot"]))
