"""What the app tests launch the app on: a tiny translator that writes readable word pieces, a tiny
producer that always writes motion, and synthetic test clips as its examples."""
from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import torch
from tiny_models import make_llm, make_motion_tokenizer, make_text_tokenizer

SENTENCES = ["hello how are you", "the cat sits on the mat", "where is the library", "thank you very much",
             "Sign the English sentence in American Sign Language.", "What does the signer say in"]
MAX_UPLOAD_MB = 1.0  # small, so that the refusal of a larger upload is cheap to test
PRODUCED_CODES = 6  # codes the producer writes (its max_new_tokens in the tests)


def tiny_lslm(mode: str):
    from lslm.model import LSLM, LSLMConfig

    text_tokenizer = make_text_tokenizer(SENTENCES)
    llm = make_llm(len(text_tokenizer) + 4 + (16 if mode == "vocab" else 0))
    torch.manual_seed(1)
    return LSLM(LSLMConfig(llm="tiny", mode=mode), llm, text_tokenizer, make_motion_tokenizer()).eval()


def save_translator(path: Path) -> Path:
    """A projector-mode LSLM that writes only lowercase word pieces (text a page shows as it is), with a
    codebook on the scale of the random encoder's outputs, so that clips get varied codes."""
    model = tiny_lslm("projector")
    with torch.no_grad():
        model.motion_tokenizer.model.quantizer.codebook.mul_(0.1)
    tokenizer = model.text_tokenizer
    words = [i for i in range(len(tokenizer)) if re.fullmatch(r" ?[a-z]+", tokenizer.decode([i]))]
    _only_tokens(model, torch.tensor(words))
    return model.save_pretrained(path)


def _only_tokens(model, ids: torch.Tensor) -> None:
    """Zero the output rows of every token but `ids`, whose rows become opposite pairs: greedy decoding
    then picks one of `ids` at every step (some logit is above 0) and never ends early."""
    with torch.no_grad():
        head = model.llm.get_output_embeddings().weight  # (V, H)
        rows = torch.randn(len(ids) // 2, head.shape[1])
        head.zero_()
        head[ids[:2 * len(rows)]] = torch.cat([rows, -rows])


def save_producer(path: Path) -> Path:
    """A vocabulary-mode LSLM that writes a motion code at every step (`_only_tokens` on the codes)."""
    model = tiny_lslm("vocab")
    offset, K = model.token_ids["code_offset"], model.config.codebook_size
    _only_tokens(model, torch.arange(offset, offset + K))
    return model.save_pretrained(path)


def write_examples(root: Path, count: int = 2) -> Path:
    """`count` clips of the tiny synthetic corpus' test split, written as the corpus writes them (raw lslm
    .npz and a manifest)."""
    from lslm.data.synthetic import plan_corpus, synthesize
    from lslm.data.synthetic.generate import FPS, save_npz

    plan = plan_corpus("tiny", seed=0)
    (root / "motion").mkdir(parents=True)
    rows = []
    for index, clip in enumerate(c for c in plan["clips"] if c["split"] == "test"):
        if index == count:
            break
        sentence, signer = clip["sentence"], clip["signer"]
        params = synthesize([plan["lexicon"][g] for g in sentence.gloss], signer, np.random.default_rng([0, index]))
        save_npz(root / "motion" / f"{clip['id']}.npz",
                 {**params, "fps": np.float32(FPS), "rest_offsets": signer.offsets.astype(np.float32)})
        rows.append({"id": clip["id"], "motion": f"motion/{clip['id']}.npz", "text": sentence.text, "split": "test",
                     "fps": FPS})
    (root / "manifest.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return root


