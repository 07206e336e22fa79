"""Recognition instruments: gloss WER and misread parameters (hand-computed cases), the CTC probe (it reads
informative vectors and fails on uninformative ones), its vector sources (consistent with the tokenizer),
and the lexicon of a real synthetic corpus."""
from __future__ import annotations

import json

import pytest
import torch

from lslm.errors import InvalidInputError
from lslm.eval.probe import (GlossVocab, ProbeConfig, SignReader, clip_vectors, ctc_greedy, kernel_size, read_signs,
                             train_reader)
from lslm.eval.recognition import differing_parameters, load_lexicon, score_glosses


def _sign(handshape="flat", location="chin", movement="tap", orientation="palm_in", hands="one", base=None):
    return {"handshape": handshape, "location": location, "movement": movement, "orientation": orientation,
            "hands": hands, "base_handshape": base}


LEXICON = {"HOUSE": _sign(), "STORE": _sign(handshape="fist"), "CAR": _sign("V", "neutral", "circle", "palm_up"),
           "TABLE": _sign(hands="base", base="flat"), "CHAIR": _sign(hands="base", base="fist"), "I": _sign("index")}


def test_gloss_wer_and_misread_parameters_hand_computed():
    refs = ["I HOUSE CAR", "TABLE STORE I", "STORE"]
    preds = ["I STORE CAR I", "CHAIR STORE", "STORE"]
    # (each alignment is the only one of least cost) clip 0: HOUSE→STORE (handshape), I inserted;
    # clip 1: TABLE→CHAIR (base hand), I deleted; clip 2 exact
    s = score_glosses(preds, refs, ids=["a", "b", "c"], signers=["S1", "S2", "S1"], lexicon=LEXICON)
    assert (s["substitutions"], s["insertions"], s["deletions"], s["ref_signs"]) == (2, 1, 1, 7)
    assert s["wer"] == pytest.approx(100 * 4 / 7)
    assert s["sentence_accuracy"] == pytest.approx(100 / 3)
    assert s["per_signer"] == {"S1": {"clips": 2, "ref_signs": 4, "wer": 50.0},
                               "S2": {"clips": 1, "ref_signs": 3, "wer": pytest.approx(200 / 3)}}
    m = s["misread"]
    assert m["substitutions"] == 2 and m["unknown"] == 0
    assert {p: v["count"] for p, v in m["parameters"].items()} == {
        "handshape": 1, "location": 0, "movement": 0, "orientation": 0, "hands": 1}
    assert m["parameters"]["handshape"]["share"] == 50.0
    assert m["differing"] == {"1": 2}
    assert {(c["true"], c["read"]): c["differ"] for c in m["top_confusions"]} == {
        ("HOUSE", "STORE"): ["handshape"], ("TABLE", "CHAIR"): ["hands"]}
    most = {r["gloss"]: (r["occurrences"], r["errors"]) for r in m["most_misread"]}
    assert most == {"HOUSE": (1, 1), "TABLE": (1, 1), "I": (2, 1)}
    assert [r["errors"] for r in s["per_sample"]] == [2, 2, 0]


def test_empty_and_unknown_readings():
    s = score_glosses(["", "HOUSE BANANA"], ["HOUSE CAR", "HOUSE CAR"], lexicon=LEXICON)
    assert (s["deletions"], s["substitutions"], s["wer"]) == (2, 1, 75.0)
    assert s["misread"]["unknown"] == 1 and s["misread"]["substitutions"] == 1
    assert "per_signer" not in s
    with pytest.raises(InvalidInputError):
        score_glosses(["HOUSE"], ["HOUSE", "CAR"])
    with pytest.raises(InvalidInputError):
        score_glosses(["HOUSE"], [""])


def test_differing_parameters_counts_every_parameter():
    assert differing_parameters(LEXICON["HOUSE"], LEXICON["CAR"]) == ["handshape", "location", "movement",
                                                                       "orientation"]
    assert differing_parameters(LEXICON["HOUSE"], LEXICON["HOUSE"]) == []


def test_lexicon_of_a_synthetic_corpus(synthetic_tiny):
    from lslm.data.synthetic import build_lexicon

    corpus = json.loads((synthetic_tiny.parent / "raw" / "corpus.json").read_text())
    lexicon = load_lexicon(synthetic_tiny.parent / "raw" / "corpus.json")
    signs = build_lexicon(corpus["seed"])
    assert len(corpus["lexicon"]) == 216 and len(lexicon) == len(signs) == 215  # CLEAN: verb and adjective
    for gloss, sign in signs.items():  # the stored table is the generator's lexicon
        assert lexicon[gloss] == {k: getattr(sign, k) for k in lexicon[gloss]}


def test_ctc_greedy_merges_repeats_and_drops_blanks():
    best = [0, 3, 3, 0, 3, 1, 1, 0]
    log_probs = torch.nn.functional.one_hot(torch.tensor(best), 4).float().log()
    assert ctc_greedy(log_probs, 8) == [3, 3, 1]
    assert ctc_greedy(log_probs, 3) == [3]


def _toy_clips(informative: bool, n: int = 96, seed: int = 0):
    """Clips of 2-4 signs from 6, each sign 3 steps of its own direction plus noise (or pure noise)."""
    g = torch.Generator().manual_seed(seed)
    directions = torch.randn(6, 8, generator=g)
    vectors, labels = [], []
    for _ in range(n):
        signs = torch.randint(1, 7, (int(torch.randint(2, 5, (1,), generator=g)),), generator=g).tolist()
        steps = [directions[s - 1] for s in signs for _ in range(3)]
        x = torch.stack(steps) + 0.3 * torch.randn(len(steps), 8, generator=g)
        vectors.append(x if informative else torch.randn(len(steps), 8, generator=g))
        labels.append(signs)
    return vectors, labels


@pytest.mark.parametrize("informative", [True, False])
def test_probe_reads_what_the_vectors_carry(informative):
    vectors, labels = _toy_clips(informative)
    cfg = ProbeConfig(hidden=32, layers=2, context_frames=16, dropout=0.0, steps=150, batch_size=16, lr=1e-2)
    reader = train_reader(vectors[:64], labels[:64], 6, cfg)                   # kernel 5 at 4 frames per vector
    vocab = GlossVocab(list("ABCDEF"))
    readings = [vocab.decode(r) for r in read_signs(reader, vectors[64:], batch_size=7)]
    wer = score_glosses(readings, [vocab.decode(lab) for lab in labels[64:]])["wer"]
    assert wer < 15 if informative else wer > 50  # measured: 9 and 87


def test_probe_kernel_sizes_hand_computed():
    cfg = ProbeConfig()                                                        # ±24 frames, 3 layers
    assert [kernel_size(cfg, f) for f in (1, 2, 4, 8, 16)] == [17, 9, 5, 3, 3]
    assert kernel_size(ProbeConfig(layers=2, context_frames=16), 4) == 5
    for bad in (ProbeConfig(context_frames=0), ProbeConfig(layers=0)):
        with pytest.raises(InvalidInputError):
            kernel_size(bad, 4)
    with pytest.raises(InvalidInputError):
        kernel_size(cfg, 0)


@pytest.mark.parametrize("frames_per_vector", [2, 4])
def test_probe_window_is_the_same_stretch_of_frames_at_every_rate(frames_per_vector):
    """Which inputs reach the middle output: ±24 frames (±12 vectors at 2 frames each, ±6 at 4), no more."""
    torch.manual_seed(0)
    reader = SignReader(8, 5, ProbeConfig(dropout=0.0), frames_per_vector).eval()
    x = torch.randn(1, 61, 8, requires_grad=True)
    reader(x, torch.tensor([61]))[0, 30].sum().backward()
    reached = (x.grad[0].abs().sum(-1) > 0).nonzero().flatten()
    half = 24 // frames_per_vector
    assert reached.tolist() == list(range(30 - half, 30 + half + 1))


@pytest.fixture(scope="module")
def tiny_tokenizer(synthetic_tiny):
    """A random VQ-VAE (16 codes of dimension 16) with the tiny corpus' statistics."""
    from lslm.data import MotionDataset
    from lslm.tokenizer import VQVAE, Tokenizer, TokenizerConfig

    torch.manual_seed(0)
    vq = VQVAE(TokenizerConfig(width=32, code_dim=16, codebook_size=16, depth=1))
    with torch.no_grad():
        vq.quantizer.codebook.copy_(torch.randn(16, 16))
    data = MotionDataset(synthetic_tiny, split="train")
    return Tokenizer(vq, data.normalizer, data.target_skeleton, data.fps)


def test_probe_vector_sources_match_the_tokenizer(synthetic_tiny, tiny_tokenizer):
    from lslm.data import MotionDataset

    tok = tiny_tokenizer
    latents, codes, features = (clip_vectors(tok, synthetic_tiny, "test", s, batch_size=3)
                                for s in ("latents", "codes", "features"))
    ds = MotionDataset(synthetic_tiny, split="test", normalize=False)
    assert latents.ids == codes.ids == features.ids == [r["id"] for r in ds.records]
    assert latents.frames_per_vector == codes.frames_per_vector == features.frames_per_vector == tok.downsample == 4
    assert latents.signers == [r["signer"] for r in ds.records] and latents.glosses[0] == ds.records[0]["gloss"]
    for i in range(len(ds)):
        feats = ds[i]["features"]
        alone = tok.encode(feats)                                              # (L,): the clip on its own
        assert latents.vectors[i].shape == (len(alone), 16) == codes.vectors[i].shape
        assert torch.equal(tok.model.quantizer.nearest(latents.vectors[i][None])[0], alone)
        assert torch.equal(codes.vectors[i], tok.codebook[alone])
        x = tok.normalizer.normalize(feats)[: 4 * len(alone)]
        torch.testing.assert_close(features.vectors[i], x.reshape(len(alone), 4, -1).mean(1))
    with pytest.raises(InvalidInputError):
        clip_vectors(tok, synthetic_tiny, "test", "pixels")
