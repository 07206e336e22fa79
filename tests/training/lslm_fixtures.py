"""Download-free pieces for the LSLM recipe tests: a tiny Llama + BPE tokenizer saved as a Hugging Face
folder (what `model.llm` names), a tiny motion tokenizer folder, and a run-config builder."""
from __future__ import annotations

from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[2]
TINY_YAML = REPO / "configs" / "lslm" / "tiny.yaml"
WORDS = ["clip tr0 tr1 tr2 tr3 tr4 tr5 tr6 tr7 tr8 short va0 va1 va2",
         "Translate the American Sign Language represented by to English.",
         "What does the signer say in this motion? Please write it in English. the of gloss sign"]


def save_tiny_llm(directory: Path) -> Path:
    """A 2-layer Llama (hidden 32) and a byte-level BPE tokenizer (~300 entries) in one HF folder."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    bpe = Tokenizer(models.BPE(unk_token="<unk>"))
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=300, special_tokens=["<unk>", "<bos>", "<eos>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    bpe.train_from_iterator(WORDS, trainer)
    bpe.post_processor = processors.TemplateProcessing(single="<bos> $A", special_tokens=[("<bos>", 1)])
    tok = PreTrainedTokenizerFast(tokenizer_object=bpe, bos_token="<bos>", eos_token="<eos>", unk_token="<unk>")
    torch.manual_seed(0)
    llm = LlamaForCausalLM(LlamaConfig(
        vocab_size=len(tok), hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=2, max_position_embeddings=512, bos_token_id=1, eos_token_id=2,
        tie_word_embeddings=False))
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
