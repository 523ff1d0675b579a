"""BERT's uncased WordPiece tokenizer (bert-base-uncased), as BLIP and ImageReward tokenise prompts.

Written here from the published algorithm (Devlin et al. 2019; google-research/bert
``tokenization.py``), so that no transformers version decides the ids: clean the
text (drop NUL, U+FFFD and control characters, whitespace to spaces), put
spaces around CJK ideographs, NFC-normalise, split on whitespace, lower-case,
strip accents (NFD, drop combining marks), split off punctuation, then
greedy longest-match-first WordPiece over ``vocab.txt`` with ``##``
continuations (words over 100 characters, or with no match, become
``[UNK]``). Sequences are ``[CLS] ... [SEP]``, truncated to ``max_length``
(the end ``[SEP]`` kept) and padded with ``[PAD]`` (id 0); tokens
``[DEC]`` and ``[ENC]`` follow the vocabulary, as BLIP's ``init_tokenizer`` adds them.
"""
from __future__ import annotations

import dataclasses
import hashlib
import os
import unicodedata
from pathlib import Path

__all__ = ["BertTokenizerReport", "BertWordPiece"]

_MAX_WORD = 100


def _is_whitespace(ch: str) -> bool:
    return ch in " \t\n\r" or unicodedata.category(ch) == "Zs"


def _is_control(ch: str) -> bool:
    if ch in "\t\n\r":
        return False
    return unicodedata.category(ch).startswith("C")


def _is_punctuation(ch: str) -> bool:
    cp = ord(ch)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True  # all non-alphanumeric ASCII counts as punctuation, as in BERT
    return unicodedata.category(ch).startswith("P")


def _is_cjk(cp: int) -> bool:
    return (0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0x20000 <= cp <= 0x2A6DF
            or 0x2A700 <= cp <= 0x2B73F or 0x2B740 <= cp <= 0x2B81F or 0x2B820 <= cp <= 0x2CEAF
            or 0xF900 <= cp <= 0xFAFF or 0x2F800 <= cp <= 0x2FA1F)


@dataclasses.dataclass(frozen=True)
class BertTokenizerReport:
    """What the tokenizer did to a list of prompts.

    Attributes
    ----------
    vocab_sha256 : str
    max_length : int
        Tokens per sequence including ``[CLS]`` and ``[SEP]``.
    n_prompts, n_truncated : int
    truncated : tuple of int
        Indices of the prompts cut.
    truncated_prompts : tuple of str
    max_tokens : int
        Longest prompt in tokens (with ``[CLS]`` and ``[SEP]``).
    """

    vocab_sha256: str
    max_length: int
    n_prompts: int
    n_truncated: int
    truncated: tuple
    truncated_prompts: tuple
    max_tokens: int
    normalisation: str = ("BERT basic tokenizer, uncased: clean text, CJK spacing, NFC, lower-case, strip accents, "
                          "punctuation split; WordPiece")
    truncation: str = "keep-end"

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def fingerprint(self) -> dict:
        return {"vocab_sha256": self.vocab_sha256, "normalisation": self.normalisation,
                "context_length": self.max_length, "truncation": self.truncation}


class BertWordPiece:
    """bert-base-uncased's tokenizer over the user's ``vocab.txt``.

    Parameters
    ----------
    vocab : path-like
        ``vocab.txt``, one token per line (id = line number).
    extra_tokens : sequence of str
        Special tokens added after the vocabulary (BLIP: ``[DEC]``, ``[ENC]``).
    """

    def __init__(self, vocab, *, extra_tokens=("[DEC]", "[ENC]")):
        path = Path(os.fspath(vocab))
        if not path.is_file():
            raise ValueError(f"vocab={str(path)!r} is not a file; pass bert-base-uncased's vocab.txt")
        data = path.read_bytes()
        self.sha256 = hashlib.sha256(data).hexdigest()
        self.vocab = {}
        for i, line in enumerate(data.decode("utf-8").split("\n")):
            tok = line.rstrip("\r")
            if tok:
                self.vocab[tok] = i  # a repeated token keeps its last line, as BERT's load_vocab
        for t in extra_tokens:
            if t not in self.vocab:
                self.vocab[t] = len(self.vocab)
        for t in ("[CLS]", "[SEP]", "[PAD]", "[UNK]"):
            if t not in self.vocab:
                raise ValueError(f"vocab={str(path)!r} has no {t} token; pass bert-base-uncased's vocab.txt")
        self.cls, self.sep, self.pad, self.unk = (self.vocab[t] for t in ("[CLS]", "[SEP]", "[PAD]", "[UNK]"))
        self.special = {"[CLS]", "[SEP]", "[PAD]", "[UNK]", "[MASK]", *extra_tokens}

    # -- basic tokenizer -------------------------------------------------
    def _basic(self, text: str) -> list:
        out = []
        for ch in text:
            cp = ord(ch)
            if cp == 0 or cp == 0xFFFD or _is_control(ch):
                continue
            if _is_whitespace(ch):
                out.append(" ")
            elif _is_cjk(cp):
                out.append(f" {ch} ")
            else:
                out.append(ch)
        text = unicodedata.normalize("NFC", "".join(out))
        words = []
        for w in text.strip().split():
            if w in self.special:  # special tokens are never split or lower-cased
                words.append(w)
                continue
            w = "".join(c for c in unicodedata.normalize("NFD", w.lower()) if unicodedata.category(c) != "Mn")
            cur = []
            for ch in w:
                if _is_punctuation(ch):
                    if cur:
                        words.append("".join(cur))
                        cur = []
                    words.append(ch)
                else:
                    cur.append(ch)
            if cur:
                words.append("".join(cur))
        return words

    def _wordpiece(self, word: str) -> list:
        if word in self.special:
            return [word]
        if len(word) > _MAX_WORD:
            return ["[UNK]"]
        pieces, start = [], 0
        while start < len(word):
            end = len(word)
            found = None
            while start < end:
                sub = word[start:end] if start == 0 else "##" + word[start:end]
                if sub in self.vocab:
                    found = sub
                    break
                end -= 1
            if found is None:
                return ["[UNK]"]
            pieces.append(found)
            start = end
        return pieces

    def tokenize(self, text: str) -> list:
        """WordPiece tokens of ``text`` (no ``[CLS]``/``[SEP]``)."""
        return [p for w in self._basic(text) for p in self._wordpiece(w)]

    def __call__(self, prompts, *, max_length: int = 35):
        """``ids``, ``attention_mask`` (``N x max_length`` int64 tensors) and a :class:`BertTokenizerReport`."""
        import torch

        ids = torch.full((len(prompts), max_length), self.pad, dtype=torch.int64)
        mask = torch.zeros((len(prompts), max_length), dtype=torch.int64)
        cut, longest = [], 0
        for i, p in enumerate(prompts):
            toks = [self.vocab.get(t, self.unk) for t in self.tokenize(p)]
            longest = max(longest, len(toks) + 2)
            if len(toks) > max_length - 2:
                cut.append(i)
                toks = toks[:max_length - 2]
            row = [self.cls, *toks, self.sep]
            ids[i, :len(row)] = torch.tensor(row)
            mask[i, :len(row)] = 1
        report = BertTokenizerReport(self.sha256, max_length, len(prompts), len(cut), tuple(cut),
                                     tuple(prompts[i] for i in cut), longest)
        return ids, mask, report
