"""Write the synthetic corpus: a raw lslm dataset folder that `prepare_dataset.py --format lslm` reads.

    DIR/manifest.jsonl   {"id", "motion": "motion/<id>.npz", "text", "gloss", "split", "signer", "fps"}
    DIR/motion/<id>.npz  global_orient (T, 3), body_pose (T, 63), left/right_hand_pose (T, 45),
                         transl (T, 3) float32, fps (scalar), rest_offsets (52, 3) float32
    DIR/corpus.json      size, seed, version, lexicon, grammar, splits, signers, test statistics

Splits hold out both sentences and signers: val and test clips are performed by signers that never
appear in train, and their sentences (neither the English text nor the gloss sequence) never occur in
train; every sign they use does. Same seed → byte-identical files.
"""
from __future__ import annotations

import json
import math
import multiprocessing
import os
from collections.abc import Iterable
from dataclasses import asdict
from pathlib import Path

import numpy as np

from lslm.atomic import atomic_save_npz as save_npz
from lslm.atomic import atomic_write_text
from lslm.data.synthetic.grammar import RULE_WEIGHTS, RULES, Sentence, random_sentence
from lslm.data.synthetic.lexicon import (
    HANDSHAPES,
    LOCATIONS,
    MOVEMENTS,
    ORIENTATIONS,
    Sign,
    build_lexicon,
    lexicon_table,
)
from lslm.data.synthetic.motion import FPS, Signer, sample_signer, synthesize
from lslm.errors import InvalidInputError
from lslm.motion import default_rest_skeleton

VERSION = "1.0"
# Clips per split; train sentences are performed by ~1.5 signers on average, val/test once each.
SIZES = {"tiny": {"train": 44, "val": 8, "test": 8},
         "small": {"train": 400, "val": 50, "test": 50},
         "default": {"train": 2400, "val": 300, "test": 300},
         "large": {"train": 7200, "val": 300, "test": 300}}  # 3x the training sentences (issue 16's lever)
SIGNERS = {"train": 8, "val": 2, "test": 2}
TRAIN_REPEATS = 1.5


def _sentence_pool(rng: np.random.Generator, needed: int) -> list[Sentence]:
    """Distinct sentences (no repeated English text, no repeated gloss sequence), in draw order."""
    pool, texts, glosses = [], set(), set()
    for _ in range(needed * 20):
        sentence = random_sentence(rng)
        if sentence.text not in texts and sentence.gloss not in glosses:
            pool.append(sentence)
            texts.add(sentence.text)
            glosses.add(sentence.gloss)
            if len(pool) == needed:
                break
    return pool


def grammar_sentences(count: int, seed: int, exclude: Iterable[str] = ()) -> list[Sentence]:
    """`count` distinct sentences of the grammar (no repeated English text or gloss sequence), none of
    whose English text or space-joined gloss is in `exclude` (pass the val and test sentences: text for
    a language model that must never have seen them). Drawn from their own stream, seeded by `seed`."""
    exclude = set(exclude)
    rng = np.random.default_rng([seed, 7])
    out, texts, glosses = [], set(), set()
    for _ in range(count * 20):
        sentence = random_sentence(rng)
        gloss = " ".join(sentence.gloss)
        if sentence.text in texts or gloss in glosses or sentence.text in exclude or gloss in exclude:
            continue
        out.append(sentence)
        texts.add(sentence.text)
        glosses.add(gloss)
        if len(out) == count:
            return out
    raise RuntimeError(f"the grammar gave only {len(out)} new distinct sentences in {count * 20} draws")


def grammar_sentences_for(rows: Iterable[dict], split: str, count: int, seed: int) -> list[Sentence]:
    """`count` grammar sentences to train on beside the `split` clips of a manifest (`rows`): none is
    the English text or the gloss of a clip of any other split, which must stay unseen."""
    unseen = {v for r in rows if r["split"] != split for v in (r.get("text"), r.get("gloss")) if v}
    return grammar_sentences(count, seed, exclude=unseen)


def split_sentences(rng: np.random.Generator, counts: dict[str, int],
                    vocabulary: list[str]) -> dict[str, list[Sentence]]:
    """Train sentences first (covering as much of the vocabulary as they can), then val and test
    sentences drawn from the rest of the pool whose every sign occurs in train."""
    n_train = math.ceil(counts["train"] / TRAIN_REPEATS)
    pool = _sentence_pool(rng, n_train + max(6 * (counts["val"] + counts["test"]), 3000))
    chosen, covered = [], set()  # pool indices of train sentences, the signs they use
    for gloss in rng.permutation(vocabulary):  # coverage: one sentence for each still unseen sign
        if len(chosen) >= n_train // 2:
            break
        if gloss not in covered:
            pick = next((i for i, s in enumerate(pool) if gloss in s.gloss and i not in chosen), None)
            if pick is not None:
                chosen.append(pick)
                covered.update(pool[pick].gloss)
    remaining = [i for i in range(len(pool)) if i not in set(chosen)]
    fill = n_train - len(chosen)
    train = [pool[i] for i in chosen + remaining[:fill]]
    rest = [pool[i] for i in remaining[fill:]]
    known = {g for s in train for g in s.gloss}
    held_out = [s for s in rest if set(s.gloss) <= known]
    need = counts["test"] + counts["val"]
    if len(held_out) < need:
        raise RuntimeError(f"only {len(held_out)} held-out sentences use train signs only; need {need}")
    return {"train": train, "val": held_out[counts["test"]:need], "test": held_out[:counts["test"]]}


def plan_corpus(size: str = "default", seed: int = 0) -> dict:
    """Everything but the motion: lexicon, signers, and the clip list (id, split, sentence, signer)."""
    if size not in SIZES:
        raise InvalidInputError(None, "size", f"one of {tuple(SIZES)}", got=size)
    counts = SIZES[size]
    lexicon = build_lexicon(seed)
    rest = default_rest_skeleton()
    signer_rng = np.random.default_rng([seed, 1])
    signers, names = {}, iter(f"S{i:02d}" for i in range(1, 1 + sum(SIGNERS.values())))
    for split, n in SIGNERS.items():
        signers[split] = [sample_signer(signer_rng, next(names), rest) for _ in range(n)]
    sentences = split_sentences(np.random.default_rng([seed, 2]), counts, list(lexicon))
    assign_rng = np.random.default_rng([seed, 3])
    clips = []
    for split, split_sentences_ in sentences.items():
        # Each sentence once, then (train) repeats by other signers until the clip count is reached.
        order = list(range(len(split_sentences_)))
        order += list(assign_rng.choice(len(split_sentences_), counts[split] - len(order), replace=True)) \
            if counts[split] > len(order) else []
        for k, i in enumerate(order[:counts[split]]):
            signer = signers[split][(k + int(assign_rng.integers(len(signers[split])))) % len(signers[split])]
            clips.append({"id": f"{split}_{k:05d}", "split": split, "sentence": split_sentences_[i],
                          "signer": signer})
    return {"size": size, "seed": seed, "lexicon": lexicon, "signers": signers, "sentences": sentences,
            "clips": clips}


def _make_clip(job: tuple) -> None:
    path, signs, signer, seed, index = job
    params = synthesize(signs, signer, np.random.default_rng([seed, 4, index]))
    save_npz(path, {**params, "fps": np.float32(FPS), "rest_offsets": signer.offsets.astype(np.float32)})


def _statistics(sentences: dict[str, list[Sentence]]) -> dict:
    """How new the held-out sentences are relative to train."""
    train_pairs = {p for s in sentences["train"] for p in zip(s.gloss, s.gloss[1:])}
    train_bags = {frozenset(s.gloss) for s in sentences["train"]}
    train_signs = {g for s in sentences["train"] for g in s.gloss}
    out = {}
    for split in ("val", "test"):
        held = sentences[split]
        out[split] = {
            "sentences": len(held),
            "unseen_sentences": sum(s.gloss not in {t.gloss for t in sentences["train"]} for s in held),
            "all_signs_in_train": sum(set(s.gloss) <= train_signs for s in held),
            "with_unseen_sign_pair": sum(any(p not in train_pairs for p in zip(s.gloss, s.gloss[1:]))
                                         for s in held),
            "unseen_sign_set": sum(frozenset(s.gloss) not in train_bags for s in held),
        }
    return out


def generate_corpus(out: str | Path, size: str = "default", seed: int = 0, workers: int | None = None) -> dict:
    """Write the corpus to `out` and return the summary that is also saved as corpus.json."""
    out = Path(out)
    plan = plan_corpus(size, seed)
    (out / "motion").mkdir(parents=True, exist_ok=True)
    jobs, rows = [], []
    for index, clip in enumerate(plan["clips"]):
        sentence, signer = clip["sentence"], clip["signer"]
        motion = f"motion/{clip['id']}.npz"
        jobs.append((out / motion, [plan["lexicon"][g] for g in sentence.gloss], signer, seed, index))
        rows.append({"id": clip["id"], "motion": motion, "text": sentence.text, "gloss": " ".join(sentence.gloss),
                     "split": clip["split"], "signer": signer.name, "fps": FPS})
    workers = min(os.cpu_count() or 1, 4) if workers is None else workers
    if workers > 1 and len(jobs) > 50:
        with multiprocessing.get_context("fork" if os.name == "posix" else "spawn").Pool(workers) as pool:
            for _ in pool.imap_unordered(_make_clip, jobs, chunksize=16):
                pass
    else:
        for job in jobs:
            _make_clip(job)
    atomic_write_text(out / "manifest.jsonl", "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    summary = {
        "name": "lslm-synthetic", "version": VERSION, "size": size, "seed": seed, "fps": FPS,
        "clips": len(rows),
        "splits": {split: {"clips": sum(r["split"] == split for r in rows),
                           "sentences": len(plan["sentences"][split]),
                           "signers": [s.name for s in plan["signers"][split]]}
                   for split in SIGNERS},
        "held_out": _statistics(plan["sentences"]),
        "signers": {s.name: {k: v for k, v in asdict(s).items() if k not in ("name", "offsets")}
                    for split in SIGNERS for s in plan["signers"][split]},
        "grammar": {"rules": RULES, "rule_weights": RULE_WEIGHTS},
        "phonology": {"handshapes": HANDSHAPES, "locations": {k: {"landmark": v[0], "offset": list(v[1])}
                                                             for k, v in LOCATIONS.items()},
                      "movements": list(MOVEMENTS), "orientations": {k: list(v) for k, v in ORIENTATIONS.items()}},
        "lexicon": lexicon_table(plan["lexicon"]),
    }
    atomic_write_text(out / "corpus.json", json.dumps(summary, indent=1, ensure_ascii=False) + "\n")
    return summary


__all__ = ["SIZES", "Sign", "Signer", "generate_corpus", "grammar_sentences", "plan_corpus", "save_npz",
           "split_sentences"]
