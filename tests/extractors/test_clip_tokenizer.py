"""CLIP's BPE tokenizer (genmetrics_nb.extractors.clip_tokenizer) against open_clip's.

Outside references: open_clip's ``tokenize`` (``open-clip-torch``, its
``SimpleTokenizer`` over the same vocabulary file) for the ids; the sha256 of
the vocabulary as recorded in /work/shared/research/t2i-eval-2026-12-07.md
(computed on the open_clip 3.3.0 wheel, the same git blob in openai/CLIP and
tgxs002/HPSv2); transformers' fast ``CLIPTokenizer`` for the normalisation it
lacks.
"""
from __future__ import annotations

import gzip
import hashlib

import pytest
import torch

import genmetrics_nb as gm
from genmetrics_nb.extractors import clip_tokenizer as ct

open_clip = pytest.importorskip("open_clip")

# One prompt per edge case the issue lists (curly quotes, ligatures, full-width
# letters, HTML entities, CJK, emoji, the empty string, over-long prompts), plus
# whitespace-only, mojibake ftfy repairs, digits and open_clip's special-token text.
EDGE_CASES = {
    "plain": "a photo of a cat",
    "curly quotes": "\u201cA dog\u201d in the \u2018rain\u2019 \u2014 isn\u2019t it?",
    "ligatures": "\ufb01ne \ufb02owers, \ufb00 and \ufb03",
    "full-width": "\uff21 \uff26\uff35\uff2c\uff2c\uff37\uff29\uff24\uff34\uff28 \uff43\uff41\uff54 \uff11\uff12\uff13",
    "html entities": "Tom &amp; Jerry &amp;amp; friends &lt;b&gt; &#39;quoted&#39; &eacute;t&eacute;",
    "cjk": "\u6771\u4eac\u306e\u591c\u666f\u3001\u732b\u304c\u5ea7\u3063\u3066\u3044\u308b",
    "emoji": "\U0001f431\U0001f680 a cat in space \U0001f44d\U0001f3fd \u2764\ufe0f",
    "empty": "",
    "whitespace": "  \t\n  ",
    "mojibake": "caf\u00c3\u00a9 cr\u00c3\u00a8me",
    "digits and case": "ViT-L/14@336px IN 2024, 3.14 MILES",
    "special text": "<end_of_text> x <start_of_text>",
    "long": "a very long prompt about a red fox jumping over the lazy dog " * 12,
    "exactly 77": " ".join(["cat"] * 75),
    "78 tokens": " ".join(["cat"] * 76),
}


@pytest.fixture(scope="module")
def tok():
    return ct.get_tokenizer()


def test_vocab_sha256_is_the_published_one():
    # the digest recorded in the research note for the open_clip 3.3.0 wheel; the
    # file is read from the wheel without importing open_clip
    path = ct.vocab_path()
    assert path.name == "bpe_simple_vocab_16e6.txt.gz"
    assert hashlib.sha256(path.read_bytes()).hexdigest() == ct.VOCAB_SHA256
    assert ct.VOCAB_SHA256 == "924691ac288e54409236115652ad4aa250f48203de50a9e4722a6ecd48d6804a"
    assert path.stat().st_size == 1_356_917


@pytest.mark.reference
@pytest.mark.parametrize("case", list(EDGE_CASES))
def test_ids_equal_open_clip(tok, case):
    text = EDGE_CASES[case]
    ids, report = tok([text])
    ref = open_clip.tokenize([text])
    assert ids.dtype == ref.dtype == torch.long and ids.shape == ref.shape == (1, 77)
    assert torch.equal(ids, ref), (ids[0][ids[0] > 0].tolist(), ref[0][ref[0] > 0].tolist())
    assert report.n_tokens[0] == len(open_clip.get_tokenizer("ViT-B-32").encode(text)) + 2


@pytest.mark.reference
def test_batch_equals_open_clip_and_the_vocabulary_is_open_clips(tok):
    texts = list(EDGE_CASES.values())
    ids, _ = tok(texts)
    assert torch.equal(ids, open_clip.tokenize(texts))
    peer = open_clip.SimpleTokenizer()
    assert tok.vocab_size == peer.vocab_size == 49408
    assert tok.encoder == peer.encoder
    assert (tok.sot_id, tok.eot_id) == (peer.sot_token_id, peer.eot_token_id) == (49406, 49407)


def test_long_prompts_keep_the_end_token_and_are_reported(tok):
    texts = [EDGE_CASES["plain"], EDGE_CASES["long"], EDGE_CASES["exactly 77"], EDGE_CASES["78 tokens"]]
    ids, report = tok(texts)
    assert report.n_tokens[2] == 77 and report.n_tokens[3] == 78  # "cat" is one token
    assert report.n_truncated == 2 and report.truncated == (1, 3)
    assert report.truncated_prompts == (texts[1], texts[3])
    assert ids[1, -1] == ids[3, -1] == tok.eot_id == ids[2, -1]
    # the end token is the row's largest id exactly once: what CLIP's argmax pooling finds
    assert int((ids[1] == tok.eot_id).sum()) == 1 and int(ids[1].argmax()) == 76


def test_torchmetrics_truncation_drops_the_end_token(tok):
    texts = [EDGE_CASES["plain"], EDGE_CASES["long"]]
    keep, _ = tok(texts)
    cut, report = tok(texts, truncation="torchmetrics")
    assert torch.equal(cut[0], keep[0])  # short prompts are untouched
    assert tok.eot_id not in cut[1].tolist() and int(cut[1].argmax()) != 76
    assert torch.equal(cut[1, :76], keep[1, :76])
    assert report.truncation == "torchmetrics" and "dropped" in report.truncation_rule


def test_error_truncation_and_bad_input(tok):
    with pytest.raises(ValueError, match="more than context_length=77.*truncation='keep-end'"):
        tok([EDGE_CASES["long"]], truncation="error")
    tok([EDGE_CASES["exactly 77"]], truncation="error")  # fits
    with pytest.raises(ValueError, match="truncation must be one of"):
        tok(["x"], truncation="drop-end")
    with pytest.raises(TypeError, match="prompt must be a str"):
        tok([3])


def test_report_records_the_protocol(tok):
    ids, report = gm.clip_tokenize(["a cat", "a dog"])
    assert ids.shape == (2, 77)
    d = report.to_dict()
    assert d["vocab_sha256"] == ct.VOCAB_SHA256 and "open_clip wheel" in d["vocab_source"]
    assert "ftfy.fix_text" in d["normalisation"] and "html.unescape twice" in d["normalisation"]
    assert d["context_length"] == 77 and d["truncation"] == "keep-end" and d["n_truncated"] == 0
    assert report.fingerprint() == {"vocab_sha256": ct.VOCAB_SHA256, "normalisation": ct.NORMALISATION,
                                    "context_length": 77, "truncation": "keep-end"}
    assert "0 of 2 prompts truncated" in str(report)


def test_user_vocab_is_checked(tmp_path):
    good = tmp_path / "bpe.txt.gz"
    good.write_bytes(ct.vocab_path().read_bytes())
    ids, report = gm.clip_tokenize(["a cat"], vocab=good)
    assert report.vocab_source == str(good) and torch.equal(ids, open_clip.tokenize(["a cat"]))
    lines = gzip.open(good).read().decode("utf-8").split("\n")
    bad = tmp_path / "other.txt.gz"
    bad.write_bytes(gzip.compress("\n".join(lines[:1] + lines[2:]).encode("utf-8")))
    with pytest.raises(ValueError, match="not CLIP's 924691ac.*expected_sha256=None"):
        ct.CLIPTokenizer(bad)
    with pytest.raises(ValueError, match="is not a file"):
        ct.CLIPTokenizer(tmp_path / "missing.gz")


def test_hf_fast_tokenizer_lacks_the_normalisation(tok):
    # transformers' CLIPTokenizer (tokenizers backend) normalises with NFC, whitespace
    # collapse and lower-casing only: no ftfy, no html.unescape. Built offline from the
    # same vocabulary, it agrees on plain prompts and differs on the edge cases.
    from genmetrics_nb.testing.clip_checkpoint import hf_clip_tokenizer

    hf = hf_clip_tokenizer()
    for case in ("plain", "digits and case"):
        text = EDGE_CASES[case]
        assert hf(text)["input_ids"] == tok([text])[0][0][: tok([text])[1].n_tokens[0]].tolist()
    for case in ("curly quotes", "ligatures", "full-width", "html entities"):
        text = EDGE_CASES[case]
        ours = tok([text])
        assert hf(text)["input_ids"] != ours[0][0][: ours[1].n_tokens[0]].tolist(), case


@pytest.mark.reference
@pytest.mark.parametrize("case", [c for c in EDGE_CASES if c != "special text"])
def test_hf_normalisation_equals_transformers(case):
    # normalisation="hf" reproduces transformers' fast CLIPTokenizer (truncation=True,
    # max_length=77 keeps the end token, as keep-end does); open_clip's special-token
    # spelling is left out (transformers spells them <|startoftext|>, <|endoftext|>)
    from genmetrics_nb.testing.clip_checkpoint import hf_clip_tokenizer

    hf = hf_clip_tokenizer()
    text = EDGE_CASES[case]
    ids, report = gm.clip_tokenize([text], normalisation="hf")
    want = hf(text, truncation=True, max_length=77)["input_ids"]
    assert ids[0][: len(want)].tolist() == want and int(ids[0][len(want):].abs().sum()) == 0
    assert "no ftfy" in report.normalisation


def test_hf_normalisation_differs_where_ftfy_acts():
    for case in ("curly quotes", "ligatures", "full-width", "html entities", "mojibake"):
        a = gm.clip_tokenize([EDGE_CASES[case]])[0]
        b = gm.clip_tokenize([EDGE_CASES[case]], normalisation="hf")[0]
        assert not torch.equal(a, b), case
    with pytest.raises(ValueError, match="normalisation must be one of"):
        gm.clip_tokenize(["x"], normalisation="nfkc")
