"""The LSLM model (docs/model.md): a Hugging Face causal LM reading sign motion codes.

    from lslm.model import LSLM, LSLMConfig
    model = LSLM.from_config(LSLMConfig(llm="meta-llama/Llama-3.2-3B-Instruct"), motion_tokenizer)
    batch = model.collator()([CodedClip("clip-1", codes, "hello there")])   # lslm.tokenizer.CodedClip
    loss = model(**batch).loss
    model.generate(codes=codes, num_beams=4)
"""
from __future__ import annotations

from lslm.lazy import lazy_exports

# name → the submodule defining it, imported on first use: a torch-free submodule (a config) stays torch-free
_EXPORTS = {
    "IGNORE_INDEX": "lslm.model.collate",
    "MotionTextCollator": "lslm.model.collate",
    "PromptEncoder": "lslm.model.collate",
    "length_grouped_batches": "lslm.model.collate",
    "LoraSettings": "lslm.model.config",
    "LSLMConfig": "lslm.model.config",
    "LSLM": "lslm.model.modeling",
    "MotionProjector": "lslm.model.projector",
    "CAPTION_PLACEHOLDER": "lslm.model.templates",
    "GLOSS_PLACEHOLDER": "lslm.model.templates",
    "Template": "lslm.model.templates",
    "TemplateSet": "lslm.model.templates",
    "MOTION_END": "lslm.model.tokens",
    "MOTION_PAD": "lslm.model.tokens",
    "MOTION_PLACEHOLDER": "lslm.model.tokens",
    "MOTION_START": "lslm.model.tokens",
    "add_motion_tokens": "lslm.model.tokens",
    "code_token": "lslm.model.tokens",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
