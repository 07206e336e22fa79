"""Scores of sign production (English → motion) against the reference clips of the same sentences.

    from lslm.eval.production import production_scores
    doc, rows = production_scores(produced_features, reference_features, sentences, tokenizer=producer.motion_tokenizer,
                                  translator=LSLM.from_pretrained("runs/demo/lslm/final"),
                                  evaluator=MotionEvaluator.from_pretrained("runs/demo/evaluator"))

Every score is computed for the produced motion and for two bounds on the same sentences, so each figure
has its frame (docs/metrics.md, "Sign production"):

    reconstruction   the tokenizer's reconstruction of the sentence's reference clip: the best motion its
                     codes can express (upper bound);
    other_sentence   the reference clip of another sentence of the split (a fixed random pairing): real
                     signing that says something else (lower bound).

Back-translation is also reported for the reference clips themselves: the goal of production is a
back-translation BLEU-4 close to what the same translator reaches on them.

- back-translation: a translator (an LSLM trained on motion → English, not the producer) reads each
  motion (raw features → its own tokenizer's codes → greedy text); BLEU-1/4, ROUGE-L and WER of that text
  against the input sentence, as `lslm.eval.text.score` computes them.
- DTW-MJE: dynamic time warping of the motion onto the reference clip with the mean joint error
  (root-relative, both bodies turned to face +Z at frame 0) as the frame cost; the accumulated cost of the
  best path divided by its length, in mm. Also after aligning bone lengths: every bone of the motion takes
  the reference's length (its median over frames), keeping its direction, so the figure is not the
  difference between two bodies.
- FID, diversity and R-precision with the sign motion evaluator (lslm.eval.evaluator): FID between the
  evaluator embeddings of the reference clips and of the motion set; diversity of the set; text retrieval
  from the set's motion among pools of 32 sentences.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from lslm.errors import InvalidInputError
from lslm.eval import motion as metrics
from lslm.motion import Skeleton, face_front, features_to_joints

if TYPE_CHECKING:
    from lslm.eval.evaluator import MotionEvaluator
    from lslm.model import LSLM
    from lslm.tokenizer import Tokenizer

MOTION_SETS = ("produced", "reconstruction", "other_sentence")
BACK_TRANSLATION_KEYS = ("bleu1", "bleu4", "rouge_l", "wer")
GOAL_RATIO = 0.8  # back-translation BLEU-4 of produced motion ≥ 80 % of the translator's on the reference clips
Features = Sequence[torch.Tensor | np.ndarray | None]


# ---- dynamic time warping -------------------------------------------------------------------------

def dtw(cost: Any) -> tuple[float, int]:
    """Dynamic time warping on a cost matrix (n, m): the smallest sum of costs along a path from (0, 0)
    to (n−1, m−1) in steps (1, 1), (1, 0), (0, 1), and the number of cells on that path (ties take the
    diagonal, then (1, 0), then (0, 1)).

    Row by row, each row in a few vector operations: with a[j] = c[i, j] + min(D[i−1, j−1], D[i−1, j]) (the
    steps into the row) and S the row's cumulative cost, D[i, j] = min over k ≤ j of a[k] + S[j] − S[k]
    (enter at k, then walk right) = S[j] + running minimum of a − S; the latest k on ties keeps the
    diagonal and vertical steps first."""
    c = np.asarray(cost, dtype=np.float64)
    if c.ndim != 2 or 0 in c.shape or not np.isfinite(c).all():
        raise InvalidInputError(None, "cost", "a finite matrix (n, m) with n, m >= 1", got=c.shape)
    n, m = c.shape
    columns = np.arange(m)
    above = np.full(m + 1, np.inf)  # D[i−1, j−1] for j = 0..m (column −1 is the start's left border)
    above[0] = 0.0
    above_cells = np.zeros(m + 1, dtype=np.int64)
    for i in range(n):
        diagonal, vertical = above[:-1], above[1:]  # (m,) D[i−1, j−1], D[i−1, j]
        take_diagonal = diagonal <= vertical
        a = c[i] + np.where(take_diagonal, diagonal, vertical)
        a_cells = np.where(take_diagonal, above_cells[:-1], above_cells[1:]) + 1
        walked = np.cumsum(c[i])
        entry = a - walked
        best = np.minimum.accumulate(entry)
        k = np.maximum.accumulate(np.where(entry == best, columns, 0))  # the latest entry at the minimum
        row = best + walked
        above = np.concatenate([[np.inf], row])
        above_cells = np.concatenate([[0], a_cells[k] + columns - k])
    return float(above[-1]), int(above_cells[-1])


def _joints(joints: Any, field: str) -> np.ndarray:
    x = np.asarray(joints, dtype=np.float64)
    if x.ndim != 3 or x.shape[-1] != 3 or x.shape[1] not in (22, 52) or len(x) < 1:
        raise InvalidInputError(None, field, "joints (T, 52, 3) or (T, 22, 3) with T >= 1", got=x.shape)
    if not np.isfinite(x).all():
        raise InvalidInputError(None, field, "finite values", got="NaN or inf")
    return x


def root_relative(joints: Any) -> np.ndarray:
    """Joints (T, J, 3) turned to face +Z at frame 0, minus the root (joint 0) of each frame."""
    out = face_front(_joints(joints, "joints"))
    return out - out[:, :1]


def frame_distances(pred: Any, ref: Any) -> np.ndarray:
    """(n, m) mean joint distance in metres between frame i of `pred` (n, J, 3) and frame k of `ref`
    (m, J, 3), both root-relative (`root_relative`)."""
    p, r = root_relative(pred), root_relative(ref)
    if p.shape[1] != r.shape[1]:
        raise InvalidInputError(None, "joints", "the same joint count in both motions", got=(p.shape[1], r.shape[1]))
    p, r = torch.from_numpy(p).transpose(0, 1), torch.from_numpy(r).transpose(0, 1)  # (J, n, 3), (J, m, 3)
    return torch.cdist(p, r).mean(0).numpy()  # (n, m)


def align_bone_lengths(joints: Any, reference: Any) -> np.ndarray:
    """`joints` (T, J, 3) with every bone set to the reference clip's length (its median over the
    reference's frames), keeping its direction; the root trajectory is scaled by the leg-length ratio
    and the body put on the floor facing +Z (`lslm.motion.features.preprocess_joints`)."""
    from lslm.motion.features import preprocess_joints

    x, ref = _joints(joints, "joints"), _joints(reference, "reference")
    if x.shape[1] != ref.shape[1]:
        raise InvalidInputError(None, "reference", f"{x.shape[1]} joints like the motion", got=ref.shape[1])
    skeleton = Skeleton.smplx52() if x.shape[1] == 52 else Skeleton.body22()
    parents = np.array(skeleton.parents)
    lengths = np.median(np.linalg.norm(ref[:, 1:] - ref[:, parents[1:]], axis=-1), axis=0)  # (J−1,)
    if not (lengths > 0).all():
        raise InvalidInputError(None, "reference", "bones of non-zero length", got=f"joint {int(lengths.argmin()) + 1}")
    offsets = skeleton.ik_directions * np.concatenate([[0.0], lengths])[:, None]
    return np.asarray(preprocess_joints(x.astype(np.float32), target=replace(skeleton, offsets=offsets)), np.float64)


def dtw_joint_error(pred: Any, ref: Any, align_bones: bool = False) -> float:
    """DTW mean joint error in mm between a motion (n, J, 3) and a reference clip (m, J, 3), in metres:
    the accumulated root-relative mean joint distance along the best warping path over the path's length.
    With `align_bones`, the motion first takes the reference's bone lengths (`align_bone_lengths`)."""
    if align_bones:
        pred = align_bone_lengths(pred, ref)
    total, cells = dtw(frame_distances(pred, ref))
    return 1000.0 * total / cells


# ---- back-translation and the evaluator -----------------------------------------------------------

def _present(features: Features, min_frames: int) -> list[int]:
    """Indices of the motions that exist and have at least `min_frames` rows."""
    return [i for i, f in enumerate(features) if f is not None and len(f) >= min_frames]


def encode_features(tokenizer: Tokenizer, features: Sequence[torch.Tensor | np.ndarray],
                    batch_size: int = 64) -> list[torch.Tensor]:
    """Codes (L,) of each raw feature sequence (T, D), T >= tokenizer.downsample, in batches."""
    out = []
    for start in range(0, len(features), batch_size):
        chunk = [torch.as_tensor(np.asarray(f), dtype=torch.float32) for f in features[start:start + batch_size]]
        lengths = torch.tensor([len(f) for f in chunk])
        codes = tokenizer.encode(torch.nn.utils.rnn.pad_sequence(chunk, batch_first=True), lengths).cpu()
        out += [row[row >= 0] for row in codes]
    return out


def back_translation(translator: LSLM, features: Features, sentences: Sequence[str], batch_size: int = 64,
                     progress: bool = False) -> tuple[dict[str, Any], list[str]]:
    """What `translator` (an LSLM, motion → English) reads from each motion, scored against its sentence.

    features: raw features (T, D) per sentence, or None where there is no motion; a missing motion or
    one shorter than a code is scored as an empty translation (and counted in "empty"). Returns
    ({"bleu1", "bleu4", "rouge_l", "wer", "empty"}, the translations in input order).
    """
    from lslm.eval.text import score
    from lslm.model.translate import generation_kwargs, translate_codes

    if len(features) != len(sentences):
        raise InvalidInputError(None, "features", f"one motion per sentence ({len(sentences)})", got=len(features))
    tokenizer = translator.motion_tokenizer
    kept = _present(features, tokenizer.downsample)
    codes = encode_features(tokenizer, [features[i] for i in kept], batch_size)
    texts = dict(zip(kept, translate_codes(translator, codes, batch_size, progress=progress, **generation_kwargs())))
    predictions = [texts.get(i, "") for i in range(len(sentences))]
    corpus = score(predictions, list(sentences), metrics=["bleu", "rouge_l", "wer"]).corpus
    return {**{k: corpus[k] for k in BACK_TRANSLATION_KEYS}, "empty": len(sentences) - len(kept)}, predictions


def embed_features(evaluator: MotionEvaluator, features: Sequence[torch.Tensor | np.ndarray],
                   batch_size: int = 64) -> np.ndarray:
    """Evaluator embeddings (N, E) of raw feature sequences (T, D) of any lengths, in padded batches."""
    out = []
    for start in range(0, len(features), batch_size):
        chunk = [torch.as_tensor(np.asarray(f), dtype=torch.float32) for f in features[start:start + batch_size]]
        lengths = torch.tensor([len(f) for f in chunk])
        out.append(evaluator.embed_motion(torch.nn.utils.rnn.pad_sequence(chunk, batch_first=True), lengths))
    return np.concatenate(out)


def evaluator_scores(evaluator: MotionEvaluator, features: Features, sentences: Sequence[str],
                     reference_embeddings: np.ndarray, pool: int = 32,
                     diversity_pairs: int = 300) -> dict[str, Any]:
    """FID against the reference embeddings, diversity, and R-precision (top-1, top-3 in pools of `pool`)
    of the motions that exist (at least the evaluator's minimum length); "clips" counts them. With fewer
    than 2 such motions FID and diversity are None, with fewer than 4 R-precision."""
    from lslm.eval.evaluator import r_precision

    kept = _present(features, evaluator.config.min_frames)
    out: dict[str, Any] = {"fid": None, "diversity": None, "r_precision_top1": None, "r_precision_top3": None,
                           "clips": len(kept)}
    if len(kept) < 2:  # FID and diversity need two motions, R-precision four: None
        return out
    emb = embed_features(evaluator, [features[i] for i in kept])
    texts = [sentences[i] for i in kept]
    out.update(fid=metrics.fid(reference_embeddings, emb), diversity=metrics.diversity(emb, min(diversity_pairs, len(emb))))
    if len(kept) >= 4:  # pools of `pool` sentences, fewer when the set is smaller
        retrieval = r_precision(emb, evaluator.embed_text(texts), texts, pool=max(4, min(pool, len(texts))))
        out.update(r_precision_top1=retrieval["top1"], r_precision_top3=retrieval["top3"])
    return out


# ---- the bounds and the whole report --------------------------------------------------------------

def reconstruct(tokenizer: Tokenizer, features: Sequence[torch.Tensor | np.ndarray],
                batch_size: int = 64) -> list[torch.Tensor]:
    """The tokenizer's reconstruction of each raw feature sequence: encode, decode (T // 4 · 4 rows)."""
    codes = encode_features(tokenizer, features, batch_size)
    return [tokenizer.decode(c).cpu() for c in codes]


def other_sentence_order(sentences: Sequence[str], seed: int = 0) -> list[int]:
    """For each sentence, the index of another sentence with different words (a random derangement)."""
    from lslm.eval.text import normalize

    keys = [normalize(s) for s in sentences]
    if len(set(keys)) < 2:
        raise InvalidInputError(None, "sentences", "at least two different sentences", got=len(set(keys)))
    rng = np.random.default_rng(seed)
    for _ in range(1000):
        cycle = rng.permutation(len(keys))
        partner = np.empty(len(keys), dtype=np.int64)
        partner[cycle] = np.roll(cycle, -1)  # one cycle through a random order: nobody is their own partner
        if all(keys[i] != keys[j] for i, j in enumerate(partner)):
            return partner.tolist()
    raise InvalidInputError(None, "sentences", "a pairing of every sentence with a different one (too many repeats)")


def _dtw_row(joints: Sequence[np.ndarray | None], reference_joints: Sequence[np.ndarray]) -> tuple[dict, list]:
    raw, aligned, per = [], [], []
    for pred, ref in zip(joints, reference_joints):
        if pred is None:
            per.append((None, None))
            continue
        per.append((dtw_joint_error(pred, ref), dtw_joint_error(pred, ref, align_bones=True)))
        raw.append(per[-1][0])
        aligned.append(per[-1][1])
    row = {"dtw_mje_mm": float(np.mean(raw)) if raw else None,
           "dtw_mje_aligned_mm": float(np.mean(aligned)) if aligned else None}
    return row, per


def production_scores(produced: Features, reference_features: Sequence[torch.Tensor | np.ndarray],
                      sentences: Sequence[str], *, tokenizer: Tokenizer, translator: LSLM,
                      evaluator: MotionEvaluator | None = None,
                      reference_joints: Sequence[np.ndarray] | None = None, ids: Sequence[str] | None = None,
                      seed: int = 0, batch_size: int = 64, progress: bool = False) -> tuple[dict[str, Any], list[dict]]:
    """Every production score for the produced motion and its two bounds (module docstring).

    produced: raw features (T, D) per sentence (None where nothing was produced); reference_features: the
    reference clip of each sentence, raw features; tokenizer: the producer's motion tokenizer (the upper
    bound is its reconstruction); translator: an LSLM for back-translation; evaluator: a MotionEvaluator
    (without it FID, diversity and R-precision are left out); reference_joints: the reference clips'
    joints for DTW (default: `features_to_joints` of the reference features; give the raw clips to compare
    with each signer's own body). Returns (the report, one row per sentence).
    """
    n = len(sentences)
    if not (len(produced) == len(reference_features) == n) or n < 2:
        raise InvalidInputError(None, "produced", f"one motion and one reference per sentence, at least 2 sentences "
                                f"({n} sentences)", got=(len(produced), len(reference_features)))
    ids = [str(i) for i in range(n)] if ids is None else [str(i) for i in ids]
    partner = other_sentence_order(sentences, seed)
    sets = {"produced": list(produced), "reconstruction": reconstruct(tokenizer, reference_features, batch_size),
            "other_sentence": [reference_features[j] for j in partner]}
    ref_joints = [np.asarray(features_to_joints(torch.as_tensor(np.asarray(f), dtype=torch.float32)))
                  for f in reference_features] if reference_joints is None else list(reference_joints)
    if len(ref_joints) != n:
        raise InvalidInputError(None, "reference_joints", f"one clip per sentence ({n})", got=len(ref_joints))

    reference_bt, reference_texts = back_translation(translator, reference_features, sentences, batch_size, progress)
    report: dict[str, Any] = {"reference": {"back_translation": reference_bt}}
    reference_emb = None
    if evaluator is not None:
        reference_emb = embed_features(evaluator, [reference_features[i] for i in
                                                   _present(reference_features, evaluator.config.min_frames)])
        report["reference"].update(diversity=metrics.diversity(reference_emb, min(300, len(reference_emb))))
    rows = [{"id": i, "text": t, "other_sentence_id": ids[j], "reference_back_translation": bt}
            for i, t, j, bt in zip(ids, sentences, partner, reference_texts)]
    for name, features in sets.items():
        bt, texts = back_translation(translator, features, sentences, batch_size, progress)
        joints = [None if f is None or len(f) < 1 else
                  np.asarray(features_to_joints(torch.as_tensor(np.asarray(f), dtype=torch.float32)))
                  for f in features]
        dtw_row, per = _dtw_row(joints, ref_joints)
        entry = {"back_translation": bt, **dtw_row, "missing": sum(j is None for j in joints)}
        if evaluator is not None:
            entry.update(evaluator_scores(evaluator, features, sentences, reference_emb))
        report[name] = entry
        for row, text, (raw, aligned) in zip(rows, texts, per):
            row[name] = {"back_translation": text, "dtw_mje_mm": raw, "dtw_mje_aligned_mm": aligned}
    ratio = None
    if reference_bt["bleu4"]:
        ratio = report["produced"]["back_translation"]["bleu4"] / reference_bt["bleu4"]
    report["goal"] = {"bleu4_ratio": ratio, "target": GOAL_RATIO, "met": ratio is not None and ratio >= GOAL_RATIO}
    report["counts"] = {"sentences": n, "produced": n - report["produced"]["missing"]}
    if evaluator is not None:
        report["evaluator"] = evaluator.identity
    return report, rows


__all__ = [
    "BACK_TRANSLATION_KEYS",
    "GOAL_RATIO",
    "MOTION_SETS",
    "align_bone_lengths",
    "back_translation",
    "dtw",
    "dtw_joint_error",
    "embed_features",
    "encode_features",
    "evaluator_scores",
    "frame_distances",
    "other_sentence_order",
    "production_scores",
    "reconstruct",
    "root_relative",
]
