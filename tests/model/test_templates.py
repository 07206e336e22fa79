"""Bundled prompt templates (MotionGPT JSON layout) and filling them."""
import json

import pytest

from lslm.errors import InvalidInputError
from lslm.model import CAPTION_PLACEHOLDER, MOTION_PLACEHOLDER, Template, TemplateSet


def test_instruct_set_has_dozens_of_phrasings_and_a_disjoint_held_out_subset():
    templates = TemplateSet.load("instruct")
    train, held = templates.templates("m2t"), templates.templates("m2t", held_out=True)
    assert len(train) >= 30 and len(held) >= 5
    assert not {t.input for t in train} & {t.input for t in held}
    for task in ("m2t", "m2g", "t2m"):
        for t in templates.templates(task) + templates.templates(task, held_out=True):
            assert (t.input + t.output).count(MOTION_PLACEHOLDER) == 1
    assert templates.default().input == \
        "Translate the American Sign Language represented by <Motion_Placeholder> to English."


def test_pretrain_set_is_the_bare_placeholder():
    t = TemplateSet.load("pretrain").default("m2t")
    assert (t.input, t.output) == (MOTION_PLACEHOLDER, CAPTION_PLACEHOLDER)


def test_fill_replaces_caption_and_gloss_but_not_motion():
    t = Template("t2m", f'Sign "{CAPTION_PLACEHOLDER}" please', MOTION_PLACEHOLDER)
    assert t.fill(text="good morning") == ('Sign "good morning" please', MOTION_PLACEHOLDER)
    with pytest.raises(InvalidInputError, match="text"):
        t.fill(gloss="GOOD MORNING")


def test_bad_template_file_names_the_field(tmp_path):
    path = tmp_path / "t.json"
    path.write_text(json.dumps({"G": {"s": {"class": "m2t", "input": ["no motion here"],
                                            "output": [CAPTION_PLACEHOLDER]}}}))
    with pytest.raises(InvalidInputError, match="G.s.input"):
        TemplateSet.load(path)
    path.write_text(json.dumps({"G": {"s": {"class": "x2y", "input": ["a"], "output": ["b"]}}}))
    with pytest.raises(InvalidInputError, match="class"):
        TemplateSet.load(path)
