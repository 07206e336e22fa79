"""Sign production, English → 3D sign motion with a vocabulary-mode LSLM (docs/production.md).

    python tools/produce.py --model RUN/final "My friend likes the red car." "Where is the library?" --out DIR
    python tools/produce.py --model RUN/final --input sentences.txt --out DIR --render mp4
    python tools/produce.py --model RUN/final --data DATA --split test --translator LSLM/final \\
        --evaluator EVALUATOR --out DIR          # the split's sentences, scored against its clips
    result = run(ProduceConfig(model="RUN/final", out="DIR", sentences=("My friend likes the red car.",)))

Sentences come from the command line, a text file (one per non-blank line) or a JSONL file (rows with
"text" and optionally "id"), or a prepared dataset's split. Each goes text → codes (`LSLM.generate_motion`,
batched) → raw features (the model's tokenizer) → 52 joints, and is written as

    OUT/motion/<id>.npz     lslm joints: joints (T, 52, 3) metres y up, fps, text, codes (L,), features (T, 623)
    OUT/motion/<id>.pose    (--pose, the `video` extra) the same motion as a MediaPipe Holistic `.pose` file
                            (lslm.video.write_pose), for pose-format's viewer and tools
    OUT/renders/<id>.gif    (--render gif|mp4) the sentence as caption; beside the reference clip with --data
    OUT/meshes/<id>/        (--smplx-model) an SMPL-X mesh per frame, .obj or .glb (lslm.viz.mesh)
    OUT/produced.jsonl      one row per sentence: id, text, codes, frames, files, or error
    OUT/produce_config.json this config

With --data and --translator the produced motion is scored (lslm.eval.production): back-translation,
DTW joint error (raw and with aligned bone lengths), and with --evaluator FID, diversity, R-precision,
each beside its upper and lower bound: OUT/production_metrics.json, OUT/per_sample.jsonl.
A sentence that cannot be used (empty text in a file) or for which the model writes no motion is
skipped, counted and reported; it is scored as no motion.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lslm.devices import resolve_device
from lslm.errors import ConfigError, InvalidInputError, LslmError

if TYPE_CHECKING:
    import numpy as np
    import torch

RENDER_FORMATS = ("gif", "mp4")
MESH_FORMATS = ("obj", "glb")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


@dataclass(frozen=True)
class ProduceConfig:
    """What to produce, from which model, and what to write.

    model: a vocabulary-mode LSLM folder (LSLM.save_pretrained), e.g. RUN/final.
    out: output folder.
    sentences / input / data: the sentences, exactly one of: given here, a .txt or .jsonl file, or the
        split `split` of a prepared dataset (whose clips are then the references).
    raw_data: the raw lslm folder `data` was prepared from: DTW compares with each clip in its signer's
        own body (default: the prepared features, in the tokenizer's target skeleton).
    translator: an LSLM folder (motion → English) for back-translation; evaluator: a motion evaluator
        folder for FID, diversity and R-precision. Both need `data`.
    pose: also write each motion as a `.pose` file (MediaPipe Holistic layout; needs the `video` extra).
    render: "gif" or "mp4" renders of the first `max_renders` sentences (None: all).
    smplx_model: an SMPL-X .npz (or a folder with SMPLX_{GENDER}.npz): also write mesh sequences
        (`mesh_format` obj or glb, one file per frame), through inverse kinematics (lslm.motion.ik).
    Generation: greedy by default (num_beams 1, no sampling); max_new_tokens bounds the answer.
    """

    model: str
    out: str
    sentences: tuple[str, ...] = ()
    input: str | None = None
    data: str | None = None
    split: str = "test"
    raw_data: str | None = None
    translator: str | None = None
    evaluator: str | None = None
    pose: bool = False
    render: str | None = None
    max_renders: int | None = None
    smplx_model: str | None = None
    gender: str = "neutral"
    mesh_format: str = "obj"
    batch_size: int = 32
    max_new_tokens: int = 256
    num_beams: int = 1
    do_sample: bool = False
    temperature: float | None = None
    top_p: float | None = None
    seed: int = 0
    device: str | None = None
    progress: bool = True

    def __post_init__(self) -> None:
        given = [name for name, value in (("sentences", self.sentences), ("input", self.input), ("data", self.data))
                 if value]
        if len(given) != 1:
            raise ConfigError(f"ProduceConfig: give exactly one of sentences, input and data, got {given or 'none'}")
        if self.render not in (None, *RENDER_FORMATS):
            raise ConfigError(f"ProduceConfig.render: expected one of {RENDER_FORMATS} or None, got {self.render!r}")
        if self.mesh_format not in MESH_FORMATS:
            raise ConfigError(f"ProduceConfig.mesh_format: expected one of {MESH_FORMATS}, got {self.mesh_format!r}")
        for name in ("translator", "evaluator", "raw_data"):
            if getattr(self, name) and not self.data:
                raise ConfigError(f"ProduceConfig.{name} scores against reference clips: it needs data")
        if self.evaluator and not self.translator:
            raise ConfigError("ProduceConfig.evaluator: the scores need a translator too (back-translation)")
        if self.batch_size < 1 or self.max_new_tokens < 1:
            raise ConfigError(f"ProduceConfig: batch_size and max_new_tokens must be >= 1, got "
                              f"{self.batch_size}, {self.max_new_tokens}")


@dataclass
class ProduceResult:
    """The output folder, one row per sentence (errors included), and the scores when computed."""

    out: Path
    rows: list[dict]
    metrics: dict[str, Any] | None = None
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def produced(self) -> int:
        """Sentences for which motion was written."""
        return sum("error" not in r for r in self.rows)

    @property
    def failed(self) -> int:
        """Sentences skipped (rows with an error)."""
        return len(self.rows) - self.produced


# ---- sentences ------------------------------------------------------------------------------------

def read_sentences(path: str | Path) -> tuple[list[tuple[str, str]], list[dict]]:
    """([(id, text)], [error rows]) of a .txt (one sentence per non-blank line, ids by line number) or a
    .jsonl file (rows {"text", "id"?}); a JSONL row without a usable text is an error row, not a sentence."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as err:
        raise InvalidInputError(path, "file", "a readable UTF-8 text or JSONL file", got=repr(err)) from err
    items, errors = [], []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        if path.suffix != ".jsonl":
            items.append((f"line{number:05d}", line.strip()))
            continue
        clip_id = f"line{number:05d}"
        try:
            row = json.loads(line)
        except json.JSONDecodeError as err:
            errors.append({"id": clip_id, "text": "", "error": str(InvalidInputError(f"{path}:{number}", "line",
                                                                                      "a JSON object", got=err.msg))})
            continue
        if isinstance(row, dict) and row.get("id") is not None:
            clip_id = str(row["id"])
        text = row.get("text") if isinstance(row, dict) else None
        if not isinstance(text, str) or not text.strip():
            errors.append({"id": clip_id, "text": "", "error": str(InvalidInputError(
                f"{path}:{number}", "text", "a non-empty string", got=repr(text)[:60]))})
            continue
        items.append((clip_id, text.strip()))
    return items, errors


def file_names(ids: list[str]) -> list[str]:
    """File-safe, distinct stems for ids (unsafe characters become '_'; collisions get their index)."""
    stems = [_UNSAFE.sub("_", i).lstrip(".") or "sentence" for i in ids]
    return [s if stems.count(s) == 1 else f"{s}-{k}" for k, s in enumerate(stems)]


# ---- the recipe -----------------------------------------------------------------------------------

def _references(config: ProduceConfig) -> tuple[list[tuple[str, str]], list[torch.Tensor], list[np.ndarray] | None,
                                              list[dict]]:
    """The split's (id, text), raw reference features, raw-clip joints (with raw_data), and error rows for
    clips that cannot be references (no English text, unreadable features)."""
    from lslm.data import MotionDataset

    dataset = MotionDataset(config.data, split=config.split, normalize=False)
    items, features, errors = [], [], []
    for index, record in enumerate(dataset.records):
        try:
            item = dataset[index]
        except (InvalidInputError, OSError, ValueError) as err:
            errors.append({"id": record["id"], "text": record.get("text", ""), "error": str(err)})
            continue
        if not item["text"].strip():
            errors.append({"id": item["id"], "text": "", "error": "the clip has no English text to produce"})
            continue
        items.append((item["id"], item["text"].strip()))
        features.append(item["features"])
    if not items:
        raise InvalidInputError(Path(config.data) / "manifest.jsonl", config.split, "clips with English text",
                                got="none")
    joints = None if config.raw_data is None else raw_clip_joints(config.raw_data, [i for i, _ in items], dataset.fps)
    return items, features, joints, errors


def raw_clip_joints(raw_dir: str | Path, ids: list[str], fps: float) -> list[np.ndarray]:
    """Joints (T, 52, 3) of clips of a raw lslm folder (its manifest.jsonl), at `fps`, in their own bodies
    (lslm.data.convert's path from a raw clip to joints, as preparation takes it)."""
    from lslm.data.convert import ConvertOptions, clip_joints, read_clip
    from lslm.data.manifest import RAW_FIELDS, read_manifest

    manifest = Path(raw_dir) / "manifest.jsonl"
    paths = {r["id"]: Path(raw_dir) / r["motion"] for r in read_manifest(manifest, RAW_FIELDS)}
    missing = [i for i in ids if i not in paths]
    if missing:
        raise InvalidInputError(manifest, "id", "every clip of the prepared split", got=f"{len(missing)} missing, "
                                f"e.g. {missing[0]}")
    options = ConvertOptions(fps=fps)
    return [clip_joints(read_clip(paths[i], "lslm", options=options), options) for i in ids]


def _load_model(path: str, device: str | None):

    from lslm.model.modeling import LSLM

    return LSLM.from_pretrained(path, device=str(resolve_device(device)))


def run(config: ProduceConfig) -> ProduceResult:
    """Produce every sentence, write its files, render, mesh and score (module docstring)."""
    import time

    import numpy as np
    import torch

    from lslm.cpu_memory import keep_freed_memory
    from lslm.atomic import atomic_save_npz, atomic_write_text, write_jsonl
    from lslm.model.produce import check_producer, check_sentences, codes_to_features, produce_codes
    from lslm.motion import features_to_joints

    keep_freed_memory()  # batched generation on CPU page-faults less (lslm.cpu_memory)
    clock = {"start": time.perf_counter()}
    out = Path(config.out)
    model = _load_model(config.model, config.device)
    check_producer(model)
    errors: list[dict] = []
    reference_features = reference_joints = None
    if config.data:
        items, reference_features, reference_joints, errors = _references(config)
    elif config.input:
        items, errors = read_sentences(config.input)
    else:
        items = [(f"s{k:04d}", t) for k, t in enumerate(check_sentences(list(config.sentences)))]
    if not items:
        raise InvalidInputError(config.input, "sentences", "at least one usable sentence", got="none")
    ids, texts = [i for i, _ in items], [t for _, t in items]

    torch.manual_seed(config.seed)  # sampling, when asked for, is reproducible
    codes = produce_codes(model, texts, config.batch_size, config.progress, max_new_tokens=config.max_new_tokens,
                          num_beams=config.num_beams, do_sample=config.do_sample, temperature=config.temperature,
                          top_p=config.top_p)
    clock["produce"] = time.perf_counter()
    features = codes_to_features(model.motion_tokenizer, codes)
    fps = model.motion_tokenizer.fps
    if config.pose:
        from lslm.video import write_pose
    (out / "motion").mkdir(parents=True, exist_ok=True)
    rows, joints = [], []
    for clip_id, stem, text, c, f in zip(ids, file_names(ids), texts, codes, features):
        row: dict[str, Any] = {"id": clip_id, "text": text, "codes": len(c)}
        if f is None:
            row["error"] = "the model wrote no motion tokens for this sentence"
            joints.append(None)
        else:
            j = np.asarray(features_to_joints(f.numpy()), dtype=np.float32)  # (T, 52, 3)
            joints.append(j)
            path = out / "motion" / f"{stem}.npz"
            atomic_save_npz(path, {"joints": j, "fps": np.float32(fps), "text": np.array(text),
                                   "codes": c.numpy().astype(np.int64), "features": f.numpy()})
            row.update(frames=len(j), files={"npz": str(path.relative_to(out))})
            if config.pose:
                row["files"]["pose"] = str(write_pose(j, path.with_suffix(".pose"), fps=fps).relative_to(out))
        rows.append(row)
    if config.render:
        _render(config, out, rows, joints, reference_features, fps)
    if config.smplx_model:
        _meshes(config, out, rows, joints)
    clock["write"] = time.perf_counter()  # files, renders, meshes
    metrics = None
    if config.translator:
        metrics = _score(config, out, ids, texts, features, reference_features, reference_joints, model)
    clock["score"] = time.perf_counter()
    rows += errors
    write_jsonl(out / "produced.jsonl", rows)
    atomic_write_text(out / "produce_config.json", json.dumps(asdict(config), indent=2) + "\n")
    seconds = {k: round(clock[k] - clock[p], 2) for p, k in zip(("start", "produce", "write"), ("produce", "write", "score"))}
    return ProduceResult(out, rows, metrics, seconds)


def _render(config: ProduceConfig, out: Path, rows: list[dict], joints: list, reference_features, fps: float) -> None:
    import numpy as np

    from lslm.motion import features_to_joints
    from lslm.viz import render_motion

    limit = len(rows) if config.max_renders is None else config.max_renders
    done = 0
    for k, (row, j) in enumerate(zip(rows, joints)):
        if j is None or done >= limit:
            continue
        path = out / "renders" / f"{Path(row['files']['npz']).stem}.{config.render}"
        if reference_features is None:
            render_motion(j, path, captions=row["text"], fps=fps)
        else:
            reference = np.asarray(features_to_joints(reference_features[k].numpy()))
            render_motion([j, reference], path, captions=["produced", "reference"], title=row["text"], fps=fps)
        row["files"]["render"] = str(path.relative_to(out))
        done += 1


def _meshes(config: ProduceConfig, out: Path, rows: list[dict], joints: list) -> None:
    from lslm.viz.mesh import joints_to_mesh, write_mesh_sequence

    for row, j in zip(rows, joints):
        if j is None:
            continue
        mesh = joints_to_mesh(j, config.smplx_model, gender=config.gender)
        folder = out / "meshes" / Path(row["files"]["npz"]).stem
        write_mesh_sequence(mesh.vertices, mesh.faces, folder, config.mesh_format)
        row["files"]["mesh"] = str(folder.relative_to(out))


def _score(config: ProduceConfig, out: Path, ids, texts, features, reference_features, reference_joints, model) -> dict:
    from lslm.atomic import atomic_write_text, write_jsonl
    from lslm.eval.production import production_scores

    translator = _load_model(config.translator, config.device)
    evaluator = None
    if config.evaluator:
        from lslm.eval.evaluator import MotionEvaluator

        evaluator = MotionEvaluator.from_pretrained(config.evaluator, device=translator.codebook.device)
    report, per_sample = production_scores(features, reference_features, texts, tokenizer=model.motion_tokenizer,
                                           translator=translator, evaluator=evaluator,
                                           reference_joints=reference_joints, ids=ids, seed=config.seed,
                                           progress=config.progress)
    report["data"] = {"root": str(Path(config.data).resolve()), "split": config.split,
                      "references": "raw clips (each signer's body)" if config.raw_data else "prepared features"}
    report["models"] = {"producer": str(Path(config.model).resolve()), "translator": str(Path(config.translator).resolve())}
    atomic_write_text(out / "production_metrics.json", json.dumps(report, indent=2) + "\n")
    write_jsonl(out / "per_sample.jsonl", per_sample)
    return report


# ---- command line ---------------------------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    """The command line of `lslm produce` / tools/produce.py."""
    p = argparse.ArgumentParser(description="Produce 3D sign motion from English with a vocabulary-mode LSLM.")
    p.add_argument("--model", required=True, help="vocabulary-mode LSLM folder, e.g. RUN/final")
    p.add_argument("sentences", nargs="*", help="English sentences (or --input / --data)")
    p.add_argument("--input", help="a .txt file (one sentence per line) or .jsonl (rows with text, id)")
    p.add_argument("--data", help="prepared dataset: produce the sentences of --split, score against its clips")
    p.add_argument("--split", default="test")
    p.add_argument("--raw-data", help="the raw lslm folder --data was prepared from (DTW in the signers' bodies)")
    p.add_argument("--translator", help="LSLM folder for back-translation (with --data)")
    p.add_argument("--evaluator", help="motion evaluator folder for FID / diversity / R-precision (with --data)")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--pose", action="store_true", help="also write .pose files (MediaPipe Holistic; video extra)")
    p.add_argument("--render", choices=RENDER_FORMATS, help="render each motion with its sentence as caption")
    p.add_argument("--max-renders", type=int, help="render only the first N sentences")
    p.add_argument("--smplx-model", help="SMPL-X .npz (or folder): also write mesh sequences")
    p.add_argument("--gender", default="neutral", help="with a --smplx-model folder: SMPLX_{GENDER}.npz")
    p.add_argument("--mesh-format", choices=MESH_FORMATS, default="obj")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--max-new-tokens", type=int, default=256)
    p.add_argument("--num-beams", type=int, default=1)
    p.add_argument("--do-sample", action="store_true")
    p.add_argument("--temperature", type=float)
    p.add_argument("--top-p", type=float)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", help="default: cuda when available, else cpu")
    p.add_argument("--no-progress", action="store_true")
    return p


def main(argv: list[str] | None = None) -> int:
    """0 when at least one sentence was produced, 1 when none was, 2 for unusable arguments or model."""
    args = build_parser().parse_args(argv)
    try:
        config = ProduceConfig(
            model=args.model, out=args.out, sentences=tuple(args.sentences), input=args.input, data=args.data,
            split=args.split, raw_data=args.raw_data, translator=args.translator, evaluator=args.evaluator,
            pose=args.pose, render=args.render, max_renders=args.max_renders, smplx_model=args.smplx_model, gender=args.gender,
            mesh_format=args.mesh_format, batch_size=args.batch_size, max_new_tokens=args.max_new_tokens,
            num_beams=args.num_beams, do_sample=args.do_sample, temperature=args.temperature, top_p=args.top_p,
            seed=args.seed, device=args.device, progress=not args.no_progress)
        result = run(config)
    except LslmError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    for row in result.rows:
        if "error" in row:
            print(f"skipped {row['id']}: {row['error']}", file=sys.stderr)
    print(f"produced {result.produced} sentences, skipped {result.failed}; wrote {result.out}")
    if result.metrics is not None:
        print(production_summary(result.metrics))
    return 0 if result.produced else 1


def production_summary(report: dict) -> str:
    """A few lines with the headline scores beside their bounds."""
    def number(value) -> str:
        return "—" if value is None else f"{value:.1f}"

    lines = []
    for name in ("reference", "produced", "reconstruction", "other_sentence"):
        bt = report[name]["back_translation"]
        extra = "" if name == "reference" else f", DTW-MJE {number(report[name]['dtw_mje_mm'])} mm " \
            f"({number(report[name]['dtw_mje_aligned_mm'])} aligned)"
        lines.append(f"{name:>15}: back-translation BLEU-4 {number(bt['bleu4'])}, WER {number(bt['wer'])}{extra}")
    goal = report["goal"]
    if goal["bleu4_ratio"] is not None:
        lines.append(f"goal: BLEU-4 ratio {goal['bleu4_ratio']:.2f} (target {goal['target']}) "
                     f"{'met' if goal['met'] else 'not met'}")
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
