"""lslm: Large Sign Language Models — 3D sign motion → English with an LLM.

`import lslm` stays light: the tokenizer and the LLM wrapper load on first use.
"""
from __future__ import annotations

__version__ = "0.1.0"
__all__ = ["LSLM", "Tokenizer", "__version__"]


def __getattr__(name: str):
    if name == "Tokenizer":
        from lslm.tokenizer import Tokenizer
        return Tokenizer
    if name == "LSLM":
        from lslm.model import LSLM
        return LSLM
    raise AttributeError(f"module 'lslm' has no attribute {name!r}")
