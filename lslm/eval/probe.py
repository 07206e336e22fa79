"""A probe that reads signs from motion vectors: where between the motion and the codes signs get lost.

The LSLM reads codes through its projector and language model; when it misreads a sign, the loss can be
in the tokenizer or in the LLM. This probe is a small reader of its own, trained with CTC to write the
gloss sequence of a clip from one sequence of vectors per clip, at the codes' rate (one vector per code,
`Tokenizer.downsample` frames). Fed with three sources of the same clips it tells the stages apart:

    features   the normalised input features, averaged over each code's frames       (before the tokenizer)
    latents    the encoder's continuous output (`Tokenizer.encode_latents`)           (before quantization)
    codes      the codebook vectors of the codes (`Tokenizer.codebook[codes]`)        (what the LLM receives)

A sign read from `latents` but not from `codes` is lost by quantization; one read from `features` but not
from `latents` by the encoder. Reader: a small residual 1-D convolution net (`SignReader`) to the signs plus a
CTC blank (class 0); greedy CTC decoding (best class per step, repeats merged, blanks dropped). Its window
is set in frames (`ProbeConfig.context_frames`), not in vectors, so that tokenizers of different rates are
read by probes that see the same stretch of signing.

    vectors = clip_vectors(tokenizer, "runs/demo/data", "train", "latents")
    reader = train_reader(vectors.vectors, [vocab.encode(g) for g in vectors.glosses], len(vocab), ProbeConfig(),
                          frames_per_vector=vectors.frames_per_vector)
    glosses = [vocab.decode(s) for s in read_signs(reader, test.vectors)]
"""
from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import torch
from torch import nn

from lslm.errors import InvalidInputError
from lslm.eval.reader_configs import SOURCES, ProbeConfig

if TYPE_CHECKING:
    from lslm.tokenizer import Tokenizer


class GlossVocab:
    """Glosses ⇄ class ids 1..N (0 is the CTC blank)."""

    def __init__(self, glosses: Sequence[str]):
        self.glosses = sorted(set(glosses))
        self.index = {g: i + 1 for i, g in enumerate(self.glosses)}

    def __len__(self) -> int:
        return len(self.glosses)

    def encode(self, gloss: str) -> list[int]:
        """Class ids of a gloss string's signs; a sign outside the vocabulary is an error."""
        unknown = [g for g in gloss.split() if g not in self.index]
        if unknown:
            raise InvalidInputError(None, "gloss", "signs of the probe's vocabulary", got=unknown)
        return [self.index[g] for g in gloss.split()]

    def decode(self, ids: Sequence[int]) -> str:
        """Sign ids (1-based, as `encode` gives them) → the gloss string."""
        return " ".join(self.glosses[i - 1] for i in ids)


class SignReader(nn.Module):
    """Vectors (B, L, D) → log-probabilities (B, L, num_signs + 1) over the signs and the CTC blank (0).

    LayerNorm → Linear → `layers` residual blocks (GELU → Conv1d → dropout, plus the input) → Linear. The
    kernel is the smallest odd size whose stacked window covers ±`cfg.context_frames` frames at
    `frames_per_vector` frames per vector (`kernel_size`): with the defaults (±24 frames ≈ ±0.8 s, about a
    sign on each side, 3 layers) kernel 5 at a code per 4 frames, 9 at a code per 2.
    Convolutions rather than a recurrent net: fast on a CPU, and padding past a clip's end is zeroed
    before each convolution so that a padded batch reads every clip as it would alone.
    """

    def __init__(self, input_dim: int, num_signs: int, cfg: ProbeConfig, frames_per_vector: int = 4):
        super().__init__()
        k = kernel_size(cfg, frames_per_vector)
        self.norm = nn.LayerNorm(input_dim)
        self.inp = nn.Linear(input_dim, cfg.hidden)
        self.convs = nn.ModuleList(nn.Conv1d(cfg.hidden, cfg.hidden, k, padding=k // 2) for _ in range(cfg.layers))
        self.drop = nn.Dropout(cfg.dropout)
        self.out = nn.Linear(cfg.hidden, num_signs + 1)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Vectors (B, L, input_dim) with `lengths` (B,) → log-probabilities (B, L, signs + 1), blank 0."""
        keep = (torch.arange(x.shape[1], device=x.device) < lengths.to(x.device)[:, None]).unsqueeze(1)  # (B, 1, L)
        h = self.inp(self.norm(x)).transpose(1, 2)                             # (B, H, L)
        for conv in self.convs:
            h = h + self.drop(conv(nn.functional.gelu(h) * keep))
        return self.out(self.drop(h.transpose(1, 2))).log_softmax(-1)          # (B, L, C)


def kernel_size(cfg: ProbeConfig, frames_per_vector: int) -> int:
    """The smallest odd kernel whose `cfg.layers` stacked convolutions see ±`cfg.context_frames` frames:
    2·ceil(context_frames / (layers · frames_per_vector)) + 1 (±24 frames, 3 layers: 5 at 4 frames per vector)."""
    if frames_per_vector < 1 or cfg.context_frames < 1 or cfg.layers < 1:
        raise InvalidInputError(None, "probe", "frames_per_vector, context_frames and layers of at least 1",
                                got=(frames_per_vector, cfg.context_frames, cfg.layers))
    return 2 * math.ceil(cfg.context_frames / (cfg.layers * frames_per_vector)) + 1


def _pad(vectors: Sequence[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    lengths = torch.tensor([len(v) for v in vectors], dtype=torch.long)
    return nn.utils.rnn.pad_sequence(list(vectors), batch_first=True), lengths


def train_reader(vectors: Sequence[torch.Tensor], labels: Sequence[Sequence[int]], num_signs: int,
                 cfg: ProbeConfig = ProbeConfig(), progress: bool = False, frames_per_vector: int = 4) -> SignReader:
    """A SignReader trained with CTC on (L_i, D) vector sequences (one vector per `frames_per_vector` frames)
    and their sign ids (1..num_signs)."""
    from tqdm import tqdm

    if not vectors or len(vectors) != len(labels):
        raise InvalidInputError(None, "labels", f"one label sequence per clip ({len(vectors)} clips, at least one)",
                                got=len(labels))
    torch.manual_seed(cfg.seed)
    rng = random.Random(cfg.seed)
    reader = SignReader(vectors[0].shape[-1], num_signs, cfg, frames_per_vector).train()
    opt = torch.optim.Adam(reader.parameters(), lr=cfg.lr)
    ctc = nn.CTCLoss(blank=0, zero_infinity=True)
    for _ in tqdm(range(cfg.steps), desc="probe", disable=not progress):
        batch = rng.sample(range(len(vectors)), min(cfg.batch_size, len(vectors)))
        x, lengths = _pad([vectors[i] for i in batch])
        targets = torch.tensor([t for i in batch for t in labels[i]], dtype=torch.long)
        target_lengths = torch.tensor([len(labels[i]) for i in batch], dtype=torch.long)
        log_probs = reader(x, lengths)                                         # (B, L, C)
        loss = ctc(log_probs.transpose(0, 1), targets, lengths, target_lengths)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(reader.parameters(), 1.0)
        opt.step()
    return reader.eval()


def ctc_greedy(log_probs: torch.Tensor, length: int) -> list[int]:
    """Best class per step over the first `length` steps, repeats merged, blanks (0) dropped."""
    best = log_probs[:length].argmax(-1).tolist()
    return [c for i, c in enumerate(best) if c != 0 and (i == 0 or c != best[i - 1])]


@torch.no_grad()
def read_signs(reader: SignReader, vectors: Sequence[torch.Tensor], batch_size: int = 256) -> list[list[int]]:
    """Greedy CTC readings (sign ids) of each vector sequence, in input order."""
    out: list[list[int]] = []
    for start in range(0, len(vectors), batch_size):
        x, lengths = _pad(vectors[start:start + batch_size])
        log_probs = reader(x, lengths)
        out += [ctc_greedy(lp, int(n)) for lp, n in zip(log_probs, lengths)]
    return out


@dataclass
class ClipVectors:
    """One split's clips as vector sequences (L_i, D) of one source, one vector per `frames_per_vector`
    frames, with their gloss and signer."""

    source: str
    frames_per_vector: int
    ids: list[str]
    vectors: list[torch.Tensor]
    glosses: list[str]
    signers: list[str | None]


@torch.no_grad()
def clip_vectors(tokenizer: Tokenizer, data_root: str | Path, split: str, source: str, batch_size: int = 64,
                 max_clips: int = 0) -> ClipVectors:
    """The clips of a prepared dataset's split (the first `max_clips`; 0 = all) with a gloss, as vectors of
    `source` (SOURCES) computed with `tokenizer`: one vector per code, L_i = frames // tokenizer.downsample."""
    from lslm.data import MotionDataset

    if source not in SOURCES:
        raise InvalidInputError(None, "source", f"one of {SOURCES}", got=source)
    dataset = MotionDataset(data_root, split=split, normalize=False)
    items = [dataset[i] for i in range(len(dataset)) if dataset.records[i].get("gloss")]
    items = items[:max_clips] if max_clips > 0 else items
    step = tokenizer.downsample
    items = [it for it in items if it["length"] >= step]
    out = ClipVectors(source, step, [], [], [], [])
    order = sorted(range(len(items)), key=lambda i: items[i]["length"])  # little padding per batch
    vectors: dict[int, torch.Tensor] = {}
    for start in range(0, len(order), batch_size):
        chunk = order[start:start + batch_size]
        feats = nn.utils.rnn.pad_sequence([items[i]["features"] for i in chunk], batch_first=True)
        frames = torch.tensor([items[i]["length"] for i in chunk])
        codes_per_clip = frames // step
        if source == "features":
            x = tokenizer.normalizer.normalize(feats)
            L = x.shape[1] // step
            rows = x[:, : L * step].reshape(len(chunk), L, step, -1).mean(2)   # (B, L, D)
        elif source == "latents":
            rows = tokenizer.encode_latents(feats, lengths=frames).cpu()      # (B, L, code_dim)
        else:
            codes = tokenizer.encode(feats, lengths=frames).cpu()             # (B, L), -1 past the end
            rows = tokenizer.codebook.cpu()[codes.clamp_min(0)]               # (B, L, code_dim)
        for i, n, r in zip(chunk, codes_per_clip.tolist(), rows):
            vectors[i] = r[:n].float().clone()
    for i, item in enumerate(items):
        out.ids.append(item["id"])
        out.vectors.append(vectors[i])
        out.glosses.append(item["gloss"])
        out.signers.append(item["signer"])
    return out
