"""The byte-level BPE tokenizer of OpenAI's CLIP and open_clip, with a report of what it did.

OpenAI's CLIP (``clip/simple_tokenizer.py``), open_clip (``open_clip/tokenizer.py``,
``SimpleTokenizer``) and HPSv2's fork of open_clip share one tokenizer and one
vocabulary file, ``bpe_simple_vocab_16e6.txt.gz`` (MIT, OpenAI; 1,356,917
bytes, sha256 :data:`VOCAB_SHA256`, byte-identical in the three
repositories). It is written here, not imported from open_clip, so that the
metrics do not depend on open_clip at run time and every step is recorded; the
vocabulary is read from the installed open_clip wheel (found with
:func:`importlib.util.find_spec`, open_clip itself is not imported) or from a
file the user gives, and its sha256 is checked.

What it does to a prompt (each step changes ids)
------------------------------------------------
1. **Normalisation** (:func:`normalize`), as OpenAI's ``basic_clean`` then
   ``whitespace_clean(...).lower()``: ``ftfy.fix_text`` (which also applies
   NFC, turns curly quotes into straight ones, splits ligatures such as
   "ﬁ" and maps full-width letters to ASCII), ``html.unescape`` twice
   (``&amp;amp;`` -> ``&``), strip, every run of whitespace to one space,
   lower-case. HF's fast ``CLIPTokenizer`` does only NFC, whitespace collapse
   and lower-casing, so it tokenises such prompts differently.
2. **Pre-tokenisation** with the pattern ``'s|'t|'re|'ve|'m|'ll|'d|\\p{L}+|\\p{N}|[^\\s\\p{L}\\p{N}]+``
   (the ``regex`` module's Unicode classes; each digit is its own token),
   case-insensitive; open_clip's spelling of the special tokens
   (``<start_of_text>``, ``<end_of_text>``) typed in a prompt is matched as
   those tokens, as open_clip does (OpenAI's ``clip.tokenize`` matches
   ``<|startoftext|>`` / ``<|endoftext|>`` instead; no real prompt holds either).
3. **Byte-level BPE**: UTF-8 bytes mapped to printable characters
   (GPT-2's table), ``</w>`` appended to the last character of each token,
   then the 48,894 merges of the file applied by rank (lowest first).
   Vocabulary: 256 byte characters, the same with ``</w>``, one entry per
   merge, then ``<start_of_text>`` = 49406 and ``<end_of_text>`` = 49407
   (49,408 ids).
4. **Framing, truncation and padding** to ``context_length`` (77): start
   token, the BPE ids, end token, zeros after. A prompt whose framed length
   exceeds the context is cut by the ``truncation`` rule:

   ``"keep-end"`` (default)
       the first 76 ids, then the end token in the last position: open_clip's
       ``tokenize`` and OpenAI's ``clip.tokenize(truncate=True)`` (Hessel et
       al.'s CLIPScore code passes ``truncate=True``).
   ``"torchmetrics"``
       the first 77 ids of the framed sequence, so the end token is dropped:
       what torchmetrics' ``clip_score`` does (it slices ``input_ids[..., :77]``
       after an untruncated HF tokenisation; Lightning-AI/torchmetrics#2883).
       CLIP pools the text at the end token (the largest id, found by
       ``argmax``); without it the largest id is the start token 49406 at
       position 0, whose output under the causal mask is the same for every
       prompt: the score of a cut prompt no longer depends on its text.
       Offered only to reproduce torchmetrics' numbers.
   ``"error"``
       refuse over-long prompts (OpenAI's ``clip.tokenize`` default).

Every call returns a :class:`TokenizerReport`: the vocabulary's sha256 and
origin, the normalisation, the context length, the truncation rule, and how
many prompts were cut and which.

References
----------
.. [1] A. Radford et al., "Learning Transferable Visual Models From Natural
   Language Supervision", ICML 2021. https://github.com/openai/CLIP
   (``clip/simple_tokenizer.py``, ``clip/clip.py`` ``tokenize``).
.. [2] G. Ilharco et al., OpenCLIP. https://github.com/mlfoundations/open_clip
   (``src/open_clip/tokenizer.py``: ``SimpleTokenizer``, ``tokenize``).
.. [3] A. Radford et al., "Language Models are Unsupervised Multitask
   Learners", 2019 (GPT-2's byte-to-unicode table and BPE).
"""
from __future__ import annotations

import dataclasses
import gzip
import html
import importlib.util
import os
from pathlib import Path

__all__ = [
    "CONTEXT_LENGTH",
    "NORMALISATION",
    "NORMALISATIONS",
    "TRUNCATIONS",
    "VOCAB_FILENAME",
    "VOCAB_SHA256",
    "CLIPTokenizer",
    "TokenizerReport",
    "clip_tokenize",
    "get_tokenizer",
    "normalize",
    "vocab_path",
]

#: The vocabulary file's name in openai/CLIP, open_clip and HPSv2.
VOCAB_FILENAME = "bpe_simple_vocab_16e6.txt.gz"
#: Its sha256 (open_clip_torch 3.3.0 wheel; the same blob in openai/CLIP and
#: tgxs002/HPSv2, see /work/shared/research/t2i-eval-2026-12-07.md).
VOCAB_SHA256 = "924691ac288e54409236115652ad4aa250f48203de50a9e4722a6ecd48d6804a"
#: CLIP's text context (positional embeddings of every OpenAI model).
CONTEXT_LENGTH = 77
#: What :func:`normalize` does, as recorded in every report.
NORMALISATION = ("ftfy.fix_text; html.unescape twice; strip; whitespace runs to one space; lower-case "
                 "(OpenAI simple_tokenizer basic_clean + whitespace_clean)")
#: ``normalisation=`` choices: OpenAI's / open_clip's (the default), or transformers' fast
#: ``CLIPTokenizer``'s, which PickScore and torchmetrics use.
NORMALISATIONS = {
    "openai": NORMALISATION,
    "hf": "unicodedata NFC; whitespace runs to one space; lower-case; no ftfy, no html.unescape "
          "(transformers CLIPTokenizer, tokenizers backend)",
}
#: ``truncation=`` rules and what each does to a prompt longer than the context.
TRUNCATIONS = {
    "keep-end": "first context_length - 1 ids, then the end token (open_clip tokenize; OpenAI "
                "clip.tokenize(truncate=True))",
    "torchmetrics": "first context_length ids of start + BPE + end: the end token is dropped "
                    "(torchmetrics clip_score; Lightning-AI/torchmetrics#2883)",
    "error": "over-long prompts are refused (OpenAI clip.tokenize default)",
}
_N_MERGES = 49152 - 256 - 2  # merges used by OpenAI: the file's lines 1 .. 48894
_SOT, _EOT = "<start_of_text>", "<end_of_text>"  # open_clip's spelling
_WORDS = r"""|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+"""
# open_clip's pre-tokeniser (OpenAI's with open_clip's special-token spelling), case-insensitive;
# transformers' spells the special tokens as OpenAI does and is case-sensitive
_PATTERNS = {"openai": (_SOT + "|" + _EOT + _WORDS, True),
             "hf": (r"<\|startoftext\|>|<\|endoftext\|>" + _WORDS, False)}


def _byte_alphabet() -> dict:
    """GPT-2's reversible map from the 256 byte values to printable characters.

    Printable Latin-1 bytes (``!``..``~``, ``¡``..``¬``, ``®``..``ÿ``) map to
    themselves; the other 68 bytes, in increasing order, to ``chr(256 + k)``.
    The dict's order (the printable bytes first, then the others) is the
    order of the first 256 vocabulary ids.
    """
    keep = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    table = {b: chr(b) for b in keep}
    extra = 0
    for b in range(256):
        if b not in table:
            table[b] = chr(256 + extra)
            extra += 1
    return table


def vocab_path() -> Path:
    """The vocabulary shipped in the installed open_clip wheel (open_clip is not imported).

    Raises
    ------
    FileNotFoundError
        When open_clip (``pip install open-clip-torch``) is not installed or
        its wheel lacks the file; pass ``vocab=`` the path of a copy instead.
    """
    spec = importlib.util.find_spec("open_clip")
    folders = list(spec.submodule_search_locations or []) if spec is not None else []
    for folder in folders:
        candidate = Path(folder) / VOCAB_FILENAME
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(
        f"CLIP's BPE vocabulary {VOCAB_FILENAME} was not found: it is read from the open_clip wheel "
        "(pip install open-clip-torch); or pass vocab= the path of a copy (openai/CLIP "
        f"clip/{VOCAB_FILENAME}, sha256 {VOCAB_SHA256})"
    )


def normalize(text: str, *, normalisation: str = "openai") -> str:
    """OpenAI's prompt normalisation (see :data:`NORMALISATION`), or transformers' (``"hf"``).

    transformers' fast tokenizer applies NFC, replaces each run of ``\\s`` by one
    space and lower-cases (``tokenizers`` ``normalizers.Sequence``); leading and
    trailing spaces are then dropped by the pre-tokeniser, so they do not matter.
    """
    if normalisation == "hf":
        import unicodedata

        import regex  # Unicode White_Space, as the Rust regex's \s (Python's re adds \x1c-\x1f)

        return regex.sub(r"\p{White_Space}+", " ", unicodedata.normalize("NFC", text)).lower()
    import ftfy

    text = ftfy.fix_text(text)
    text = html.unescape(html.unescape(text)).strip()
    return " ".join(text.split()).lower()


@dataclasses.dataclass(frozen=True)
class TokenizerReport:
    """What the tokenizer did to a list of prompts (recorded in every result).

    Attributes
    ----------
    vocab_sha256 : str
        sha256 of the vocabulary file read.
    vocab_source : str
        Where it came from (the open_clip wheel and its version, or the path).
    normalisation : str
        :data:`NORMALISATION`.
    context_length : int
    truncation : str
        The rule applied (a key of :data:`TRUNCATIONS`); ``truncation_rule`` says what it does.
    truncation_rule : str
    n_prompts : int
    n_truncated : int
        Prompts whose framed token count exceeded ``context_length``.
    truncated : tuple of int
        Their indices.
    truncated_prompts : tuple of str
        Their text, as given.
    n_tokens : tuple of int
        Framed token count of every prompt (start and end tokens included), before truncation.
    """

    vocab_sha256: str
    vocab_source: str
    normalisation: str
    context_length: int
    truncation: str
    truncation_rule: str
    n_prompts: int
    n_truncated: int
    truncated: tuple
    truncated_prompts: tuple
    n_tokens: tuple

    def to_dict(self) -> dict:
        out = dataclasses.asdict(self)
        return {k: list(v) if isinstance(v, tuple) else v for k, v in out.items()}

    def fingerprint(self) -> dict:
        """The protocol part (no per-prompt data): what makes two runs' ids comparable."""
        return {k: getattr(self, k) for k in ("vocab_sha256", "normalisation", "context_length", "truncation")}

    def __str__(self) -> str:
        return (f"CLIP BPE {self.vocab_sha256[:12]}, context {self.context_length}, truncation "
                f"{self.truncation!r}: {self.n_truncated} of {self.n_prompts} prompts truncated")


class CLIPTokenizer:
    """OpenAI's / open_clip's CLIP tokenizer over a checked vocabulary file.

    Parameters
    ----------
    vocab : path-like, optional
        ``bpe_simple_vocab_16e6.txt.gz``; default: the copy in the installed
        open_clip wheel (:func:`vocab_path`).
    expected_sha256 : str or None
        The file must have this sha256 (default :data:`VOCAB_SHA256`, the
        published vocabulary); None accepts any file (its hash is recorded
        all the same).

    Raises
    ------
    ValueError
        A file whose sha256 differs from ``expected_sha256``.
    """

    def __init__(self, vocab=None, *, expected_sha256: str | None = VOCAB_SHA256, normalisation: str = "openai"):
        from genmetrics_nb.util.io import sha256_file

        if vocab is None:
            path = vocab_path()
            try:
                from importlib.metadata import version

                source = f"open_clip wheel (open_clip_torch {version('open_clip_torch')}): {path}"
            except Exception:  # pragma: no cover - metadata missing
                source = f"open_clip wheel: {path}"
        else:
            path = Path(os.fspath(vocab))
            if not path.is_file():
                raise ValueError(f"vocab={os.fspath(vocab)!r} is not a file; pass the path of {VOCAB_FILENAME}")
            source = str(path)
        digest = sha256_file(path)
        if expected_sha256 is not None and digest != expected_sha256:
            raise ValueError(
                f"vocab={str(path)!r} has sha256 {digest}, not CLIP's {expected_sha256}; pass the published "
                f"{VOCAB_FILENAME} (openai/CLIP, open_clip), or expected_sha256=None to use this file anyway"
            )
        import regex

        lines = gzip.open(path).read().decode("utf-8").split("\n")
        merges = [tuple(line.split()) for line in lines[1:_N_MERGES + 1]]
        if len(merges) != _N_MERGES or any(len(m) != 2 for m in merges):
            raise ValueError(f"vocab={str(path)!r} does not hold CLIP's {_N_MERGES} BPE merges")
        self.byte_encoder = _byte_alphabet()
        alphabet = list(self.byte_encoder.values())
        tokens = alphabet + [c + "</w>" for c in alphabet] + ["".join(m) for m in merges] + [_SOT, _EOT]
        self.encoder = {t: i for i, t in enumerate(tokens)}
        self.ranks = {m: i for i, m in enumerate(merges)}
        self.sot_id, self.eot_id = self.encoder[_SOT], self.encoder[_EOT]
        self.vocab_size = len(self.encoder)
        self.vocab_sha256 = digest
        self.vocab_source = source
        if normalisation not in NORMALISATIONS:
            raise ValueError(f"normalisation must be one of {tuple(NORMALISATIONS)}, got {normalisation!r}")
        self.normalisation = normalisation
        pattern, ignore_case = _PATTERNS[normalisation]
        self._pattern = regex.compile(pattern, regex.IGNORECASE if ignore_case else 0)
        if normalisation == "hf":  # transformers' special-token spelling
            self.encoder["<|startoftext|>"], self.encoder["<|endoftext|>"] = self.sot_id, self.eot_id
        self._cache = {_SOT: [self.sot_id], _EOT: [self.eot_id]} if normalisation == "openai" else \
            {"<|startoftext|>": [self.sot_id], "<|endoftext|>": [self.eot_id]}

    # ------------------------------------------------------------------
    def _bpe(self, word: str) -> list:
        """BPE ids of one pre-token (already mapped to the byte alphabet)."""
        if word in self._cache:
            return self._cache[word]
        parts = [*word[:-1], word[-1] + "</w>"]
        while len(parts) > 1:
            # the adjacent pair with the lowest merge rank; stop when none is a merge
            best, best_rank = None, None
            for pair in zip(parts, parts[1:]):
                rank = self.ranks.get(pair)
                if rank is not None and (best_rank is None or rank < best_rank):
                    best, best_rank = pair, rank
            if best is None:
                break
            merged, i = [], 0
            while i < len(parts):  # merge every occurrence, left to right
                if i < len(parts) - 1 and (parts[i], parts[i + 1]) == best:
                    merged.append(parts[i] + parts[i + 1])
                    i += 2
                else:
                    merged.append(parts[i])
                    i += 1
            parts = merged
        ids = [self.encoder[p] for p in parts]
        if len(self._cache) < 100_000:
            self._cache[word] = ids
        return ids

    def encode(self, text: str) -> list:
        """BPE ids of ``text`` after :func:`normalize`, without start/end tokens."""
        if not isinstance(text, str):
            raise TypeError(f"a prompt must be a str, got {type(text).__name__}")
        ids = []
        for token in self._pattern.findall(normalize(text, normalisation=self.normalisation)):
            ids.extend(self._bpe("".join(self.byte_encoder[b] for b in token.encode("utf-8"))))
        return ids

    def __call__(self, texts, *, context_length: int = CONTEXT_LENGTH, truncation: str = "keep-end"):
        """Token ids of ``texts`` and the report.

        Parameters
        ----------
        texts : str or sequence of str
        context_length : int
            77 for every OpenAI CLIP.
        truncation : {"keep-end", "torchmetrics", "error"}
            See the module docstring (:data:`TRUNCATIONS`).

        Returns
        -------
        ids : torch.LongTensor
            ``N x context_length``, zero-padded.
        report : TokenizerReport

        Raises
        ------
        ValueError
            Unknown ``truncation``; an over-long prompt with ``truncation="error"``.
        """
        import torch

        from genmetrics_nb.util.checks import check_choice, check_int

        truncation = check_choice(truncation, name="truncation", choices=tuple(TRUNCATIONS))
        context_length = check_int(context_length, name="context_length", minimum=2)
        if isinstance(texts, str):
            texts = [texts]
        texts = list(texts)
        framed = [[self.sot_id, *self.encode(t), self.eot_id] for t in texts]
        long = [i for i, f in enumerate(framed) if len(f) > context_length]
        if long and truncation == "error":
            i = long[0]
            raise ValueError(
                f"prompt {i} ({texts[i][:60]!r}...) has {len(framed[i])} tokens, more than context_length="
                f"{context_length}; shorten it or pass truncation='keep-end' (OpenAI's truncate=True)"
            )
        ids = torch.zeros(len(texts), context_length, dtype=torch.long)
        for i, f in enumerate(framed):
            if len(f) > context_length:
                f = f[:context_length]
                if truncation == "keep-end":
                    f[-1] = self.eot_id
            ids[i, :len(f)] = torch.tensor(f, dtype=torch.long)
        report = TokenizerReport(
            vocab_sha256=self.vocab_sha256, vocab_source=self.vocab_source,
            normalisation=NORMALISATIONS[self.normalisation],
            context_length=context_length, truncation=truncation, truncation_rule=TRUNCATIONS[truncation],
            n_prompts=len(texts), n_truncated=len(long), truncated=tuple(long),
            truncated_prompts=tuple(texts[i] for i in long), n_tokens=tuple(len(f) for f in framed),
        )
        return ids, report


_DEFAULT: dict = {}


def get_tokenizer(vocab=None, *, expected_sha256: str | None = VOCAB_SHA256,
                  normalisation: str = "openai") -> CLIPTokenizer:
    """A :class:`CLIPTokenizer`; those over open_clip's vocabulary are built once and reused."""
    if vocab is not None or expected_sha256 != VOCAB_SHA256:
        return CLIPTokenizer(vocab, expected_sha256=expected_sha256, normalisation=normalisation)
    if normalisation not in _DEFAULT:
        _DEFAULT[normalisation] = CLIPTokenizer(normalisation=normalisation)
    return _DEFAULT[normalisation]


def clip_tokenize(texts, *, context_length: int = CONTEXT_LENGTH, truncation: str = "keep-end", vocab=None,
                  expected_sha256: str | None = VOCAB_SHA256, normalisation: str = "openai"):
    """Token ids of prompts for OpenAI / open_clip CLIP text towers, with a report.

    Parameters
    ----------
    texts : str or sequence of str
    context_length : int
        77 for every OpenAI CLIP.
    truncation : {"keep-end", "torchmetrics", "error"}
        ``"keep-end"`` (default) equals open_clip's ``tokenize`` and OpenAI's
        ``clip.tokenize(truncate=True)``; ``"torchmetrics"`` drops the end
        token of over-long prompts as torchmetrics does (for reproducing its
        numbers only); ``"error"`` refuses them.
    vocab : path-like, optional
        ``bpe_simple_vocab_16e6.txt.gz`` (default: open_clip's copy).
    expected_sha256 : str or None
        Required sha256 of ``vocab`` (default: the published file's).
    normalisation : {"openai", "hf"}
        ``"openai"`` (default): ftfy, HTML unescaping twice, whitespace, lower
        case, as OpenAI and open_clip. ``"hf"``: NFC, whitespace, lower case,
        as transformers' fast ``CLIPTokenizer`` (PickScore, torchmetrics);
        curly quotes, ligatures, full-width letters and HTML entities then give
        other ids.

    Returns
    -------
    ids : torch.LongTensor
        ``N x context_length``.
    report : TokenizerReport
        Vocabulary hash and origin, normalisation, context length, truncation
        rule, the truncated prompts.

    References
    ----------
    .. [1] open_clip ``src/open_clip/tokenizer.py`` (``tokenize``); OpenAI
       ``clip/clip.py`` (``tokenize``). See :mod:`genmetrics_nb.extractors.clip_tokenizer`.

    Examples
    --------
    >>> ids, report = clip_tokenize(["a photo of a cat"])
    >>> ids[0, :7].tolist()
    [49406, 320, 1125, 539, 320, 2368, 49407]
    >>> report.n_truncated
    0
    """
    tok = get_tokenizer(vocab, expected_sha256=expected_sha256, normalisation=normalisation)
    return tok(texts, context_length=context_length, truncation=truncation)
