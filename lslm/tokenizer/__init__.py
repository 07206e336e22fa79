"""Motion tokenizer (docs/tokenizer.md): a VQ-VAE turning 623-dim motion features into codes, T/4 per clip.

    from lslm.tokenizer import Tokenizer
    tok = Tokenizer.from_pretrained("runs/vq/final")
    codes = tok.encode(features, lengths)      # (B, T // 4), −1 past each clip's end
    features = tok.decode(codes)
"""
from __future__ import annotations

from lslm.lazy import lazy_exports

# name → the submodule defining it, imported on first use: a torch-free submodule (a config) stays torch-free
_EXPORTS = {
    "CodedClip": "lslm.tokenizer.codes",
    "encode_dataset": "lslm.tokenizer.codes",
    "load_codes": "lslm.tokenizer.codes",
    "TokenizerConfig": "lslm.tokenizer.config",
    "vqvae_loss": "lslm.tokenizer.losses",
    "EMAQuantizer": "lslm.tokenizer.quantizer",
    "QuantizerOutput": "lslm.tokenizer.quantizer",
    "VQQuantizer": "lslm.tokenizer.quantizer",
    "Tokenizer": "lslm.tokenizer.tokenizer",
    "VQVAE": "lslm.tokenizer.vqvae",
    "VQVAEOutput": "lslm.tokenizer.vqvae",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
