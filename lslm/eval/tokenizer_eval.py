"""How well a motion tokenizer reconstructs a split (docs/evaluation.md); the command line is
`lslm.recipes.eval_tokenizer` (tools/eval_tokenizer.py).

    doc, kept = evaluate_tokenizer(Tokenizer.from_pretrained("runs/tok/final"), "DATA", "test", evaluator)

Every clip is reconstructed whole: its raw features are cropped to whole codes (T // 4 · 4 rows), encoded,
decoded, and both the cropped original and the reconstruction go through `features_to_joints`; joint
errors compare the two joint sequences (metres → mm). FID and diversity use the motion embedding of a
trained evaluator (lslm.eval.evaluator), which the report names by name, version and fingerprint.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from lslm.errors import InvalidInputError
from lslm.eval import motion as metrics
from lslm.eval.evaluator import MotionEvaluator, dataset_fingerprint
from lslm.tokenizer import Tokenizer

ACCEL_UNIT = "mm/frame²"


def resolve_tokenizer_dir(path: str | Path) -> Path:
    """A tokenizer folder, or a training run folder whose `final/` is one."""
    path = Path(path)
    if not (path / "config.json").is_file() and (path / "final" / "config.json").is_file():
        return path / "final"
    return path


def evaluate_tokenizer(tokenizer: Tokenizer, data_root: str | Path, split: str = "test",
                       evaluator: MotionEvaluator | None = None, batch_size: int = 16, max_clips: int = 0,
                       diversity_pairs: int = 300, keep_joints: int = 0) -> tuple[dict[str, Any], list[dict]]:
    """Reconstruct every clip of a split; returns (the metrics document, the first `keep_joints` clips as
    {"id", "text", "original", "reconstruction"} joint arrays (T, J, 3) in metres, for renders)."""
    from lslm.data import MotionDataset

    dataset = MotionDataset(data_root, split=split, normalize=False)
    if dataset.feature_dim != tokenizer.config.feature_dim:
        raise InvalidInputError(Path(data_root) / "dataset.json", "feature_dim",
                                f"{tokenizer.config.feature_dim} (the tokenizer's)", got=dataset.feature_dim)
    if abs(dataset.fps - tokenizer.fps) > 1e-6:
        raise InvalidInputError(Path(data_root) / "dataset.json", "fps", f"{tokenizer.fps} (the tokenizer's)",
                                got=dataset.fps)
    down = tokenizer.downsample
    shortest = max(down, evaluator.config.min_frames if evaluator is not None else 0)
    count = len(dataset) if max_clips <= 0 else min(max_clips, len(dataset))
    skipped: list[dict] = []
    sums = np.zeros(4)  # mpjpe·frames, pa_mpjpe·frames, accel·accel_frames, accel_frames
    frames_total, codes_all, real_emb, recon_emb, kept = 0, [], [], [], []
    batch: list[dict] = []

    def flush() -> None:
        nonlocal frames_total
        feats = torch.nn.utils.rnn.pad_sequence([it["features"] for it in batch], batch_first=True)
        crop = torch.tensor([it["length"] // down * down for it in batch])             # whole codes
        feats = feats[:, : int(crop.max())]                                           # (B, T, D)
        codes = tokenizer.encode(feats, crop)                                         # (B, T // 4), −1 padded
        recon = tokenizer.decode(codes).cpu()                                         # (B, T, D)
        truth = tokenizer.features_to_joints(feats, crop)                             # (B, T, J, 3) metres
        guess = tokenizer.features_to_joints(recon, crop)
        n, accel_n = int(crop.sum()), int((crop - 2).clamp(min=0).sum())
        sums[:] += [metrics.mpjpe(guess, truth, crop) * n, metrics.pa_mpjpe(guess, truth, crop) * n,
                    metrics.accel_error(guess, truth, crop) * accel_n, accel_n]
        frames_total += n
        codes_all.append(codes[codes >= 0].cpu())
        if evaluator is not None:
            real_emb.append(evaluator.embed_motion(feats, crop))
            recon_emb.append(evaluator.embed_motion(recon, crop))
        for i, it in enumerate(batch):
            if len(kept) < keep_joints:
                L = int(crop[i])
                kept.append({"id": it["id"], "text": it["text"], "original": truth[i, :L].numpy(),
                             "reconstruction": guess[i, :L].numpy()})
        batch.clear()

    for index in range(count):
        clip_id = dataset.records[index]["id"]
        try:
            item = dataset[index]
        except (InvalidInputError, OSError, ValueError) as err:
            skipped.append({"id": clip_id, "reason": str(err)})
            continue
        if item["length"] < shortest:
            skipped.append({"id": clip_id, "reason": f"{item['length']} frames, fewer than {shortest} "
                                                      f"(one code{' / the evaluator minimum' if shortest > down else ''})"})
            continue
        batch.append(item)
        if len(batch) == batch_size:
            flush()
    if batch:
        flush()
    clips = count - len(skipped)
    if clips == 0:
        raise InvalidInputError(Path(data_root) / "manifest.jsonl", split,
                                "at least one usable clip in the split", got=f"{count} clips, all skipped")

    codes = torch.cat(codes_all)
    doc: dict[str, Any] = {
        "mpjpe_mm": float(sums[0] / frames_total), "pa_mpjpe_mm": float(sums[1] / frames_total),
        "accel_error_mm": float(sums[2] / sums[3]) if sums[3] else None,
        "fid": None, "diversity_recon": None, "diversity_real": None,
        "codebook_usage": metrics.codebook_usage(codes, tokenizer.num_codes),
        "perplexity": metrics.perplexity(codes, tokenizer.num_codes), "codes_used": int(codes.unique().numel()),
        "evaluator": None, "unavailable": {},
    }
    pairs = min(diversity_pairs, clips)
    if evaluator is None:
        for key in ("fid", "diversity_recon", "diversity_real"):
            doc["unavailable"][key] = "unavailable: no evaluator"
    elif clips < 2:
        for key in ("fid", "diversity_recon", "diversity_real"):
            doc["unavailable"][key] = "unavailable: fewer than 2 clips"
    else:
        real, recon = np.concatenate(real_emb), np.concatenate(recon_emb)
        doc.update(fid=metrics.fid(real, recon), diversity_recon=metrics.diversity(recon, pairs),
                   diversity_real=metrics.diversity(real, pairs))
    if evaluator is not None:
        doc["evaluator"] = {**evaluator.identity,
                            "same_dataset": evaluator.identity["dataset_fingerprint"] == dataset_fingerprint(data_root)}
    doc["counts"] = {"clips": clips, "frames": frames_total, "skipped": len(skipped), "codes": int(codes.numel())}
    doc["skipped"] = skipped
    doc["data"] = {"root": str(Path(data_root).resolve()), "split": split, "fingerprint": dataset_fingerprint(data_root)}
    doc["tokenizer"] = {"codebook_size": tokenizer.num_codes, "code_dim": tokenizer.code_dim,
                        "frames_per_code": down, "fps": tokenizer.fps}
    doc["info"] = {"accel_error_unit": ACCEL_UNIT, "joint_error_unit": "mm", "diversity_pairs": pairs,
                   "crop": f"each clip cut to T // {down} · {down} feature rows (whole codes)"}
    return doc, kept


def format_value(value: Any, digits: int = 2) -> str:
    """A metric as a report cell: "—" for None, floats to `digits` places."""
    return "—" if value is None else f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def evaluator_line(identity: dict | None) -> str:
    """How a report names the evaluator behind its FID."""
    if identity is None:
        return "none: FID and diversity unavailable (pass --evaluator DIR, trained with tools/train_evaluator.py)"
    return (f"{identity['name']} v{identity['version']} (dataset {identity['dataset_fingerprint']}, "
            f"{identity['steps']} steps, weights sha256:{identity['weights_sha256']})")


def markdown_report(doc: dict, renders: list[str]) -> str:
    """tokenizer_metrics.md: one table of the metrics, then the evaluator, counts, skipped clips, renders."""
    unavailable = doc["unavailable"]

    def cell(key: str, digits: int = 2) -> str:
        return unavailable[key] if key in unavailable else format_value(doc[key], digits)

    header = ["MPJPE (mm)", "PA-MPJPE (mm)", f"Accel. error ({ACCEL_UNIT})", "FID", "Diversity (recon)",
              "Diversity (real)", "Codebook usage", "Perplexity"]
    row = [cell("mpjpe_mm"), cell("pa_mpjpe_mm"), cell("accel_error_mm", 3), cell("fid", 3),
           cell("diversity_recon", 3), cell("diversity_real", 3), cell("codebook_usage", 3), cell("perplexity", 1)]
    data, tok, counts = doc["data"], doc["tokenizer"], doc["counts"]
    lines = [f"# Tokenizer reconstruction: split `{data['split']}`", "",
             (f"Data: `{data['root']}` ({data['fingerprint']}), {counts['clips']} clips, {counts['frames']} "
              f"frames, {counts['skipped']} skipped."),
             (f"Tokenizer: `{tok.get('path', '?')}`, {tok['codebook_size']} codes of dim {tok['code_dim']}, "
              f"{tok['frames_per_code']} frames per code; {doc['codes_used']} codes used."),
             f"Evaluator: {evaluator_line(doc['evaluator'])}.", "",
             "| " + " | ".join(header) + " |", "|" + "---|" * len(header), "| " + " | ".join(row) + " |", ""]
    if doc["evaluator"] is not None and not doc["evaluator"]["same_dataset"]:
        lines += ["Note: the evaluator was trained on a different dataset (fingerprints differ).", ""]
    if doc["skipped"]:
        lines += ["## Skipped clips", ""] + [f"- `{s['id']}`: {s['reason']}" for s in doc["skipped"]] + [""]
    if renders:
        lines += ["## Renders (original | reconstruction)", ""] + [f"![{r}]({r})" for r in renders] + [""]
    return "\n".join(lines)
