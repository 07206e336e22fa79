"""Motion special tokens and their ids in the LLM vocabulary.

Four tokens are appended to the text tokenizer in a fixed order, the placeholder last:

    <Motion_Start>  <Motion_End>  <Motion_Pad>  <Motion_Placeholder>
       N              N + 1          N + 2        N + 3          (N = len(tokenizer) before)

With Llama-3.2 (N = 128,256) and Qwen2.5 (N = 151,665) the placeholder is 128,259 / 151,668, the ids
of the paper's table 9. In the vocabulary baseline (MotionGPT) the K codes follow as
`<motion_id_0>` … `<motion_id_{K-1}>` at N + 4 … N + 3 + K.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from lslm.errors import CheckpointMismatchError, InvalidInputError

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase

MOTION_START = "<Motion_Start>"
MOTION_END = "<Motion_End>"
MOTION_PAD = "<Motion_Pad>"
MOTION_PLACEHOLDER = "<Motion_Placeholder>"
SPECIAL_TOKENS = {"start": MOTION_START, "end": MOTION_END, "pad": MOTION_PAD, "placeholder": MOTION_PLACEHOLDER}


def code_token(k: int) -> str:
    """The vocabulary-baseline token of motion code k."""
    return f"<motion_id_{k}>"


def add_motion_tokens(hf_tokenizer: PreTrainedTokenizerBase,
                      codebook_size: int | None = None) -> dict[str, int]:
    """Add the motion tokens to a Hugging Face tokenizer (in place) and return their ids.

    Returns {"start", "end", "pad", "placeholder"} and, when `codebook_size` is given (vocabulary
    baseline), "code_offset": the id of `<motion_id_0>`; code k is id code_offset + k. Calling it
    again on a tokenizer that already holds the tokens adds nothing and returns the same ids.
    The tokenizer's pad token is set to `<Motion_Pad>` when it has none (Llama-3.2 has none).
    """
    from tokenizers import AddedToken

    names = list(SPECIAL_TOKENS.values())
    if codebook_size is not None:
        names += [code_token(k) for k in range(codebook_size)]
    vocab = hf_tokenizer.get_vocab()
    present = [n for n in names if n in vocab]
    if present and len(present) != len(names):
        missing = [n for n in names if n not in vocab]
        raise InvalidInputError(None, "tokenizer", "either none or all of the motion tokens",
                                got=f"{len(present)} present, missing {missing[:4]}…")
    if not present:
        hf_tokenizer.add_tokens([AddedToken(n, special=True, normalized=False) for n in names],
                                special_tokens=True)
    ids = {role: hf_tokenizer.convert_tokens_to_ids(name) for role, name in SPECIAL_TOKENS.items()}
    if codebook_size is not None:
        ids["code_offset"] = hf_tokenizer.convert_tokens_to_ids(code_token(0))
        last = hf_tokenizer.convert_tokens_to_ids(code_token(codebook_size - 1))
        if last != ids["code_offset"] + codebook_size - 1:
            raise InvalidInputError(None, "tokenizer", "motion code tokens with consecutive ids",
                                    got=f"{code_token(0)}={ids['code_offset']}, "
                                        f"{code_token(codebook_size - 1)}={last}")
    if [ids["start"], ids["end"], ids["pad"]] != [ids["placeholder"] - 3, ids["placeholder"] - 2,
                                                  ids["placeholder"] - 1]:
        raise InvalidInputError(None, "tokenizer", "the four motion tokens at consecutive ids, placeholder last",
                                got=ids)
    if hf_tokenizer.pad_token is None:
        hf_tokenizer.pad_token = MOTION_PAD
    return ids


def check_token_ids(expected: dict[str, int], got: dict[str, int], where: str) -> None:
    """Raise CheckpointMismatchError when saved motion-token ids differ from the tokenizer's."""
    if expected != got:
        raise CheckpointMismatchError(f"motion token ids {got} differ from the checkpoint's {expected} "
                                      "(the text tokenizer is not the one the model was trained with)", path=where)
