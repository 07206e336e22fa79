"""Batching (clip, template) pairs: expansion of the motion placeholder, answer-only labels."""
import pytest
import torch

from lslm.errors import InvalidInputError
from lslm.model import (
    IGNORE_INDEX,
    MotionTextCollator,
    PromptEncoder,
    TemplateSet,
    add_motion_tokens,
    length_grouped_batches,
)
from lslm.model.collate import PRETRAIN_M2T, corrupt_codes
from lslm.tokenizer import CodedClip

INSTRUCT = TemplateSet.load("instruct")


def collator(tok, mode="projector"):
    ids = add_motion_tokens(tok, 16 if mode == "vocab" else None)
    return MotionTextCollator(PromptEncoder(tok, ids, mode, codebook_size=16)), ids


def test_projector_batch_layout(text_tokenizer):
    collate, ids = collator(text_tokenizer)
    template = INSTRUCT.default("m2t")
    batch = collate([CodedClip("a", (3, 1, 4), "thank you"), CodedClip("b", (5, 9, 2, 6, 5, -1, -1), "hello how are you")],
                    [template, PRETRAIN_M2T])
    assert set(batch) == {"input_ids", "attention_mask", "labels", "codes"}
    assert batch["codes"].tolist() == [[3, 1, 4, -1, -1], [5, 9, 2, 6, 5]]
    for row, text, n_codes, prompt in ((0, "thank you", 3, template.input), (1, "hello how are you", 5, "")):
        n = int(batch["attention_mask"][row].sum())
        ids_row, labels = batch["input_ids"][row].tolist(), batch["labels"][row].tolist()
        # right padding: pad ids and ignored labels after the sequence
        assert batch["attention_mask"][row, :n].all() and ids_row[n:] == [text_tokenizer.pad_token_id] * (len(ids_row) - n)
        # motion: start, one placeholder per code, end — once
        s = ids_row.index(ids["start"])
        assert ids_row[s:s + n_codes + 2] == [ids["start"], *[ids["placeholder"]] * n_codes, ids["end"]]
        assert ids_row.count(ids["placeholder"]) == n_codes
        # labels: exactly the answer tokens and EOS, at the end of the sequence
        answer = text_tokenizer(text, add_special_tokens=False)["input_ids"] + [text_tokenizer.eos_token_id]
        assert [t for t in labels if t != IGNORE_INDEX] == answer
        assert labels[n - len(answer):n] == answer == ids_row[n - len(answer):n]
        # the prompt is BOS + the template text around the motion
        assert ids_row[0] == text_tokenizer.bos_token_id
        before, _, after = prompt.partition("<Motion_Placeholder>")
        assert text_tokenizer.decode(ids_row[1:s]) == before
        assert text_tokenizer.decode(ids_row[s + n_codes + 2:n - len(answer)]) == after


def test_vocab_mode_motion_can_be_the_answer(text_tokenizer):
    collate, ids = collator(text_tokenizer, mode="vocab")
    batch = collate([CodedClip("a", (7, 0, 15), "hello")], INSTRUCT.default("t2m"))
    assert "codes" not in batch
    motion = [ids["start"], ids["code_offset"] + 7, ids["code_offset"], ids["code_offset"] + 15, ids["end"]]
    labels = [t for t in batch["labels"][0].tolist() if t != IGNORE_INDEX]
    assert labels == motion + [text_tokenizer.eos_token_id]
    assert ids["placeholder"] not in batch["input_ids"]


def test_motion_answer_needs_vocab_mode(text_tokenizer):
    collate, _ = collator(text_tokenizer)
    with pytest.raises(InvalidInputError, match="vocab"):
        collate([CodedClip("a", (1, 2), "hello")], INSTRUCT.default("t2m"))


@pytest.mark.parametrize("codes", [[1, -1, 2], [1, 16], [], [-1, -1]])
def test_bad_codes_are_rejected(text_tokenizer, codes):
    collate, _ = collator(text_tokenizer)
    with pytest.raises(InvalidInputError, match="codes"):
        collate([CodedClip("a", tuple(codes), "hello")])


def test_empty_batch_is_rejected(text_tokenizer):
    collate, _ = collator(text_tokenizer)
    with pytest.raises(InvalidInputError, match="'clips'"):
        collate([])
    with pytest.raises(InvalidInputError, match="'templates'"):
        collate([CodedClip("a", (1, 2), "hello")] * 2, [PRETRAIN_M2T])


def test_length_grouped_batches():
    lengths = [int(x) for x in torch.randint(1, 200, (1000,), generator=torch.Generator().manual_seed(0))]
    batches = length_grouped_batches(lengths, batch_size=8, seed=3, mega_batch_mult=25)
    assert sorted(i for b in batches for i in b) == list(range(1000))
    assert all(len(b) == 8 for b in batches)
    assert all([lengths[i] for i in b] == sorted((lengths[i] for i in b), reverse=True) for b in batches)
    spread = sum(max(lengths[i] for i in b) - min(lengths[i] for i in b) for b in batches) / len(batches)
    assert spread < 20  # random batches of 8 from U(1, 200) spread ~150
    assert batches == length_grouped_batches(lengths, 8, seed=3, mega_batch_mult=25)
    assert batches != length_grouped_batches(lengths, 8, seed=4, mega_batch_mult=25)


def test_chat_template_wraps_the_prompt(text_tokenizer):
    text_tokenizer.chat_template = ("{% for m in messages %}[user] {{ m['content'] }}{% endfor %}"
                                    "{% if add_generation_prompt %} [bot] {% endif %}")
    ids = add_motion_tokens(text_tokenizer)
    encoder = PromptEncoder(text_tokenizer, ids, "projector", codebook_size=16, chat_template=True)
    row = encoder.encode("hello <Motion_Placeholder> you", [4, 2], is_prompt=True)
    s = row.index(ids["start"])
    assert row[s:s + 4] == [ids["start"], ids["placeholder"], ids["placeholder"], ids["end"]]
    assert text_tokenizer.decode(row[:s]) == "[user] hello "
    assert text_tokenizer.decode(row[s + 4:]) == " you [bot] "


def test_corrupt_codes_replaces_the_asked_share_and_keeps_padding():
    codes = torch.full((64, 100), -1, dtype=torch.long)
    codes[:, :80] = torch.arange(80) % 16                                    # 64 × 80 real codes, then padding
    same = corrupt_codes(codes, 0.0, 16, torch.Generator().manual_seed(0))
    assert torch.equal(same, codes)
    noisy = corrupt_codes(codes, 0.5, 16, torch.Generator().manual_seed(0))
    assert torch.equal(noisy[:, 80:], codes[:, 80:])                         # padding untouched
    assert ((noisy[:, :80] >= 0) & (noisy[:, :80] < 16)).all()
    # a replaced code equals the old one with probability 1/16: 0.5 · 15/16 = 46.9 % of the codes change
    changed = (noisy[:, :80] != codes[:, :80]).float().mean().item()
    assert abs(changed - 0.5 * 15 / 16) < 0.02
    assert torch.equal(noisy, corrupt_codes(codes, 0.5, 16, torch.Generator().manual_seed(0)))
    assert not torch.equal(noisy, corrupt_codes(codes, 0.5, 16, torch.Generator().manual_seed(1)))
