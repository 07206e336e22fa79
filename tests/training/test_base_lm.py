"""The stand-in base LM of the synthetic pipeline: an ordinary Hugging Face folder with a BOS-adding BPE
tokenizer and a chat template, and a model that has learned its sentences (alone and as chat answers)."""
from __future__ import annotations

import json

import torch

from lslm.model.base_lm import BaseLMConfig, train_base_lm
from lslm.recipes.train_base_lm import main, parse_config, run

SENTENCES = ["The cat drinks milk.", "My friend buys a red shirt.", "They forget a gift.",
             "The teacher does not sleep today."]
SMALL = BaseLMConfig(vocab_size=300, hidden_size=64, num_layers=2, num_heads=4, intermediate_size=128,
                     steps=150, batch_size=8, lr=1e-2, warmup=10)


def test_trains_and_saves_a_hugging_face_folder(tmp_path):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    metrics = train_base_lm(SENTENCES, tmp_path / "lm", SMALL, progress=False)
    assert metrics["sentences"] == 4 and metrics["final_loss"] < 0.3
    tok = AutoTokenizer.from_pretrained(tmp_path / "lm")
    model = AutoModelForCausalLM.from_pretrained(tmp_path / "lm").eval()
    ids = tok("The cat")["input_ids"]
    assert ids[0] == tok.bos_token_id and tok(" cat", add_special_tokens=False)["input_ids"][0] != tok.bos_token_id
    chat = tok.apply_chat_template([{"role": "user", "content": "Say a sentence."}], tokenize=False,
                                   add_generation_prompt=True)
    assert chat == "<|bos|>user: Say a sentence.\nassistant:\n"

    def complete(text: str) -> str:
        prompt = torch.tensor([tok(text, add_special_tokens=False)["input_ids"]])
        out = model.generate(prompt, max_new_tokens=12, do_sample=False, pad_token_id=tok.pad_token_id)
        return tok.decode(out[0, prompt.shape[1]:], skip_special_tokens=True)

    assert complete("<|bos|>My friend buys") == " a red shirt."  # it knows its sentences
    answer = complete(chat)  # and answers a chat request with (the start of) one of them
    assert len(answer) > 10 and any(s.startswith(answer) for s in SENTENCES), answer


def test_command_line(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    rows = [{"id": str(i), "text": s, "split": "train" if i < 3 else "test", "features": f"features/{i}.npy",
             "fps": 30.0, "frames": 40} for i, s in enumerate(SENTENCES)]
    (data / "manifest.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    metrics = run(parse_config(["--data", str(data), "--out", str(tmp_path / "lm"), "--steps", "3",
                                "--vocab-size", "300", "--hidden-size", "32", "--num-layers", "1"]))
    assert metrics["sentences"] == 3 and metrics["steps"] == 3
    saved = json.loads((tmp_path / "lm" / "base_lm.json").read_text())
    assert saved["config"]["hidden_size"] == 32 and (tmp_path / "lm" / "model.safetensors").is_file()


def test_grammar_sentences_never_give_an_excluded_sentence():
    from lslm.data.synthetic.generate import grammar_sentences

    first = grammar_sentences(200, seed=3)
    held = {first[0].text, " ".join(first[1].gloss)}  # one excluded by its text, one by its gloss
    again = grammar_sentences(200, seed=3, exclude=held)
    assert len(again) == 200 and len({s.text for s in again}) == 200
    assert first[0].text not in {s.text for s in again}
    assert " ".join(first[1].gloss) not in {" ".join(s.gloss) for s in again}
    assert again[:5] == first[2:7]  # the same stream, with the excluded draws skipped


def test_command_line_with_grammar_text_and_gloss_task(tmp_path, monkeypatch):
    import lslm.model.base_lm as base_lm
    from lslm.data.synthetic.generate import grammar_sentences

    held = grammar_sentences(3, seed=0)  # val/test sentences that the grammar would draw first
    data = tmp_path / "data"
    data.mkdir()
    rows = [{"id": str(i), "text": s, "gloss": "CAT MILK DRINK", "split": "train", "features": f"features/{i}.npy",
             "fps": 30.0, "frames": 40} for i, s in enumerate(SENTENCES[:2])]
    rows += [{"id": f"t{i}", "text": s.text, "gloss": " ".join(s.gloss), "split": "test",
              "features": f"features/t{i}.npy", "fps": 30.0, "frames": 40} for i, s in enumerate(held)]
    (data / "manifest.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    seen = {}

    def fake_train(texts, out_dir, cfg, progress=True, gloss_pairs=()):
        seen.update(texts=texts, pairs=list(gloss_pairs), cfg=cfg)
        return {}
    monkeypatch.setattr(base_lm, "train_base_lm", fake_train)
    assert main(["--data", str(data), "--out", str(tmp_path / "lm"), "--grammar-sentences", "20", "--gloss-task"]) == 0
    assert seen["cfg"].grammar_sentences == 20 and seen["cfg"].gloss_task is True
    assert len(seen["texts"]) == 22 and seen["texts"][:2] == SENTENCES[:2]
    assert len(seen["pairs"]) == 22 and seen["pairs"][0] == ("CAT MILK DRINK", SENTENCES[0])
    unseen = {s.text for s in held} | {" ".join(s.gloss) for s in held}
    assert not unseen & (set(seen["texts"]) | {g for g, _ in seen["pairs"]})  # test sentences stay unseen
    assert main(["--data", str(data), "--out", str(tmp_path / "lm"), "--grammar-sentences", "5"]) == 0
    assert len(seen["texts"]) == 7 and seen["pairs"] == [] and seen["cfg"].gloss_task is False
