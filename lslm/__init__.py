"""lslm: Large Sign Language Models — 3D sign motion → English with an LLM.

`import lslm` stays light: the tokenizer and the LLM wrapper load on first use.
"""
from __future__ import annotations

from lslm.lazy import lazy_exports

__version__ = "0.1.0"
__all__ = ["LSLM", "Tokenizer", "__version__"]
__getattr__, __dir__ = lazy_exports(__name__, {"LSLM": "lslm.model", "Tokenizer": "lslm.tokenizer"})
