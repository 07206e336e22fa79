"""What the web app does, without the web: models loaded once, one uploaded file translated, one
sentence produced, the model described (docs/app.md).

    models = AppModels.load("runs/demo/lslm/final", producer="runs/demo/production_model/final")
    result = models.translate("clip.npz", num_beams=4)      # Translation: text, codes, joints (T, 52, 3)
    signed = models.produce("Where is the library?")         # Production: codes, features, joints
    write_production(signed, "out/")                        # out/<name>.npz (lslm joints), read back by lslm

A file goes the path `tools/translate.py` takes: `lslm.data.convert.file_features` (format detected,
converted on the tokenizer's frame rate, skeleton and compat flag) → `Tokenizer.encode` →
`LSLM.generate`. The skeleton shown is the one the tokenizer reads: `features_to_joints` of those
features. Every bad input is an `LslmError` naming the file and field; the app shows its message.
"""
from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from lslm.devices import resolve_device
from lslm.errors import ConfigError, InvalidInputError

EXAMPLE_COUNT = 4  # examples offered from a dataset's test split
# Production decoding: greedy like translation; 256 new tokens bound a runaway answer.
PRODUCTION = {"num_beams": 1, "do_sample": False, "max_new_tokens": 256}


@dataclass(frozen=True)
class Translation:
    """One file translated: the English, the motion codes (L,), the skeleton the tokenizer read
    (T, 52, 3) metres y up at `fps`."""

    text: str
    codes: list[int]
    joints: np.ndarray
    fps: float


@dataclass(frozen=True)
class Production:
    """One sentence signed: its text, the codes (L,) the model wrote, their decoded raw features
    (4L, 623) and joints (4L, 52, 3) metres y up at `fps`."""

    text: str
    codes: list[int]
    features: np.ndarray
    joints: np.ndarray
    fps: float


@dataclass(frozen=True)
class Example:
    """A clip offered for a one-click translation: its file and reference English."""

    id: str
    path: str
    text: str


@dataclass
class AppModels:
    """The models one app serves: a translator (any LSLM) and optionally a producer (a vocabulary-mode
    LSLM), with their folders and how raw files are converted (`ConvertOptions` fields beyond the
    tokenizer's own: translation policy, SMPL-X model, ...; the frame rate of files that store none)."""

    translator: object
    translator_dir: Path
    producer: object | None = None
    producer_dir: Path | None = None
    convert: dict = field(default_factory=dict)
    source_fps: float | None = None

    @classmethod
    def load(cls, model: str | os.PathLike, producer: str | os.PathLike | None = None, device: str | None = None,
             convert: dict | None = None, source_fps: float | None = None) -> AppModels:
        """Load both models once (eval mode, on `device`: default cuda when available, else cpu). A
        producer that is not a vocabulary-mode LSLM is a ConfigError."""
        from lslm.model import LSLM

        device = str(resolve_device(device))
        translator = LSLM.from_pretrained(model, device=device)
        loaded = None
        if producer is not None:
            same = Path(producer).resolve() == Path(model).resolve()
            loaded = translator if same else LSLM.from_pretrained(producer, device=device)
            if loaded.config.mode != "vocab":
                raise ConfigError(f"{producer}: sign production needs a vocabulary-mode LSLM (mode 'vocab'); this "
                                  f"model has mode {loaded.config.mode!r}: its projector reads motion but cannot write it")
        return cls(translator, Path(model), loaded, None if producer is None else Path(producer), dict(convert or {}),
                   source_fps)

    def translate(self, path: str | os.PathLike, fps: float | None = None, **gen_kwargs: Any) -> Translation:
        """Translate one motion file of any format `tools/translate.py` reads; `fps` is the file's frame
        rate when it does not say (default: `source_fps`, else the format's); `gen_kwargs` override
        DEFAULT_GENERATION."""
        from lslm.tokenizer.codes import features_codes
        from lslm.data.convert import file_features
        from lslm.model.translate import generation_kwargs
        from lslm.motion import features_to_joints

        tokenizer = self.translator.motion_tokenizer
        features = file_features(path, tokenizer.convert_options(**self.convert), fps=fps or self.source_fps,
                                 feature_dim=tokenizer.config.feature_dim)  # (T − 1, 623)
        codes = features_codes(features, tokenizer, path)  # (L,)
        text = self.translator.generate(codes=codes, **generation_kwargs(**gen_kwargs))
        joints = np.asarray(features_to_joints(torch.as_tensor(features)), dtype=np.float32)  # (T − 1, 52, 3)
        return Translation(text, codes.tolist(), joints, tokenizer.fps)

    def produce(self, text: str, **gen_kwargs: Any) -> Production:
        """Sign one English sentence with the producer (`LSLM.generate_motion`, the tokenizer's decoder); an
        empty sentence, or one for which the model writes no motion, is an InvalidInputError."""
        from lslm.motion import features_to_joints

        if self.producer is None:
            raise InvalidInputError(None, "producer", "a vocabulary-mode model (start the app with --producer RUN/final)",
                                    got="none loaded")
        if not isinstance(text, str) or not text.strip():
            raise InvalidInputError(None, "text", "an English sentence", got="empty text")
        text = text.strip()
        codes = self.producer.generate_motion(text, **{**PRODUCTION, **gen_kwargs}).cpu()  # (L,)
        if not len(codes):
            raise InvalidInputError(None, "text", "a sentence the model signs", got="no motion tokens written")
        features = self.producer.motion_tokenizer.decode(codes).cpu()  # (4L, 623)
        joints = np.asarray(features_to_joints(features), dtype=np.float32)  # (4L, 52, 3)
        return Production(text, codes.tolist(), features.numpy(), joints, self.producer.motion_tokenizer.fps)


# ---- files ------------------------------------------------------------------------------------------

def file_stem(text: str, limit: int = 40) -> str:
    """A file name from a sentence: letters, digits and dashes, at most `limit` characters."""
    stem = re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-")[:limit].strip("-")
    return stem.lower() or "sign"


def write_production(production: Production, out_dir: str | os.PathLike, name: str | None = None) -> Path:
    """OUT/<name>.npz: an lslm joint file (joints (T, 52, 3), fps, text, codes, features) that every lslm
    tool reads back (`lslm.data.adapters.load_lslm`)."""
    from lslm.data.synthetic.generate import save_npz

    path = Path(out_dir) / f"{name or file_stem(production.text)}.npz"
    path.parent.mkdir(parents=True, exist_ok=True)
    save_npz(path, {"joints": production.joints, "fps": np.float32(production.fps), "text": np.str_(production.text),
                    "codes": np.asarray(production.codes, dtype=np.int64), "features": production.features})
    return path


# ---- examples and the model card ---------------------------------------------------------------------

def run_config(model_dir: str | os.PathLike) -> dict | None:
    """The resolved training config saved next to a model folder (RUN/config.yaml for RUN/final), or None."""
    from omegaconf import OmegaConf

    path = Path(model_dir).parent / "config.yaml"
    if not path.is_file():
        return None
    return OmegaConf.to_container(OmegaConf.load(path), resolve=False)


def find_examples(folder: str | os.PathLike, split: str = "test", count: int = EXAMPLE_COUNT) -> list[Example]:
    """The first `count` clips of `split` in a raw clip folder (manifest rows with "motion", e.g. the
    synthetic corpus) or a prepared dataset (rows with "features"), with their reference text."""
    from lslm.data.manifest import RAW_FIELDS, read_manifest

    folder = Path(folder)
    manifest = folder / "manifest.jsonl"
    if not manifest.is_file():
        raise InvalidInputError(manifest, "file", "a dataset or raw clip folder with manifest.jsonl", got="missing")
    rows = read_manifest(manifest, fields=RAW_FIELDS if _is_raw(manifest) else None)
    picked = [r for r in rows if r["split"] == split][:count]
    return [Example(r["id"], str(folder / r.get("motion", r.get("features"))), r.get("text", "")) for r in picked]


def _is_raw(manifest: Path) -> bool:
    with open(manifest, encoding="utf-8") as f:
        first = f.readline()
    return '"motion"' in first


def _scores(paths: list[Path]) -> dict | None:
    for path in paths:
        if path.is_file():
            doc = json.loads(path.read_text(encoding="utf-8"))
            return {k: v for k, v in doc.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
    return None


def model_card(models: AppModels, scores: str | os.PathLike | None = None) -> str:
    """Markdown for the About tab: each model's LLM, motion tokenizer and training (from its folder and
    RUN/config.yaml), and translation scores from `scores` (an evaluate metrics.json) or a metrics.json
    inside the model folder or its run, when there is one."""
    parts = []
    for title, model, folder in (("Translator (motion → English)", models.translator, models.translator_dir),
                                 ("Producer (English → motion)", models.producer, models.producer_dir)):
        if model is None:
            continue
        parts.append(f"### {title}\n\n`{folder}`\n\n" + _describe(model, folder))
        found = _scores([Path(scores)] if scores and model is models.translator else
                        [folder / "metrics.json", folder.parent / "metrics.json"])
        if found:
            parts.append("| score | value |\n|---|---|\n" +
                         "\n".join(f"| {k} | {v:.4g} |" for k, v in found.items()))
    return "\n\n".join(parts)


def _describe(model, folder: Path) -> str:
    config, tok, llm = model.config, model.motion_tokenizer, model.llm.config
    params = sum(p.numel() for p in model.llm.parameters())
    layers, hidden = getattr(llm, "num_hidden_layers", "?"), getattr(llm, "hidden_size", "?")
    lora = "none"
    if config.lora is not None:
        lora = f"r={config.lora.r}, alpha={config.lora.alpha}" + (", rsLoRA" if config.lora.rslora else "")
    motion = ("codebook vectors → 2-layer MLP projector → LLM embeddings" if config.mode == "projector"
              else "codes as vocabulary tokens <motion_id_k> (MotionGPT baseline)")
    rows = [("LLM", (f"{Path(config.llm).name} ({llm.model_type}, {layers} layers, hidden {hidden}, "
                     f"{params / 1e6:.1f} M parameters)")),
            ("motion input", motion),
            ("LoRA", lora),
            ("motion tokenizer", (f"VQ-VAE, {tok.config.codebook_size} codes of dimension {tok.config.code_dim}, "
                                  f"one code per {tok.downsample} frames at {tok.fps:g} fps"))]
    run = run_config(folder)
    if run is not None:
        train = run.get("train", {})
        steps = f"{train.get('max_steps', '?')} steps of batch {train.get('batch_size', '?')}"
        rows.append(("training", f"{run.get('stage', '?')}, scheme {run.get('scheme', '?')}, {steps}"))
        if run.get("data", {}).get("root"):
            rows.append(("data", str(run["data"]["root"])))
        log = folder.parent / "metrics.jsonl"
        lines = log.read_text(encoding="utf-8").splitlines() if log.is_file() else []
        val = [row for row in map(json.loads, lines) if row.get("split") == "val"]
        if val:
            rows.append(("validation loss", f"{val[-1]['loss']:.4f} at step {val[-1]['step']}"))
    return "\n".join(f"- **{k}**: {v}" for k, v in rows)
