"""The manifest of known checkpoints: where each comes from and its checksum.

Every entry names the file exactly as its publisher does, the URL, the
sha256 of the published file, its size in bytes, its licence and what it
is. torchvision and pytorch-fid embed the first hex digits of the sha256 in
their file names (``vgg16-397923af.pth``); that prefix is kept as
``sha256_prefix`` and must agree with the full digest.

Extra or overriding entries come from a JSON file named by the environment
variable ``GENMETRICS_MANIFEST``: a mapping ``name -> {field: value}`` with
the fields of :class:`WeightsEntry` (``name`` is implied). Fields of an
existing entry that the file does not mention are kept.

Provenance of the digests (none of these files can be downloaded on the
machines this package was written on, so the values were not recomputed
here):

* ``ViT-B-32``, ``ViT-B-16``, ``ViT-L-14`` and ``ViT-L-14-336px`` (OpenAI
  CLIP; CMMD uses the image tower of the last, ``gm.clip_score`` both towers
  of any): OpenAI publishes the sha256
  as the folder name in the URL (``openai/CLIP`` ``clip/clip.py``,
  ``_MODELS["ViT-L/14@336px"]`` etc.; ``clip._download`` and scenic's CLIP
  loader check the file against it). Size not recorded.
* ``dinov2_vit{s,b,l,g}14_pretrain`` (DINOv2, for FD_DINOv2): Meta publishes
  no digest and the file names carry none. The full sha256 and byte sizes
  are those pinned for the ``dl.fbaipublicfiles.com`` URLs by several
  unrelated projects that hashed their downloads (e.g. finegrain-ai/refiners
  ``src/refiners/conversion/models/dinov2.py`` pins all four; many research
  repositories pin the same s/b/l/g values). The sizes agree with the
  architectures: 4 bytes per float32 parameter (22.06 M, 86.58 M, 304.4 M,
  1136.5 M) plus under 0.2 MB of pickle overhead.
* ``pt_inception-2015-12-05``: sha256 ``6726825d0af5...29b2`` and size
  95,628,359 bytes as recorded by several independent users of the
  pytorch-fid release file (and hard-coded for the same URL in third-party
  model stores); torch-fidelity re-publishes the identical bytes as
  ``weights-inception-2015-12-05-6726825d.pth``.
* ``vgg16``, ``alexnet``, ``squeezenet1_1``, ``fcn_resnet50_coco``: full
  sha256 and sizes from a public catalogue that hashed the files downloaded
  from ``download.pytorch.org``; each digest begins with the prefix
  torchvision puts in the file name.
* ``inception_v3_google``: no published full digest was found. Only the
  torchvision prefix ``0cc3c7bd`` is checked; the full digest of the first
  copy imported or downloaded is recorded under ``$GENMETRICS_HOME`` and every
  later check compares against it (trust on first use). ``sha256`` is None.
* ``inception_v3_weights_tf_dim_ordering_tf_kernels_notop`` (Keras): no
  published sha256 either. Keras records an md5 for this file
  (``keras/src/applications/inception_v3.py``: ``get_file(...,
  file_hash="bcbd6486...")``, a 32-digit hash, which ``get_file`` checks as
  md5); it is kept as ``md5`` and checked the same way as a prefix: a file
  whose md5 differs is refused, and the full sha256 of the first copy that
  passes is recorded and checked from then on. Size 87,910,968 bytes as the
  server reports it (``Content-Length`` in public download logs).
"""
from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass

__all__ = ["BUILTIN", "MANIFEST_ENV", "WeightsEntry", "load_manifest", "get_entry"]

#: Environment variable naming a JSON file with extra / overriding entries.
MANIFEST_ENV = "GENMETRICS_MANIFEST"


@dataclass(frozen=True)
class WeightsEntry:
    """One known checkpoint.

    Attributes
    ----------
    name : str
        Manifest name (``"vgg16"``).
    filename : str
        File name in the cache, as published.
    url : str
        Where :func:`genmetrics_nb.weights.path` downloads it from.
    sha256 : str or None
        Full sha256 hex digest of the published file; None when only the
        prefix is known (see ``sha256_prefix``).
    sha256_prefix : str or None
        Leading hex digits of the digest (the part torchvision puts in file names).
    size : int or None
        Size in bytes, when known.
    license : str
        Licence of the weights.
    description : str
        What the network is and what it was trained on.
    format : str
        How the file is laid out (``"torchvision state_dict of vgg16()"``).
    source : str
        Where the digest comes from.
    md5 : str or None
        md5 hex digest, for files whose publisher records only that (Keras
        applications); checked when the full sha256 is not known.
    """

    name: str
    filename: str
    url: str
    sha256: str | None
    sha256_prefix: str | None = None
    size: int | None = None
    license: str = ""
    description: str = ""
    format: str = ""
    source: str = ""
    md5: str | None = None

    def __post_init__(self):
        for field in ("sha256", "sha256_prefix", "md5"):
            value = getattr(self, field)
            if value is not None:
                if not isinstance(value, str) or any(c not in "0123456789abcdef" for c in value):
                    raise ValueError(
                        f"manifest entry {self.name!r}: {field} must be lower-case hex, got {value!r}"
                    )
        if self.sha256 is not None and len(self.sha256) != 64:
            raise ValueError(
                f"manifest entry {self.name!r}: sha256 must have 64 hex digits, got {len(self.sha256)}"
            )
        if self.md5 is not None and len(self.md5) != 32:
            raise ValueError(
                f"manifest entry {self.name!r}: md5 must have 32 hex digits, got {len(self.md5)}"
            )
        if self.sha256 is None and not self.sha256_prefix and not self.md5:
            raise ValueError(
                f"manifest entry {self.name!r} has neither sha256 nor sha256_prefix nor md5; "
                "give at least one so the file can be verified"
            )
        if self.sha256 and self.sha256_prefix and not self.sha256.startswith(self.sha256_prefix):
            raise ValueError(
                f"manifest entry {self.name!r}: sha256 {self.sha256[:12]}... does not start "
                f"with sha256_prefix {self.sha256_prefix!r}"
            )

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


_TV = "https://download.pytorch.org/models/"
_TV_LICENSE = "BSD-3-Clause (torchvision); trained on ImageNet, whose terms restrict use to non-commercial research"
_TV_SOURCE = "full sha256 of the file served by download.pytorch.org, from a public weights catalogue; prefix from torchvision's file name"

_OPENAI_CLIP = {  # manifest name -> (_MODELS key, sha256 from the URL's last folder)
    "ViT-B-32": ("ViT-B/32", "40d365715913c9da98579312b702a82c18be219cc2a73407c4526f58eba950af"),
    "ViT-B-16": ("ViT-B/16", "5806e77cd80f8b59890b7e101eabd078d9fb84e6937f9e85e4ecb61988df416f"),
    "ViT-L-14": ("ViT-L/14", "b8cca3fd41ae0c99ba7e8951adf17d267cdb84cd88be6f7c2e0eca1737a03836"),
}


def _openai_clip_entry(name: str, info) -> WeightsEntry:
    key, sha = info
    return WeightsEntry(
        name=name,
        filename=f"{name}.pt",
        url=f"https://openaipublic.azureedge.net/clip/models/{sha}/{name}.pt",
        sha256=sha,
        license="MIT (openai/CLIP code and weights)",
        description=f"OpenAI CLIP {key}: image and text towers (gm.clip_score; {key} is Hessel et al.'s "
        "CLIPScore model)" if name == "ViT-B-32" else f"OpenAI CLIP {key}: image and text towers (gm.clip_score)",
        format="TorchScript archive of OpenAI's CLIP (torch.jit.load(...).state_dict(): 'visual.*' and text "
        "keys, conv/linear/attention/proj weights in float16)",
        source=f"openai/CLIP clip/clip.py _MODELS[{key!r}]: the sha256 is the URL's last folder, which "
        "clip._download checks (open_clip's pretrained table has the same URL)",
    )


BUILTIN: dict[str, WeightsEntry] = {
    e.name: e
    for e in [
        *[_openai_clip_entry(n, d) for n, d in _OPENAI_CLIP.items()],
        WeightsEntry(
            name="ViT-L-14-336px",
            filename="ViT-L-14-336px.pt",
            url="https://openaipublic.azureedge.net/clip/models/"
            "3035c92b350959924f9f00213499208652fc7ea050643e8b385c2dac08641f02/ViT-L-14-336px.pt",
            sha256="3035c92b350959924f9f00213499208652fc7ea050643e8b385c2dac08641f02",
            license="MIT (openai/CLIP code and weights)",
            description="OpenAI CLIP ViT-L/14@336px: the CMMD embedding (768-d, L2-normalised "
            "encode_image); its text tower serves gm.clip_score",
            format="TorchScript archive of OpenAI's CLIP (torch.jit.load(...).state_dict(): 'visual.*' "
            "and text keys, conv/linear/attention/proj weights in float16)",
            source="openai/CLIP clip/clip.py _MODELS['ViT-L/14@336px']: the sha256 is the URL's "
            "last folder, which clip._download checks",
        ),
        WeightsEntry(
            name="pt_inception-2015-12-05",
            filename="pt_inception-2015-12-05-6726825d.pth",
            url="https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/"
            "pt_inception-2015-12-05-6726825d.pth",
            sha256="6726825d0af5f729cebd5821db510b11b1cfad8faad88a03f1befd49fb9129b2",
            sha256_prefix="6726825d",
            size=95_628_359,
            license="Apache-2.0 (TensorFlow models; ported by pytorch-fid)",
            description="TF FID Inception-v3 (2015-12-05 graph) as used by TTUR, pytorch-fid and "
            "torch-fidelity: 2048-d pool3 features, 1008 logits",
            format="state_dict of pytorch_fid.inception.fid_inception_v3() (torchvision Inception3 "
            "names, num_classes=1008, aux_logits=False)",
            source="pytorch-fid release file; digest and size as recorded by independent users",
        ),
        WeightsEntry(
            name="inception_v3_google",
            filename="inception_v3_google-0cc3c7bd.pth",
            url=_TV + "inception_v3_google-0cc3c7bd.pth",
            sha256=None,
            sha256_prefix="0cc3c7bd",
            license=_TV_LICENSE,
            description="torchvision Inception-v3 (IMAGENET1K_V1, ported from TensorFlow): "
            "2048-d pool features, 1000 logits",
            format="state_dict of torchvision.models.inception_v3(aux_logits=True)",
            source="prefix from torchvision's file name only; the full digest is recorded on first import",
        ),
        WeightsEntry(
            name="vgg16",
            filename="vgg16-397923af.pth",
            url=_TV + "vgg16-397923af.pth",
            sha256="397923af8e79cdbb6a7127f12361acd7a2f83e06b05044ddf496e83de57a5bf0",
            sha256_prefix="397923af",
            size=553_433_881,
            license=_TV_LICENSE,
            description="torchvision VGG-16 (IMAGENET1K_V1): 4096-d fc2 features",
            format="state_dict of torchvision.models.vgg16()",
            source=_TV_SOURCE,
        ),
        WeightsEntry(
            name="alexnet",
            filename="alexnet-owt-7be5be79.pth",
            url=_TV + "alexnet-owt-7be5be79.pth",
            sha256="7be5be791159472b1fbf3c69796f7cb30dca7ad8466c2df70058c37116cdee02",
            sha256_prefix="7be5be79",
            size=244_408_911,
            license=_TV_LICENSE,
            description="torchvision AlexNet (IMAGENET1K_V1), the LPIPS 'alex' backbone",
            format="state_dict of torchvision.models.alexnet()",
            source=_TV_SOURCE,
        ),
        WeightsEntry(
            name="squeezenet1_1",
            filename="squeezenet1_1-b8a52dc0.pth",
            url=_TV + "squeezenet1_1-b8a52dc0.pth",
            sha256="b8a52dc049b60e4b6ab68ad0df457362afab8b6304b2febdc1650a5dab4d7e7b",
            sha256_prefix="b8a52dc0",
            size=4_958_839,
            license=_TV_LICENSE,
            description="torchvision SqueezeNet 1.1 (IMAGENET1K_V1), the LPIPS 'squeeze' backbone",
            format="state_dict of torchvision.models.squeezenet1_1()",
            source=_TV_SOURCE,
        ),
        WeightsEntry(
            name="fcn_resnet50_coco",
            filename="fcn_resnet50_coco-1167a1af.pth",
            url=_TV + "fcn_resnet50_coco-1167a1af.pth",
            sha256="1167a1affa42e1e62858f8d3fac12d109e0108327ffc91c5855a324b11683c36",
            sha256_prefix="1167a1af",
            size=141_567_418,
            license=_TV_LICENSE + "; COCO (VOC classes) segmentation",
            description="torchvision FCN-ResNet50 (COCO_WITH_VOC_LABELS_V1), 21 classes",
            format="state_dict of torchvision.models.segmentation.fcn_resnet50(num_classes=21, "
            "aux_loss=True)",
            source=_TV_SOURCE,
        ),
        WeightsEntry(
            name="inception_v3_weights_tf_dim_ordering_tf_kernels_notop",
            filename="inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5",
            url="https://storage.googleapis.com/tensorflow/keras-applications/inception_v3/"
            "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5",
            sha256=None,
            md5="bcbd6486424b2319ff4ef7d526e38f63",
            size=87_910_968,
            license="MIT (Keras: 'The Inception v3 weights are trained by ourselves and are released "
            "under the MIT license'); trained on ImageNet, whose terms restrict use to non-commercial research",
            description="Keras applications InceptionV3 ImageNet weights without the top "
            "(include_top=False): 94 Conv2D + 94 BatchNormalization(scale=False) layers",
            format="Keras 2 legacy HDF5 of model.save_weights: root attribute layer_names, one group per "
            "layer with attribute weight_names (<layer>/kernel:0; <layer>/beta:0, moving_mean:0, "
            "moving_variance:0), kernels (rows, cols, in, out)",
            source="md5 as Keras records it (keras/src/applications/inception_v3.py, get_file file_hash); "
            "no published sha256: recorded on first import after the md5 check",
        ),
    ]
}


def _dinov2_entry(arch: str, title: str, sha256: str, size: int) -> WeightsEntry:
    name = f"dinov2_{arch}14_pretrain"
    return WeightsEntry(
        name=name,
        filename=f"{name}.pth",
        url=f"https://dl.fbaipublicfiles.com/dinov2/dinov2_{arch}14/{name}.pth",
        sha256=sha256,
        size=size,
        license="Apache-2.0 (facebookresearch/dinov2 code and weights)",
        description=f"DINOv2 {title} backbone (self-supervised on LVD-142M, trained at 518 px, no "
        "register tokens), the network of FD_DINOv2",
        format=f"state_dict of facebookresearch/dinov2 hub dinov2_{arch}14() (DinoVisionTransformer, "
        "block_chunks=0): patch_embed.proj, cls_token, pos_embed 1x1370xD, mask_token, blocks.N.*, norm",
        source="sha256 and size pinned for this URL by several independent projects (e.g. "
        "finegrain-ai/refiners src/refiners/conversion/models/dinov2.py)",
    )


# DINOv2 backbones (FD_DINOv2, genmetrics_nb.extractors.dinov2); provenance in the module docstring.
BUILTIN.update({
    e.name: e
    for e in [
        _dinov2_entry("vits", "ViT-S/14 (distilled)",
                      "b938bf1bc15cd2ec0feacfe3a1bb553fe8ea9ca46a7e1d8d00217f29aef60cd9", 88_283_115),
        _dinov2_entry("vitb", "ViT-B/14 (distilled)",
                      "0b8b82f85de91b424aded121c7e1dcc2b7bc6d0adeea651bf73a13307fad8c73", 346_378_731),
        _dinov2_entry("vitl", "ViT-L/14 (distilled)",
                      "d5383ea8f4877b2472eb973e0fd72d557c7da5d3611bd527ceeb1d7162cbf428", 1_217_586_395),
        _dinov2_entry("vitg", "ViT-g/14",
                      "baf8467e50af277596bbbafa06887c177ee899ab46033649c383577d7e9309d3", 4_546_108_579),
    ]
})

_FIELDS = {f.name for f in dataclasses.fields(WeightsEntry)}


def _read_overrides(path: str) -> dict:
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except FileNotFoundError:
        raise ValueError(
            f"{MANIFEST_ENV}={path!r} names a file that does not exist; unset it or point it "
            "at a JSON manifest"
        ) from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"{MANIFEST_ENV}={path!r} is not valid JSON: {exc}") from None
    if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
        raise ValueError(
            f"{MANIFEST_ENV}={path!r} must hold a JSON object mapping names to objects of fields "
            f"({', '.join(sorted(_FIELDS - {'name'}))})"
        )
    return data


def load_manifest(extra: dict | None = None) -> dict[str, WeightsEntry]:
    """Built-in entries, updated from ``$GENMETRICS_MANIFEST`` and ``extra``.

    Parameters
    ----------
    extra : dict, optional
        Further ``name -> fields`` overrides (used by :func:`register`).

    Returns
    -------
    dict of str to WeightsEntry

    Raises
    ------
    ValueError
        If the override file is missing or malformed, or names unknown fields.
    """
    manifest = dict(BUILTIN)
    layers = []
    env = os.environ.get(MANIFEST_ENV)
    if env:
        layers.append((env, _read_overrides(env)))
    if extra:
        layers.append(("register()", extra))
    for origin, overrides in layers:
        for name, fields in overrides.items():
            unknown = set(fields) - _FIELDS
            if unknown:
                raise ValueError(
                    f"manifest entry {name!r} from {origin} has unknown field(s) {sorted(unknown)}; "
                    f"allowed: {sorted(_FIELDS - {'name'})}"
                )
            base = manifest[name].to_dict() if name in manifest else {}
            base.update(fields)
            base["name"] = name
            missing = {"filename", "url", "sha256"} - set(base)
            if missing:
                raise ValueError(
                    f"manifest entry {name!r} from {origin} lacks {sorted(missing)}; a new entry "
                    "needs filename, url and sha256 (null if only sha256_prefix is known)"
                )
            manifest[name] = WeightsEntry(**base)
    return manifest


def get_entry(name: str, manifest: dict | None = None) -> WeightsEntry:
    """The manifest entry called ``name`` (ValueError listing the known names otherwise)."""
    manifest = load_manifest() if manifest is None else manifest
    if not isinstance(name, str) or name not in manifest:
        raise ValueError(
            f"no weights called {name!r}; known: {', '.join(sorted(manifest))}. Add entries "
            f"with genmetrics_nb.weights.register(...) or a JSON file named by ${MANIFEST_ENV}"
        )
    return manifest[name]
