"""Motion special tokens: fixed order, placeholder last, the paper's table-9 ids."""
import pytest

from lslm.errors import InvalidInputError
from lslm.model import MOTION_PLACEHOLDER, add_motion_tokens, code_token


def tokenizer_of_size(n: int):
    """A PreTrainedTokenizerFast with exactly n entries (WordLevel built in memory)."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    word_level = Tokenizer(models.WordLevel({f"w{i}": i for i in range(n)}, unk_token="w0"))
    word_level.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    return PreTrainedTokenizerFast(tokenizer_object=word_level)


@pytest.mark.parametrize("size, placeholder", [(128_256, 128_259), (151_665, 151_668)])  # Llama-3.2, Qwen2.5
def test_placeholder_id_matches_paper_table_9(size, placeholder):
    tok = tokenizer_of_size(size)
    ids = add_motion_tokens(tok)
    assert ids == {"start": size, "end": size + 1, "pad": size + 2, "placeholder": placeholder}
    assert len(tok) == size + 4
    assert tok(f"w5 {MOTION_PLACEHOLDER} w7")["input_ids"] == [5, placeholder, 7]
    assert tok.pad_token_id == size + 2  # the tokenizer had no pad token


def test_adding_twice_keeps_ids_and_existing_pad(text_tokenizer):
    text_tokenizer.pad_token = "<unk>"
    first = add_motion_tokens(text_tokenizer)
    n = len(text_tokenizer)
    assert add_motion_tokens(text_tokenizer) == first and len(text_tokenizer) == n
    assert text_tokenizer.pad_token == "<unk>"


def test_vocab_mode_codes_follow_the_placeholder(text_tokenizer):
    n = len(text_tokenizer)
    ids = add_motion_tokens(text_tokenizer, codebook_size=16)
    assert ids["placeholder"] == n + 3 and ids["code_offset"] == n + 4
    assert text_tokenizer.convert_tokens_to_ids(code_token(15)) == n + 4 + 15 == len(text_tokenizer) - 1
    assert text_tokenizer.decode([ids["code_offset"], 5], skip_special_tokens=True) == \
        text_tokenizer.decode([5], skip_special_tokens=True)


def test_partially_added_tokens_are_an_error(text_tokenizer):
    add_motion_tokens(text_tokenizer)
    with pytest.raises(InvalidInputError, match="none or all"):
        add_motion_tokens(text_tokenizer, codebook_size=4)
