"""Motion tokenizer (docs/tokenizer.md): a VQ-VAE turning 623-dim motion features into codes, T/4 per clip.

    from lslm.tokenizer import Tokenizer
    tok = Tokenizer.from_pretrained("runs/vq/final")
    codes = tok.encode(features, lengths)      # (B, T // 4), −1 past each clip's end
    features = tok.decode(codes)
"""
from lslm.tokenizer.config import TokenizerConfig
from lslm.tokenizer.losses import vqvae_loss
from lslm.tokenizer.quantizer import EMAQuantizer, QuantizerOutput, VQQuantizer
from lslm.tokenizer.tokenizer import Tokenizer
from lslm.tokenizer.vqvae import VQVAE, VQVAEOutput

__all__ = ["VQVAE", "EMAQuantizer", "QuantizerOutput", "Tokenizer", "TokenizerConfig", "VQQuantizer",
           "VQVAEOutput", "vqvae_loss"]
