"""Tiny, download-free pieces for the model tests: the shared tiny text tokenizer, Llama and VQ-VAE motion
tokenizer with 16 codes of dimension 16 (tests/tiny_models.py)."""
from __future__ import annotations

import pytest
import torch
from tiny_models import SENTENCES, make_llm, make_motion_tokenizer, make_text_tokenizer


@pytest.fixture
def text_tokenizer():
    return make_text_tokenizer(SENTENCES)


@pytest.fixture(scope="session")
def build_motion_tokenizer():
    """build_motion_tokenizer(codebook_size=16, code_dim=16) → a tiny motion Tokenizer."""
    return make_motion_tokenizer


@pytest.fixture(scope="session")
def build_model():
    """build_model(base_dir=None, **config_fields) → a fresh tiny LSLM (seeded). With base_dir the
    LLM is first saved there and loaded back by path, as `LSLMConfig.llm` names a real model."""
    from transformers import AutoModelForCausalLM

    from lslm.model import LSLM, LSLMConfig

    def build(base_dir=None, **fields):
        tok = make_text_tokenizer(SENTENCES)
        llm = make_llm(len(tok))
        if base_dir is not None:
            llm.save_pretrained(base_dir)
            llm = AutoModelForCausalLM.from_pretrained(base_dir)
        torch.manual_seed(1)
        return LSLM(LSLMConfig(llm=str(base_dir or "tiny"), **fields), llm, tok, make_motion_tokenizer()).eval()
    return build


@pytest.fixture(scope="session")
def model_dir(build_model, tmp_path_factory):
    """A saved tiny LSLM in which the motion visibly steers the output: a codebook shrunk to the scale of
    the random encoder's outputs (so clips get varied codes) and a projector scaled up."""
    path = tmp_path_factory.mktemp("run") / "final"
    model = build_model()
    with torch.no_grad():
        model.motion_tokenizer.model.quantizer.codebook.mul_(0.1)
        model.projector.linear_2.weight.mul_(30)
    model.save_pretrained(path)
    return path
