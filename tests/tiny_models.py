"""Download-free tiny models shared by the test packages: a byte-level BPE text tokenizer trained in
memory (~300 entries, BOS post-processor like Llama's), a 2-layer Llama with hidden size 32 and a VQ-VAE
motion tokenizer with 16 codes of dimension 16 (random codebook, statistics of random features)."""
from __future__ import annotations

import numpy as np
import torch


def make_text_tokenizer(texts: list[str]):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    bpe = Tokenizer(models.BPE(unk_token="<unk>"))
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=300, special_tokens=["<unk>", "<bos>", "<eos>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    bpe.train_from_iterator(texts, trainer)
    bpe.post_processor = processors.TemplateProcessing(single="<bos> $A", special_tokens=[("<bos>", 1)])
    return PreTrainedTokenizerFast(tokenizer_object=bpe, bos_token="<bos>", eos_token="<eos>", unk_token="<unk>")


def make_llm(vocab_size: int, seed: int = 0):
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    config = LlamaConfig(vocab_size=vocab_size, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=512,
                         bos_token_id=1, eos_token_id=2, tie_word_embeddings=False)
    return LlamaForCausalLM(config).eval()


SENTENCES = [
    "hello how are you", "the cat sits on the mat", "i want to learn sign language", "my name is sam",
    "where is the library", "thank you very much", "good morning to everyone", "we go home tonight",
    "Translate the American Sign Language represented by to English.", "What does the signer say in",
    "Sign the English sentence in American Sign Language.", "Write the glosses of the signs in",
]


def make_motion_tokenizer(codebook_size: int = 16, code_dim: int = 16, seed: int = 0):
    from lslm.motion import Normalizer, default_rest_skeleton
    from lslm.tokenizer import VQVAE, Tokenizer, TokenizerConfig

    torch.manual_seed(seed)
    vq = VQVAE(TokenizerConfig(width=32, code_dim=code_dim, codebook_size=codebook_size, depth=1))
    with torch.no_grad():
        vq.quantizer.codebook.copy_(torch.randn(codebook_size, code_dim))
    normalizer = Normalizer.fit(np.random.default_rng(seed).normal(size=(64, 623)), num_joints=52)
    return Tokenizer(vq, normalizer, default_rest_skeleton(), fps=30.0)
