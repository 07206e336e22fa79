"""Download-free pieces for the LSLM recipe tests: a tiny Llama + BPE tokenizer saved as a Hugging Face
folder (what `model.llm` names), a tiny motion tokenizer folder, and a run-config builder."""
from __future__ import annotations

from pathlib import Path

import torch
from tiny_models import make_llm, make_text_tokenizer

REPO = Path(__file__).resolve().parents[2]
TINY_YAML = REPO / "configs" / "lslm" / "tiny.yaml"
WORDS = ["clip tr0 tr1 tr2 tr3 tr4 tr5 tr6 tr7 tr8 short va0 va1 va2",
         "Translate the American Sign Language represented by to English.",
         "What does the signer say in this motion? Please write it in English. the of gloss sign"]


def save_tiny_llm(directory: Path) -> Path:
    """The tiny Llama and BPE tokenizer of tests/tiny_models.py in one HF folder."""
    tok = make_text_tokenizer(WORDS)
    llm = make_llm(len(tok))
    llm.save_pretrained(directory)
    tok.save_pretrained(directory)
    return directory


def save_tiny_motion_tokenizer(directory: Path, dataset_root: Path) -> Path:
    """A random VQ-VAE (16 codes of dimension 16) with the dataset's statistics, saved as a Tokenizer."""
    from lslm.data import MotionDataset
    from lslm.tokenizer import VQVAE, Tokenizer, TokenizerConfig

    torch.manual_seed(0)
    vq = VQVAE(TokenizerConfig(width=32, code_dim=16, codebook_size=16, depth=1))
    with torch.no_grad():
        vq.quantizer.codebook.copy_(torch.randn(16, 16))
    data = MotionDataset(dataset_root, split="train")
    Tokenizer(vq, data.normalizer, data.target_skeleton, data.fps).save_pretrained(directory)
    return directory


def tiny_args(llm: Path, tokenizer: Path, data: Path, out: Path, *extra: str) -> list[str]:
    """Command-line arguments of tools/pretrain.py or tools/instruct.py for the tiny config."""
    return ["--config", str(TINY_YAML), f"model.llm={llm}", f"data.root={data}", f"data.tokenizer={tokenizer}",
            f"output_dir={out}", *extra]


def pretrain(argv: list[str]) -> Path:
    """`tools/pretrain.py ARGV` through the recipe's own parse_config and run; returns the run directory."""
    from lslm.recipes.pretrain import parse_config, run

    return run(*parse_config(argv))


def instruct(argv: list[str]) -> Path:
    """`tools/instruct.py ARGV` through the recipe's own parse_config and run; returns the run directory."""
    from lslm.recipes.instruct import parse_config, run

    return run(*parse_config(argv))
