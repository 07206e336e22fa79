"""The translation ceiling (a base LM taught gloss → English writes what it was taught, batched as alone) and
tools/diagnose.py end to end on the tiny synthetic corpus (every part writes figures that match its rows)."""
from __future__ import annotations

import json

import pytest
import torch

from lslm.eval.ceiling import CeilingConfig, text_only_loss, translate_glosses, train_gloss_translator
from lslm.model.base_lm import BaseLMConfig, chat_prompt_ids, train_base_lm

PAIRS = [("CAT MILK DRINK", "The cat drinks milk."), ("SHIRT RED MY FRIEND BUY", "My friend buys a red shirt."),
         ("GIFT THEY FORGET", "They forget a gift."), ("TODAY TEACHER SLEEP NOT", "The teacher does not sleep today.")]
SMALL = BaseLMConfig(vocab_size=300, hidden_size=64, num_layers=2, num_heads=4, intermediate_size=128,
                     steps=20, batch_size=8, lr=1e-2, warmup=10)


@pytest.fixture(scope="module")
def base_lm(tmp_path_factory):
    out = tmp_path_factory.mktemp("base_lm") / "lm"
    train_base_lm([t for _, t in PAIRS] + [g for g, _ in PAIRS], out, SMALL, progress=False)
    return out


def test_ceiling_translator_learns_its_pairs_and_batches_like_single_clips(base_lm):
    cfg = CeilingConfig(steps=150, batch_size=4, lr=1e-2, warmup=10)
    translator = train_gloss_translator(base_lm, PAIRS, cfg)
    glosses = [g for g, _ in PAIRS]
    batched = translate_glosses(translator, glosses, batch_size=4)
    assert batched == [t for _, t in PAIRS]  # the prompt it trained on is the one it is read with
    assert [translate_glosses(translator, [g])[0] for g in glosses] == batched  # left padding changes nothing


def test_text_only_loss_is_the_lms_own_answer_loss(base_lm):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok, model = AutoTokenizer.from_pretrained(base_lm), AutoModelForCausalLM.from_pretrained(base_lm).eval()
    prompt = chat_prompt_ids(tok, "Say a sentence.")
    singles, counts = [], []
    for _, text in PAIRS[:2]:  # Hugging Face's loss over the labelled answer, one text at a time
        answer = tok(text, add_special_tokens=False)["input_ids"] + [tok.eos_token_id]
        ids = torch.tensor([prompt + answer])
        with torch.no_grad():
            singles.append(float(model(input_ids=ids, labels=torch.tensor([[-100] * len(prompt) + answer])).loss))
        counts.append(len(answer))
    assert text_only_loss(base_lm, [PAIRS[0][1]]) == pytest.approx(singles[0], rel=1e-5)
    weighted = (singles[0] * counts[0] + singles[1] * counts[1]) / sum(counts)  # batched: padding changes nothing
    assert text_only_loss(base_lm, [t for _, t in PAIRS[:2]]) == pytest.approx(weighted, rel=1e-5)


def test_diagnose_end_to_end(synthetic_tiny, base_lm, tmp_path):
    from lslm.eval.recognition import load_lexicon, score_glosses
    from lslm.eval.text import score
    from lslm.model import LSLM, LSLMConfig
    from lslm.tokenizer import VQVAE, Tokenizer, TokenizerConfig
    from lslm.recipes.diagnose import main

    from lslm.data import MotionDataset
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.manual_seed(0)
    vq = VQVAE(TokenizerConfig(width=32, code_dim=16, codebook_size=16, depth=1))
    data = MotionDataset(synthetic_tiny, split="train")
    tok = Tokenizer(vq, data.normalizer, data.target_skeleton, data.fps)
    tok.save_pretrained(tmp_path / "tokenizer")
    model = LSLM(LSLMConfig(llm=str(base_lm), chat_template=True, prompt="Translate <Motion_Placeholder>."),
                 AutoModelForCausalLM.from_pretrained(base_lm), AutoTokenizer.from_pretrained(base_lm), tok)
    model.save_pretrained(tmp_path / "model")
    corpus = synthetic_tiny.parent / "raw" / "corpus.json"
    out = tmp_path / "diagnose"
    code = main([f"data={synthetic_tiny}", f"out={out}", f"corpus={corpus}", f"tokenizer={tmp_path / 'tokenizer'}",
                 f"llm={base_lm}", f"model={tmp_path / 'model'}", "train_clips=10", "probes=[latents,codes]",
                 "probe.steps=5", "probe.hidden=16", "ceiling.steps=3", "max_new_tokens=8",
                 "progress=false"])
    assert code == 0
    results = json.loads((out / "results.json").read_text())
    assert set(results["probe"]) == {"latents", "codes"} and results["config"]["train_clips"] == 10
    assert results["probe"]["codes"]["frames_per_code"] == 4 and results["probe"]["codes"]["kernel"] == 5
    lexicon = load_lexicon(corpus)
    for source in ("latents", "codes"):
        for split, clips in (("train", 10), ("test", 8)):
            rows = [json.loads(line) for line in (out / f"probe_{source}_{split}.jsonl").read_text().splitlines()]
            assert len(rows) == clips == results["probe"][source][split]["clips"]
            again = score_glosses([r["prediction"] for r in rows], [r["reference"] for r in rows], lexicon=lexicon)
            assert again["wer"] == results["probe"][source][split]["wer"]
    assert results["probe"]["codes"]["test"]["per_signer"].keys() == {"S11", "S12"}
    ceiling = [json.loads(line) for line in (out / "ceiling_test.jsonl").read_text().splitlines()]
    assert len(ceiling) == 8 and set(results["ceiling"]["text_only_loss"]) == {"test", "val"}
    assert results["ceiling"]["test"]["bleu4"] == score([r["prediction"] for r in ceiling],
                                                        [r["reference"] for r in ceiling]).corpus["bleu4"]
    assert results["model"]["m2t"]["train"]["wer"] is not None and results["model"]["m2g"]["test"]["clips"] == 8
    # a model whose run config says it never trained on m2g: its gloss reading is left out, with a note
    (tmp_path / "config.yaml").write_text("data:\n  tasks: [m2t]\n")
    assert main([f"data={synthetic_tiny}", f"out={tmp_path / 'm2t_only'}", f"model={tmp_path / 'model'}",
                 "train_clips=4", "max_new_tokens=4", "progress=false"]) == 0
    m2t_only = json.loads((tmp_path / "m2t_only" / "results.json").read_text())["model"]
    assert m2t_only["m2g"] == {} and set(m2t_only["m2t"]) == {"train", "test"} and "['m2t']" in m2t_only["note"]
    (tmp_path / "config.yaml").write_text("data: [unclosed\n")  # a broken run config: exit 2, not a traceback
    assert main([f"data={synthetic_tiny}", f"out={tmp_path / 'broken'}", f"model={tmp_path / 'model'}",
                 "progress=false"]) == 2
    assert main([f"data={synthetic_tiny}", f"out={out}"]) == 2  # nothing to diagnose


def test_ceiling_with_grammar_pairs_never_sees_another_split(synthetic_tiny, base_lm, tmp_path, monkeypatch):
    import lslm.eval.ceiling as ceiling
    from lslm.data import read_manifest
    from lslm.recipes.diagnose import DiagnoseConfig, run_ceiling

    seen = {}

    def fake_train(llm, pairs, cfg, progress=True):
        seen["pairs"] = list(pairs)
        return train_gloss_translator(llm, pairs[:2], CeilingConfig(steps=1), progress=False)
    monkeypatch.setattr(ceiling, "train_gloss_translator", fake_train)
    rows = read_manifest(synthetic_tiny / "manifest.jsonl")
    train = [(r["gloss"], r["text"]) for r in rows if r["split"] == "train" and r.get("gloss")]
    cfg = DiagnoseConfig(data=str(synthetic_tiny), out=str(tmp_path), llm=str(base_lm), splits=("test",),
                         ceiling=CeilingConfig(grammar_sentences=30), max_new_tokens=2, progress=False)
    run_ceiling(cfg, tmp_path)
    assert len(seen["pairs"]) == len(train) + 30 and seen["pairs"][:len(train)] == train
    unseen = {v for r in rows if r["split"] != "train" for v in (r["text"], r["gloss"])}
    assert not unseen & {v for pair in seen["pairs"][len(train):] for v in pair}  # val/test stay unseen
