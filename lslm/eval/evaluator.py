"""The sign motion evaluator: a contrastive text–motion encoder whose motion embedding defines FID.

No sign-language motion evaluator exists publicly, so lslm trains its own (after Guo et al. 2022 and
TMR, Petrovich et al. 2023): a motion encoder (strided Conv1d over normalised 623-dim features, masked
mean+max pooling, MLP → 256-dim) and a text encoder (word embeddings over a vocabulary built from the
training texts, bidirectional GRU → 256-dim), trained with a symmetric InfoNCE loss so that a clip and
its sentence land close together. FID and diversity are computed on the unit-length motion embeddings.

A FID is only comparable with another FID computed with the same evaluator, so an evaluator is saved and
identified like a model (docs/evaluation.md):

    evaluator_config.json  {"format": "lslm-evaluator", "format_version": 1, "name", "version",
                            "dataset": {"root", "fingerprint" (sha256 of manifest.jsonl), clip counts},
                            "training": {"steps", "batch_size", "seed", "seconds"}, "model": {EvaluatorConfig},
                            "vocab": [words], "sanity": {split: R-precision}}
    model.safetensors      "model.*" weights, "normalizer.mean" / "normalizer.std" (the evaluator's own
                           statistics: it embeds raw features from any source the same way)
"""
from __future__ import annotations

import hashlib
import json
import os
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import save as safetensors_bytes
from torch import nn

from lslm.atomic import atomic_write_bytes, atomic_write_text
from lslm.errors import CheckpointMismatchError, InvalidInputError
from lslm.eval.evaluator_config import EvaluatorConfig
from lslm.model_folder import read_model_folder
from lslm.motion import Normalizer

FORMAT = "lslm-evaluator"
FORMAT_VERSION = 1
CONFIG_NAME = "evaluator_config.json"
WEIGHTS_NAME = "model.safetensors"
PAD, UNK = "<pad>", "<unk>"
_WORD = re.compile(r"[a-z0-9']+")


# ---- text ---------------------------------------------------------------------------------------

def words(text: str) -> list[str]:
    """Lower-cased word tokens of a sentence ("Don't go!" → ["don't", "go"])."""
    return _WORD.findall(text.lower())


def build_vocab(texts: Iterable[str], min_count: int = 1) -> list[str]:
    """[<pad>, <unk>, words seen at least min_count times, most frequent first, ties alphabetical]."""
    counts = Counter(w for text in texts for w in words(text))
    kept = sorted((w for w, n in counts.items() if n >= min_count), key=lambda w: (-counts[w], w))
    return [PAD, UNK, *kept]


def dataset_fingerprint(root: str | os.PathLike) -> str:
    """'sha256:<hex>' of a prepared dataset: its manifest.jsonl (which clips, texts, splits, frame counts)
    then its dataset.json without the preparation counts (fps, skeleton, compat: how features were made),
    as canonical JSON. Re-preparing the same clips the same way keeps it; another skeleton changes it."""
    digest = hashlib.sha256()
    for name in ("manifest.jsonl", "dataset.json"):
        path = Path(root) / name
        if not path.is_file():
            raise InvalidInputError(path, name, "a prepared dataset folder", got="missing")
        digest.update(path.read_bytes() if name == "manifest.jsonl" else _feature_recipe(path))
    return "sha256:" + digest.hexdigest()


def _feature_recipe(dataset_json: Path) -> bytes:
    """dataset.json's settings without "counts" (which a resumed preparation changes), canonical JSON."""
    try:
        info = json.loads(dataset_json.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise InvalidInputError(dataset_json, "file", "UTF-8 JSON", got=e) from e
    info.pop("counts", None)
    return json.dumps(info, sort_keys=True, separators=(",", ":")).encode()


# ---- encoders -----------------------------------------------------------------------------------

def _time_mask(lengths: torch.Tensor, frames: int) -> torch.Tensor:
    return torch.arange(frames, device=lengths.device)[None] < lengths[:, None]          # (B, T)


class MotionEncoder(nn.Module):
    """Normalised features (B, T, D) + lengths → (B, embed_dim), unnormalised: a per-frame projection,
    `stages` stride-2 convolutions, one more convolution, masked mean and max over time, an MLP.

    Padded positions are zeroed before every convolution, so a clip's embedding does not depend on
    the batch it is in (the zero padding of a lone clip is what its batch-mates' padding looks like).
    """

    def __init__(self, config: EvaluatorConfig):
        super().__init__()
        width = config.motion_width
        self.dropout = nn.Dropout(config.dropout)
        self.project = nn.Linear(config.feature_dim, width)
        self.downs = nn.ModuleList(nn.Conv1d(width, width, 4, stride=2, padding=1) for _ in range(config.stages))
        self.mix = nn.Conv1d(width, width, 3, padding=1)
        self.head = nn.Sequential(nn.Linear(2 * width, width), nn.ReLU(), nn.Dropout(config.dropout),
                                  nn.Linear(width, config.embed_dim))

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Normalised features (B, T, D) with `lengths` (B,) valid frames → embeddings (B, E)."""
        h = F.relu(self.project(self.dropout(x))).transpose(1, 2)               # (B, W, T)
        for conv in self.downs:
            h = h * _time_mask(lengths, h.shape[-1])[:, None]
            h = F.relu(conv(h))                                                 # (B, W, T // 2)
            lengths = lengths // 2
        mask = _time_mask(lengths, h.shape[-1])[:, None]                        # (B, 1, T')
        h = F.relu(self.mix(h * mask))
        mean = (h * mask).sum(-1) / lengths[:, None]
        peak = h.masked_fill(~mask, float("-inf")).amax(-1)
        return self.head(torch.cat([mean, peak], dim=1))                        # (B, E)


class TextEncoder(nn.Module):
    """Word ids (B, N) + lengths → (B, embed_dim): bidirectional GRU, both final states."""

    def __init__(self, config: EvaluatorConfig, vocab_size: int):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, config.word_dim, padding_idx=0)
        self.gru = nn.GRU(config.word_dim, config.text_width, batch_first=True, bidirectional=True)
        self.head = nn.Linear(2 * config.text_width, config.embed_dim)

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Word ids (B, S), 0-padded, with `lengths` (B,) words → embeddings (B, E)."""
        packed = nn.utils.rnn.pack_padded_sequence(self.embed(ids), lengths.cpu(), batch_first=True,
                                                   enforce_sorted=False)
        _, last = self.gru(packed)                                              # (2, B, H)
        return self.head(torch.cat([last[0], last[1]], dim=1))                  # (B, E)


class MotionEvaluator(nn.Module):
    """The trained evaluator: `embed_motion` (raw features → unit vectors, what FID uses), `embed_text`,
    `save_pretrained` / `from_pretrained`, and `identity` (name, version, dataset fingerprint, steps)."""

    def __init__(self, config: EvaluatorConfig, vocab: Sequence[str], normalizer: Normalizer,
                 name: str = "lslm-sign-evaluator", version: str = "1.0", info: dict[str, Any] | None = None):
        super().__init__()
        if list(vocab[:2]) != [PAD, UNK]:
            raise InvalidInputError(None, "vocab", f"a word list starting with {PAD}, {UNK}", got=list(vocab[:2]))
        if normalizer.mean.shape[0] != config.feature_dim:
            raise InvalidInputError(None, "normalizer", f"statistics of {config.feature_dim}-dim features",
                                    got=normalizer.mean.shape[0])
        self.config = config
        self.vocab = list(vocab)
        self.word_index = {w: i for i, w in enumerate(self.vocab)}
        self.name, self.version = name, version
        self.info = dict(info or {})  # "dataset", "training", "sanity" blocks of evaluator_config.json
        self.register_buffer("mean", normalizer.mean.clone())
        self.register_buffer("std", normalizer.std.clone())
        self.motion_encoder = MotionEncoder(config)
        self.text_encoder = TextEncoder(config, len(self.vocab))

    @property
    def device(self) -> torch.device:
        """Where the evaluator's weights are."""
        return self.mean.device

    @property
    def identity(self) -> dict[str, Any]:
        """What a reported FID must quote: name, version, dataset fingerprint, training steps."""
        dataset, training = self.info.get("dataset", {}), self.info.get("training", {})
        return {"name": self.name, "version": self.version, "dataset_fingerprint": dataset.get("fingerprint"),
                "steps": training.get("steps"), "weights_sha256": self.info.get("weights_sha256")}

    # ---- embeddings -------------------------------------------------------------------------
    def motion_features(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Normalised features (B, T, D) → unit-length embeddings (B, E) (differentiable)."""
        return F.normalize(self.motion_encoder(x, lengths), dim=-1)

    def text_features(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Word ids (B, N) → unit-length embeddings (B, E) (differentiable)."""
        return F.normalize(self.text_encoder(ids, lengths), dim=-1)

    def tokenize(self, texts: Sequence[str]) -> tuple[torch.Tensor, torch.Tensor]:
        """Sentences → word ids (B, N) padded with 0, lengths (B,); an empty sentence is one <unk>."""
        rows = [[self.word_index.get(w, 1) for w in words(t)] or [1] for t in texts]
        lengths = torch.tensor([len(r) for r in rows], dtype=torch.long)
        ids = torch.zeros(len(rows), int(lengths.max()), dtype=torch.long)
        for i, row in enumerate(rows):
            ids[i, : len(row)] = torch.tensor(row)
        return ids.to(self.device), lengths.to(self.device)

    @torch.no_grad()
    def embed_motion(self, features: Any, lengths: Sequence[int] | torch.Tensor | None = None,
                     batch_size: int = 64) -> np.ndarray:
        """Raw (un-normalised) features (B, T, D) with valid rows `lengths` → embeddings (B, E) float64."""
        x = torch.as_tensor(np.asarray(features) if not isinstance(features, torch.Tensor) else features,
                            dtype=torch.float32)
        if x.ndim != 3 or x.shape[-1] != self.config.feature_dim:
            raise InvalidInputError(None, "features", f"shape (B, T, {self.config.feature_dim})", got=tuple(x.shape))
        n = torch.full((len(x),), x.shape[1]) if lengths is None else torch.as_tensor(lengths).reshape(-1).long()
        if n.numel() != len(x) or (n > x.shape[1]).any() or (n < self.config.min_frames).any():
            raise InvalidInputError(None, "lengths", f"{len(x)} values in [{self.config.min_frames}, {x.shape[1]}]",
                                    got=n.tolist())
        if not torch.isfinite(x).all():
            raise InvalidInputError(None, "features", "finite values", got="NaN or inf")
        self.eval()
        out = []
        for start in range(0, len(x), batch_size):
            rows = slice(start, start + batch_size)
            chunk = (x[rows].to(self.device) - self.mean) / self.std
            out.append(self.motion_features(chunk, n[rows].to(self.device)).cpu())
        return torch.cat(out).double().numpy()

    @torch.no_grad()
    def embed_text(self, texts: Sequence[str]) -> np.ndarray:
        """Sentences → embeddings (B, E) float64."""
        self.eval()
        return self.text_features(*self.tokenize(texts)).cpu().double().numpy()

    # ---- persistence ------------------------------------------------------------------------
    def save_pretrained(self, directory: str | os.PathLike) -> Path:
        """Write evaluator_config.json + model.safetensors into `directory` (created if needed)."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        state = self.state_dict()
        tensors = {f"model.{k}": v.detach().cpu().contiguous() for k, v in state.items() if k not in ("mean", "std")}
        tensors["normalizer.mean"], tensors["normalizer.std"] = self.mean.cpu(), self.std.cpu()
        weights = directory / WEIGHTS_NAME
        # one metadata key: safetensors writes a metadata dict in hash order, so with several keys the
        # same weights would give different bytes, and a different weights_sha256, at every save
        atomic_write_bytes(weights, safetensors_bytes(tensors, metadata={"format": FORMAT}))
        self.info["weights_sha256"] = hashlib.sha256(weights.read_bytes()).hexdigest()
        config = {"format": FORMAT, "format_version": FORMAT_VERSION, "name": self.name, "version": self.version,
                  **{k: v for k, v in self.info.items() if k != "weights_sha256"},
                  "model": asdict(self.config), "vocab": self.vocab}
        atomic_write_text(directory / CONFIG_NAME, json.dumps(config, indent=1) + "\n")
        return directory

    @classmethod
    def from_pretrained(cls, directory: str | os.PathLike, device: str | torch.device = "cpu") -> MotionEvaluator:
        """Load a folder written by `save_pretrained` (no pickle is read)."""
        config, tensors, config_path, weights_path = read_model_folder(directory, CONFIG_NAME, WEIGHTS_NAME,
                                                                       FORMAT, FORMAT_VERSION)
        for key in ("name", "version", "model", "vocab"):
            if key not in config:
                raise InvalidInputError(config_path, key, "present", got="missing")
        normalizer = Normalizer.from_state_dict(
            {k.removeprefix("normalizer."): v for k, v in tensors.items() if k.startswith("normalizer.")},
            weights_path)
        info = {k: v for k, v in config.items() if k in ("dataset", "training", "sanity")}
        info["weights_sha256"] = hashlib.sha256(weights_path.read_bytes()).hexdigest()
        model = cls(EvaluatorConfig.from_dict(config["model"]), config["vocab"], normalizer,
                    name=config["name"], version=config["version"], info=info)
        weights = {k.removeprefix("model."): v for k, v in tensors.items() if k.startswith("model.")}
        weights.update(mean=normalizer.mean, std=normalizer.std)
        try:
            model.load_state_dict(weights, strict=True)
        except RuntimeError as err:
            raise CheckpointMismatchError(f"{weights_path}: weights do not match {CONFIG_NAME}: {err}") from err
        return model.to(device).eval()


# ---- training loss and retrieval sanity figure --------------------------------------------------

def contrastive_loss(motion: torch.Tensor, text: torch.Tensor, texts: Sequence[str],
                     temperature: float) -> torch.Tensor:
    """Symmetric InfoNCE on unit embeddings (B, E); clips with the same sentence count as positives
    of each other (a sentence signed by two signers is not a negative of itself)."""
    keys = [" ".join(words(t)) for t in texts]
    same = torch.tensor([[a == b for b in keys] for a in keys], dtype=torch.float32, device=motion.device)
    target = same / same.sum(1, keepdim=True)                                   # (B, B) rows sum to 1
    logits = motion @ text.T / temperature                                      # (B, B)
    return 0.5 * (F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target))


def r_precision(motion_emb: np.ndarray, text_emb: np.ndarray, texts: Sequence[str], pool: int = 32,
                top_k: Sequence[int] = (1, 2, 3), seed: int = 0) -> dict[str, float]:
    """Text retrieval from motion (Guo et al.'s protocol): the clips are shuffled into pools of `pool`;
    within a pool each motion ranks the pool's sentences by cosine similarity, and top-k counts how
    often its own sentence (or an identical one) is among the first k. A last partial pool is kept
    when it has at least max(top_k) + 1 clips. Returns {"top1": …, "top3": …, "pool": pool, "n": …}."""
    m, t = np.asarray(motion_emb, np.float64), np.asarray(text_emb, np.float64)
    if m.shape != t.shape or m.ndim != 2 or len(texts) != len(m):
        raise InvalidInputError(None, "embeddings", "motion and text embeddings (N, E) with N texts",
                                got=f"{m.shape}, {t.shape}, {len(texts)} texts")
    keys = np.array([" ".join(words(x)) for x in texts])
    order = np.random.default_rng(seed).permutation(len(m))
    hits, counted = np.zeros(len(top_k)), 0
    for start in range(0, len(order), pool):
        idx = order[start:start + pool]
        if len(idx) < max(top_k) + 1:
            continue
        sim = m[idx] @ t[idx].T                                                 # (P, P)
        ranking = np.argsort(-sim, axis=1, kind="stable")                       # (P, P) text indices
        correct = keys[idx][ranking] == keys[idx][:, None]                      # (P, P)
        hits += [correct[:, :k].any(1).sum() for k in top_k]
        counted += len(idx)
    if counted == 0:
        raise InvalidInputError(None, "embeddings", f"at least {max(top_k) + 1} clips", got=len(m))
    return {**{f"top{k}": float(h / counted) for k, h in zip(top_k, hits)}, "pool": pool, "n": counted}


__all__ = [
    "EvaluatorConfig",
    "MotionEncoder",
    "MotionEvaluator",
    "TextEncoder",
    "build_vocab",
    "contrastive_loss",
    "dataset_fingerprint",
    "r_precision",
    "words",
]
