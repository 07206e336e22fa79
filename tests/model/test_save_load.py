"""LSLM.save_pretrained / from_pretrained: one folder, safetensors only, same logits, mismatches refused."""
import json
import os
import shutil
import stat

import pytest
import torch

from lslm.errors import CheckpointMismatchError, InvalidInputError
from lslm.model import LSLM, LoraSettings, TemplateSet
from lslm.model.collate import PRETRAIN_M2T
from lslm.tokenizer import CodedClip

CLIPS = [CodedClip("a", (3, 1, 4), "thank you"), CodedClip("b", (5, 9, 2, 6, 5), "hello how are you")]
TEMPLATES = [TemplateSet.load("instruct").default("m2t"), PRETRAIN_M2T]
LORA = LoraSettings(r=4, alpha=8, dropout=0.0)


@pytest.mark.parametrize("fields", [{}, {"mode": "vocab"}, {"lora": LORA}, {"mode": "vocab", "lora": LORA},
                                    {"projector_norm": "embedding"}],
                         ids=["projector", "vocab", "lora", "vocab+lora", "projector_norm"])
def test_round_trip_gives_the_same_logits(build_model, tmp_path, fields):
    model = build_model(base_dir=tmp_path / "base", **fields)
    batch = model.collator()(CLIPS, TEMPLATES)
    before = model(**batch).logits
    with torch.no_grad():  # move every trainable weight away from its initial value
        for p in model.parameters():
            if p.requires_grad:
                p.add_(0.1 * torch.randn_like(p))
    trained = model(**batch).logits
    assert not torch.allclose(before, trained)
    model.save_pretrained(tmp_path / "ckpt")
    files = {p.relative_to(tmp_path / "ckpt").as_posix() for p in (tmp_path / "ckpt").rglob("*") if p.is_file()}
    assert not {f for f in files if f.endswith((".bin", ".pt", ".pth", ".pkl"))}
    assert {"lslm_config.json", "special_tokens.json", "tokenizer/model.safetensors"} <= files
    assert ("projector.safetensors" in files) == (fields.get("mode") != "vocab")
    if "lora" in fields:  # adapter only; the base is referenced by path
        assert "llm/adapter_model.safetensors" in files and "llm/model.safetensors" not in files
    loaded = LSLM.from_pretrained(tmp_path / "ckpt")
    assert not loaded.training and loaded.token_ids == model.token_ids
    torch.testing.assert_close(loaded(**loaded.collator()(CLIPS, TEMPLATES)).logits, trained)


def test_changed_special_token_ids_are_refused(build_model, tmp_path):
    build_model().save_pretrained(tmp_path / "ckpt")
    path = tmp_path / "ckpt" / "special_tokens.json"
    ids = json.loads(path.read_text())
    path.write_text(json.dumps({k: v + 1 for k, v in ids.items()}))
    with pytest.raises(CheckpointMismatchError, match="special_tokens.json"):
        LSLM.from_pretrained(tmp_path / "ckpt")


def test_other_motion_tokenizer_is_refused(build_model, build_motion_tokenizer, tmp_path):
    build_model().save_pretrained(tmp_path / "ckpt")
    shutil.rmtree(tmp_path / "ckpt" / "tokenizer")
    build_motion_tokenizer(codebook_size=32).save_pretrained(tmp_path / "ckpt" / "tokenizer")
    with pytest.raises(CheckpointMismatchError, match="codebook_size=32"):
        LSLM.from_pretrained(tmp_path / "ckpt")


def test_folder_is_readable_by_others_and_complete(build_model, tmp_path):
    """The folder has the umask's permissions (a temporary directory's 0o700 would lock other users out);
    a missing projector is named."""
    umask = os.umask(0o022)
    try:
        build_model().save_pretrained(tmp_path / "ckpt")
    finally:
        os.umask(umask)
    assert stat.S_IMODE((tmp_path / "ckpt").stat().st_mode) == 0o755
    assert stat.S_IMODE((tmp_path / "ckpt" / "tokenizer").stat().st_mode) == 0o755
    (tmp_path / "ckpt" / "projector.safetensors").unlink()
    with pytest.raises(InvalidInputError, match="projector.safetensors"):
        LSLM.from_pretrained(tmp_path / "ckpt")
