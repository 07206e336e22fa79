"""Markdown tables in the LSLM paper's layout and the vocabulary-bias analysis of *Can Small VLMs Translate
Sign Language to Spoken Language?* (§4.4.2)."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from lslm.checks import check_int
from lslm.eval.text import normalize

# LSLM paper tables 3/4/6/8. CIDEr is printed x100 there (MotionGPT/TM2T convention), as here.
PAPER_COLUMNS = (("BLEU@1", "bleu1", 1), ("BLEU@4", "bleu4", 1), ("ROUGE", "rouge_l", 1), ("CIDEr", "cider", 100),
                 ("WER", "wer", 1), ("Insertions", "ins", 1), ("Deletions", "del", 1))
ALL_COLUMNS = (("BLEU-1", "bleu1"), ("BLEU-2", "bleu2"), ("BLEU-3", "bleu3"), ("BLEU-4", "bleu4"), ("chrF", "chrf"),
               ("ROUGE-L", "rouge_l"), ("CIDEr-D", "cider"), ("METEOR", "meteor"), ("WER %", "wer"),
               ("sub/sent", "sub"), ("ins/sent", "ins"), ("del/sent", "del"), ("Distinct-2", "distinct2"),
               ("TSR", "tsr"), ("PGER", "pger"))


@dataclass
class RunResult:
    """One evaluated run: its label, optional LLM backbone name, corpus metrics and per-sample rows."""

    label: str
    corpus: dict
    per_sample: list[dict] = field(default_factory=list)
    backbone: str | None = None
    unavailable: dict[str, str] = field(default_factory=dict)


def _fmt(v, scale: float = 1, digits: int = 2) -> str:
    return "n/a" if v is None else f"{v * scale:.{digits}f}"


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in rows])


def paper_table(runs: list[RunResult]) -> str:
    """BLEU@1, BLEU@4, ROUGE, CIDEr, WER, insertions, deletions (tables 3/4); a Backbone column first when
    several runs name one (table 8)."""
    with_backbone = len(runs) > 1 and any(r.backbone for r in runs)
    header = (["Backbone"] if with_backbone else []) + ["Run"] + [f"{c}{'↓' if k in ('wer', 'ins', 'del') else '↑'}"
                                                               for c, k, _ in PAPER_COLUMNS]
    rows = [([r.backbone or "-"] if with_backbone else []) + [r.label] +
            [_fmt(r.corpus.get(k), s, 1) for _, k, s in PAPER_COLUMNS] for r in runs]
    note = ("\n\nBLEU, ROUGE-L and WER in percent; CIDEr is CIDEr-D x100; insertions and deletions are mean "
            "counts per sentence (docs/metrics.md).")
    return _table(header, rows) + note


def full_table(runs: list[RunResult]) -> str:
    """Every corpus metric, one row per run."""
    return _table(["Run"] + [c for c, _ in ALL_COLUMNS],
                  [[r.label] + [_fmt(r.corpus.get(k), 1, 3 if k in ("distinct2", "tsr", "pger", "cider") else 2)
                                for _, k in ALL_COLUMNS] for r in runs])


def motion_table(motion: dict) -> str:
    """A flat two-column table of motion metrics (nested dicts become dotted names)."""
    flat: dict[str, object] = {}

    def walk(prefix: str, d: dict) -> None:
        for k, v in d.items():
            if isinstance(v, dict):
                walk(f"{prefix}{k}.", v)
            else:
                flat[f"{prefix}{k}"] = v
    walk("", motion)
    return _table(["Motion metric", "Value"],
                  [[k, f"{v:.4g}" if isinstance(v, float) else str(v)] for k, v in flat.items()])


def worst_samples(per_sample: list[dict], k: int = 10) -> str:
    """The k samples with the lowest sentence chrF (WER when chrF was not computed)."""
    key, reverse = ("chrf", False) if per_sample and "chrf" in per_sample[0] else ("wer", True)
    if not per_sample or key not in per_sample[0]:
        return "(no sentence-level chrF or WER computed)"
    rows = sorted(per_sample, key=lambda r: (r[key], r["id"]), reverse=reverse)[:k]

    def esc(s: str | list[str]) -> str:
        return (s if isinstance(s, str) else " / ".join(s)).replace("|", "\\|")
    return _table(["id", key, "prediction", "reference"],
                  [[str(r["id"]), f"{r[key]:.1f}", esc(r["prediction"]), esc(r["reference"])] for r in rows])


def word_counts(texts: list[str]) -> Counter:
    """Counts of normalised words."""
    return Counter(w for t in texts for w in normalize(t).split())


def vocabulary_stats(counts: Counter) -> dict[str, int]:
    """The vocabulary statistics of *Can Small VLMs Translate Sign Language?* (table 6): tokens, unique
    tokens, tokens seen fewer than 10 times, more than 100 times."""
    return {"tokens": sum(counts.values()), "unique": len(counts),
            "freq_lt_10": sum(c < 10 for c in counts.values()), "freq_gt_100": sum(c > 100 for c in counts.values())}


def vocabulary_bias(predictions: list[str], test_references: list[str], train_references: list[str] | None = None,
                    top_k: int = 10) -> dict:
    """Vocabulary bias (*Can Small VLMs Translate Sign Language?* §4.4.2): the most frequent predicted words,
    and the most over-generated ones (predicted count minus test-reference count), each with its frequency
    per 1,000 words in predictions, test and train references."""
    check_int(top_k, None, "top_k", minimum=1)
    sets = {"pred": word_counts(predictions), "test": word_counts(test_references)}
    if train_references is not None:
        sets["train"] = word_counts(train_references)
    totals = {k: max(1, sum(c.values())) for k, c in sets.items()}

    def row(w: str) -> dict:
        out: dict[str, object] = {"word": w}
        for k, c in sets.items():
            out[f"{k}_count"] = c[w]
            out[f"{k}_per_1k"] = 1000 * c[w] / totals[k]
        return out

    pred, test = sets["pred"], sets["test"]
    top = sorted(pred, key=lambda w: (-pred[w], w))[:top_k]
    over = sorted((w for w in pred if pred[w] > test[w]), key=lambda w: (-(pred[w] - test[w]), w))[:top_k]
    return {"most_predicted": [row(w) for w in top], "over_generated": [row(w) for w in over],
            "stats": {k: vocabulary_stats(c) for k, c in sets.items()}}


def vocabulary_markdown(bias: dict) -> str:
    """The two word lists and the vocabulary statistics as Markdown."""
    sets = list(bias["stats"])
    header = ["word"] + [f"{s} count" for s in sets] + [f"{s} /1k" for s in sets]

    def rows(items: list[dict]) -> list[list[str]]:
        return [[r["word"]] + [str(r[f"{s}_count"]) for s in sets] + [f"{r[f'{s}_per_1k']:.1f}" for s in sets]
                for r in items]
    stats = _table(["set", "tokens", "unique", "freq < 10", "freq > 100"],
                   [[s] + [str(v) for v in st.values()] for s, st in bias["stats"].items()])
    return ("Most frequent predicted words\n\n" + _table(header, rows(bias["most_predicted"])) +
            "\n\nMost over-generated words (predicted count − test-reference count)\n\n" +
            _table(header, rows(bias["over_generated"])) + "\n\nVocabulary statistics\n\n" + stats)
