"""The prompt-set manifest: where each standard prompt file lives, its sha256 and what it holds.

Nothing here is a copy of a prompt file: each entry names the file, a URL
at a pinned commit, its sha256 and byte size (computed on the file at that
commit), its prompt count, split, images per prompt, source and licence.
:func:`genmetrics_nb.prompts.load` reads the file from a path the user gives,
or downloads it into the cache, and refuses a file whose sha256 differs.

Entries whose publisher gives no file at a pinned address (DrawBench, the
HPDv2 benchmark prompts, the COCO-30k caption sample) carry ``sha256=None``:
they load only with ``verify=False``, which the loaded set records.

``kind="answers"`` entries are released VQA answers and results that
reproduce published aggregates without any model (see docs/t2i-aggregates.md).
"""
from __future__ import annotations

from dataclasses import dataclass

__all__ = ["MANIFEST", "PromptFile", "PromptSetEntry", "get_entry"]


@dataclass(frozen=True)
class PromptFile:
    """One file of a prompt set.

    Attributes
    ----------
    filename : str
        Name as published (and in the cache).
    url : str or None
        Raw download address at a pinned commit (None: no stable address).
    sha256 : str or None
        Digest of the file at that commit (None: not published, not pinned).
    size : int or None
        Bytes.
    count : int or None
        Prompts (or rows) in the file.
    category : str or None
        The category every prompt of this file has (T2I-CompBench, HPDv2 styles).
    """

    filename: str
    url: str | None
    sha256: str | None
    size: int | None = None
    count: int | None = None
    category: str | None = None


@dataclass(frozen=True)
class PromptSetEntry:
    """One prompt set (or released answer file) of the manifest.

    Attributes
    ----------
    name : str
        What ``gm.prompts.load`` takes.
    title : str
    files : tuple of PromptFile
    count : int
        Prompts over all files.
    split : str
        Which part of the benchmark this is.
    images_per_prompt : int or None
        Images the benchmark's protocol generates per prompt (None: not fixed).
    format : str
        How the file is parsed (``"parti-tsv"``, ``"geneval-jsonl"``, ``"lines"``,
        ``"json-list"``, ``"drawbench-csv"``, ``"caption-csv"``, ``"dsg-csv"``, ``"file"``).
    source : str
        Paper.
    repository : str
        Repository and commit the file was read at.
    license : str
    notes : str
    kind : {"prompts", "answers"}
    """

    name: str
    title: str
    files: tuple
    count: int
    split: str
    images_per_prompt: int | None
    format: str
    source: str
    repository: str
    license: str
    notes: str = ""
    kind: str = "prompts"

    @property
    def verifiable(self) -> bool:
        """True when every file has a pinned sha256."""
        return all(f.sha256 for f in self.files)

    def to_dict(self) -> dict:
        """Plain values for protocol blocks (files as name, url, sha256)."""
        return {
            "name": self.name, "title": self.title, "count": self.count, "split": self.split,
            "images_per_prompt": self.images_per_prompt, "source": self.source,
            "repository": self.repository, "license": self.license, "kind": self.kind,
            "files": [{"filename": f.filename, "url": f.url, "sha256": f.sha256, "count": f.count}
                      for f in self.files],
        }


def _gh(repo: str, commit: str, path: str) -> str:
    return f"https://raw.githubusercontent.com/{repo}/{commit}/{path}"


PARTI = "5a657978134374ce28973948331b319adef164bd"
GENEVAL = "af4902f24d3ca90ebbb446dd9891a59e0f82725f"
COMPBENCH = "1b7094991a57f3c22abdd4f6e8ba6c1a15517073"
DSG = "7330119a39f76ff90e619a8bd3ff321e71aa986b"
TIFA = "8e37050f44ab4ee681e4251f3c8a9d4cc86e901e"
HPSV2 = "866735ecaae999fa714bd9edfa05aa2672669ee3"

# T2I-CompBench validation files: (category, sha256, bytes); 300 prompts each (sha256 and
# counts computed on the files at COMPBENCH). The same folder holds the full 1,000-prompt
# files (color.txt, ...); scoring on those instead inflates scores by about 3 points
# (Karine-Huang/T2I-CompBench#7).
_COMPBENCH_VAL = (
    ("3d_spatial", "c9953597315f36a5fcb41291bb19bdc6ab5f64a0fa760d691b4854a73f5d1fe9", 7851),
    ("color", "1634259756dbc77d13093d907d414480080ec9790a8c97ad09efaea7b2534f2d", 11871),
    ("complex", "1b808018b8d9916db3d47d5aa2ef18377a3549a56901a474156f799824cdf3b4", 22724),
    ("non_spatial", "04c56cc9ac441dc9ea6c5157652058bd1635b5308526dd31bb29a1caab9a758d", 17750),
    ("numeracy", "dad8df141604b70ba7554bec724e3db0a80023680769b5c514854ea2d2527bbe", 10863),
    ("shape", "37e1a276906c7ea9516cbd7ac8501be896006c0c17ca7344f260562834455bae", 15935),
    ("spatial", "8707a1d7e42ce3002d95363cf55f74bd043c843ae27108f5125aaaa7840ca988", 9213),
    ("texture", "fbb5363515b4a28009e360afaaaf389d2dd2289e50dbb0c6ef4ea0c7fe4f3d4f", 14211),
)

_HPD_STYLES = ("anime", "concept-art", "paintings", "photo")

_ENTRIES = (
    PromptSetEntry(
        name="parti",
        title="PartiPrompts (P2)",
        files=(PromptFile("PartiPrompts.tsv", _gh("google-research/parti", PARTI, "PartiPrompts.tsv"),
                          "fab29e41bb512a169b56acab4cf2a41dcb675e285df2efcde6640c7dd3c440eb", 123107, 1632),),
        count=1632, split="all (evaluation only; 12 categories, 11 challenges)", images_per_prompt=None,
        format="parti-tsv",
        source="Yu et al., Scaling Autoregressive Models for Content-Rich Text-to-Image Generation, TMLR 2022",
        repository=f"google-research/parti@{PARTI[:7]}", license="Apache-2.0",
        notes="categories = the Category column; metadata carries Challenge and Note",
    ),
    PromptSetEntry(
        name="drawbench",
        title="DrawBench",
        files=(PromptFile(
            "drawbench.csv",
            "https://docs.google.com/spreadsheets/d/1y7nAbmR4FREi6npB1u-Bo3GFdwdOPYJc617rBOxIRHY/export?format=csv",
            None, None, 200),),
        count=200, split="all (11 categories)", images_per_prompt=None, format="drawbench-csv",
        source="Saharia et al., Photorealistic Text-to-Image Diffusion Models with Deep Language "
               "Understanding (Imagen), NeurIPS 2022",
        repository="Google Sheet linked from the Imagen project page (no pinned revision)",
        license="not stated by the publisher",
        notes="published as a spreadsheet that can change: no sha256 is pinned, so load(..., verify=False) "
              "records the digest of the copy used; columns Prompts, Category",
    ),
    PromptSetEntry(
        name="geneval",
        title="GenEval prompts with their evaluation metadata",
        files=(PromptFile("evaluation_metadata.jsonl",
                          _gh("djghosh13/geneval", GENEVAL, "prompts/evaluation_metadata.jsonl"),
                          "5c48e0813e812e3c373fa5c8ed07a8f0a483be30272b4427b0559c8048e67c13", 85209, 553),),
        count=553, split="all (6 tasks: single_object 80, two_object 99, counting 80, colors 94, "
                         "position 100, color_attr 100)",
        images_per_prompt=4, format="geneval-jsonl",
        source="Ghosh, Hajishirzi and Schmidt, GenEval: An Object-Focused Framework for Evaluating "
               "Text-to-Image Alignment, NeurIPS 2023 Datasets and Benchmarks",
        repository=f"djghosh13/geneval@{GENEVAL[:7]}", license="MIT",
        notes="categories = the task tag; metadata = the whole line (include/exclude clauses) that "
              "gm.geneval_score checks; images laid out as <index:05d>/samples/<k:04d>.png",
    ),
    PromptSetEntry(
        name="t2i-compbench",
        title="T2I-CompBench validation split",
        files=tuple(PromptFile(f"{c}_val.txt", _gh("Karine-Huang/T2I-CompBench", COMPBENCH,
                                                    f"examples/dataset/{c}_val.txt"), h, size, 300, c)
                    for c, h, size in _COMPBENCH_VAL),
        count=2400, split="validation (*_val.txt, 300 prompts per category)", images_per_prompt=None,
        format="lines",
        source="Huang et al., T2I-CompBench: A Comprehensive Benchmark for Open-world Compositional "
               "Text-to-image Generation, NeurIPS 2023 Datasets and Benchmarks",
        repository=f"Karine-Huang/T2I-CompBench@{COMPBENCH[:7]}", license="MIT",
        notes="the validation split only: the 1,000-prompt files beside them (color.txt, ...) inflate "
              "scores by about 3 points (T2I-CompBench#7); categories = the file's category; images are "
              "named '<prompt>_<k:06d>.png'",
    ),
    PromptSetEntry(
        name="hpdv2",
        title="HPDv2 benchmark prompts (4 styles x 800)",
        files=tuple(PromptFile(f"{s}.json",
                               f"https://huggingface.co/datasets/zhwang/HPDv2/resolve/main/benchmark/{s}.json",
                               None, None, 800, s) for s in _HPD_STYLES),
        count=3200, split="benchmark (anime, concept-art, paintings, photo; 800 each)", images_per_prompt=1,
        format="json-list",
        source="Wu et al., Human Preference Score v2, arXiv:2306.09341 (2023)",
        repository=f"tgxs002/HPSv2@{HPSV2[:7]} (hpsv2/evaluation.py reads them); files on the HF dataset "
                   "zhwang/HPDv2 (not pinned)",
        license="Apache-2.0 (HPSv2 repository)",
        notes="no sha256 pinned here (the files could not be fetched when the manifest was written): "
              "load with verify=False; each file is a JSON list of prompts, image <index:05d>.jpg per "
              "style; HPSv2 averages 100 x cos in blocks of 80 prompts",
    ),
    PromptSetEntry(
        name="coco30k",
        title="COCO-30k caption sample protocol",
        files=(PromptFile("coco_30k_captions.csv", None, None, None, 30000),),
        count=30000, split="30,000 captions sampled at random from the COCO 2014 validation captions",
        images_per_prompt=1, format="caption-csv",
        source="Lin et al., Microsoft COCO, ECCV 2014 (captions); protocol of Saharia et al. 2022 and "
               "Jayasumana et al., Rethinking FID (CMMD), CVPR 2024",
        repository="no canonical file: each paper draws its own sample (sayakpaul/cmmd-pytorch uses "
                   "coco_30k_randomly_sampled_2014_val.csv)",
        license="CC BY 4.0 (COCO annotations)",
        notes="a protocol, not a file: give your sample's CSV (a 'caption' column) with verify=False; "
              "its sha256 is recorded so the sample can be named in a report",
    ),
    PromptSetEntry(
        name="dsg1k",
        title="DSG-1k prompts and question annotations",
        files=(PromptFile("dsg-1k-anns.csv", _gh("j-min/DSG", DSG, "dsg/data/dsg-1k-anns.csv"),
                          "b7ce06ea8a0478ccfd8fba105ecd26d7d301eb99d5c412987546c4cc8e08917a", 1906040, 1060),),
        count=1060, split="all (10 sources in 8 categories)", images_per_prompt=1, format="dsg-csv",
        source="Cho et al., Davidsonian Scene Graph, ICLR 2024",
        repository=f"j-min/DSG@{DSG[:7]}", license="Apache-2.0",
        notes="one row per question; the prompts are the distinct item_id/text pairs; categories by "
              "item-id prefix (dsg1k_category); the questions' dependencies feed gm.dsg_score",
    ),
    PromptSetEntry(
        name="dsg-pali17b-answers",
        title="DSG released VQA answers: PaLI-17B on DSG-1k questions",
        files=(PromptFile("pali17b_dsg.csv", _gh("j-min/DSG", DSG, "vqa_answers_release/pali17b_dsg.csv"),
                          "ac394cb8116e2e3723e21064683ffa24b34c866bf2450c6fb0ae6688b15dbf85", 858502, 11858),),
        count=11858, split="answers for 5 T2I models (sd2dot1: 8,174 rows on 1,059 items)", images_per_prompt=None,
        format="file", source="Cho et al., ICLR 2024", repository=f"j-min/DSG@{DSG[:7]}", license="Apache-2.0",
        notes="with dsg1k (dependencies) gives the README's 80.5% for sd2dot1 (docs/t2i-aggregates.md)",
        kind="answers",
    ),
    PromptSetEntry(
        name="tifa-sample-result",
        title="TIFA sample evaluation result",
        files=(PromptFile("sample_evaluation_result.json",
                          _gh("Yushi-Hu/tifa", TIFA, "sample/sample_evaluation_result.json"),
                          "1661a6a34a0967b3b822d5756e75370fcc44d80685edb926a76c6338aeb3b499", 12008, 19),),
        count=19, split="sample (2 prompts, 19 questions)", images_per_prompt=1, format="file",
        source="Hu et al., TIFA, ICCV 2023", repository=f"Yushi-Hu/tifa@{TIFA[:7]}", license="Apache-2.0",
        notes="tifa_average 0.8125, tifa_stdev 0.2651650429449553 (docs/t2i-aggregates.md)",
        kind="answers",
    ),
)

#: Every entry by name.
MANIFEST: dict[str, PromptSetEntry] = {e.name: e for e in _ENTRIES}


def get_entry(name: str) -> PromptSetEntry:
    """The manifest entry ``name``; a ValueError lists the names otherwise."""
    if isinstance(name, PromptSetEntry):
        return name
    if not isinstance(name, str):
        raise TypeError(f"name must be a prompt-set name (str), got {type(name).__name__}")
    key = name.strip().lower()
    if key not in MANIFEST:
        raise ValueError(f"name={name!r} is not a known prompt set; known: {', '.join(MANIFEST)}")
    return MANIFEST[key]
