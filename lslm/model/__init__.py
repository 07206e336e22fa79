"""The LSLM model (docs/model.md): a Hugging Face causal LM reading sign motion codes.

    from lslm.model import LSLM, LSLMConfig
    model = LSLM.from_config(LSLMConfig(llm="meta-llama/Llama-3.2-3B-Instruct"), motion_tokenizer)
    batch = model.collator()([MotionTextPair(codes, "hello there")])
    loss = model(**batch).loss
    model.generate(codes=codes, num_beams=4)
"""
from lslm.model.collate import (
    IGNORE_INDEX,
    MotionTextCollator,
    MotionTextPair,
    PromptEncoder,
    length_grouped_batches,
)
from lslm.model.config import LoraSettings, LSLMConfig
from lslm.model.modeling import LSLM
from lslm.model.projector import MotionProjector
from lslm.model.templates import CAPTION_PLACEHOLDER, GLOSS_PLACEHOLDER, Template, TemplateSet
from lslm.model.tokens import (
    MOTION_END,
    MOTION_PAD,
    MOTION_PLACEHOLDER,
    MOTION_START,
    add_motion_tokens,
    code_token,
)

__all__ = [
    "CAPTION_PLACEHOLDER",
    "GLOSS_PLACEHOLDER",
    "IGNORE_INDEX",
    "LSLM",
    "MOTION_END",
    "MOTION_PAD",
    "MOTION_PLACEHOLDER",
    "MOTION_START",
    "LSLMConfig",
    "LoraSettings",
    "MotionProjector",
    "MotionTextCollator",
    "MotionTextPair",
    "PromptEncoder",
    "Template",
    "TemplateSet",
    "add_motion_tokens",
    "code_token",
    "length_grouped_batches",
]
