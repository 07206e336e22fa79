"""Raw files straight into translate and encode_dataset: a SignAvatars .pkl (a real WLASL fit, GPU-saved
tensors) gives the same codes and translation as the same clip after prepare_dataset."""
import json

import numpy as np
import pytest
from shared_data import REALDATA, needs
from signavatars_pickles import write_published_pickle

from lslm.tokenizer.codes import encode_dataset, load_codes
from lslm.recipes.encode import main as encode_main
from lslm.data.prepare import prepare
from lslm.model.translate import DEFAULT_GENERATION, translate_split
from lslm.recipes.translate import main

WLASL = REALDATA / "signavatars_wlasl"
GEN = {**DEFAULT_GENERATION, "max_new_tokens": 6}
pytestmark = needs(WLASL)


@pytest.fixture(scope="module")
def raw_and_prepared(tmp_path_factory):
    """Three real fits as published pickles, and the test split prepared from them (default settings)."""
    base = tmp_path_factory.mktemp("wlasl")
    (base / "pkl").mkdir()
    pkls = [write_published_pickle(WLASL / f"{g}.json", base / "pkl" / f"{g}.pkl") for g in ("dog", "help", "year")]
    header = "VIDEO_ID\tVIDEO_NAME\tSENTENCE_ID\tSENTENCE_NAME\tSTART_REALIGNED\tEND_REALIGNED\tSENTENCE\n"
    rows = "".join(f"v\tv\t{p.stem}_0\t{p.stem}\t0\t1\t{p.stem}\n" for p in pkls)
    (base / "words_test.csv").write_text(header + rows)
    prepare("signavatars", base / "pkl", base / "data", [str(base / "words_test.csv")], progress=False)
    return pkls, base / "data"


def test_raw_pickles_translate_like_their_prepared_clips(model_dir, raw_and_prepared, tmp_path):
    pkls, data = raw_and_prepared
    prepared = translate_split(model_dir, data, "test", progress=False, max_new_tokens=6)
    out = tmp_path / "raw.jsonl"
    assert main(["--model", str(model_dir), *map(str, pkls), "--out", str(out), "--max-new-tokens", "6",
                 "--no-progress"]) == 0
    raw = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["id"] for r in raw] == [r["id"] for r in prepared] == ["dog", "help", "year"]
    assert [r["prediction"] for r in raw] == [r["prediction"] for r in prepared]
    assert len({r["prediction"] for r in raw}) > 1  # the motion reaches the output, so a mix-up would show


def test_encode_dataset_on_raw_files_equals_the_codes_cache(model_dir, raw_and_prepared, tmp_path):
    pkls, data = raw_and_prepared
    tokenizer_dir = model_dir / "tokenizer"
    encode_dataset(tokenizer_dir, data, ["test"], progress=False)
    cached = {c.id: list(c.codes) for c in load_codes(data, tokenizer_dir, "test")}
    np.save(tmp_path / "bad.npy", np.zeros((4, 22, 3)))
    out = tmp_path / "codes.jsonl"
    assert encode_main(["--tokenizer", str(tokenizer_dir), "--inputs", *map(str, pkls), str(tmp_path / "bad.npy"),
                        "--out", str(out), "--no-progress"]) == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert {r["id"]: r["codes"] for r in rows if "codes" in r} == cached
    assert rows[-1]["id"] == "bad" and "shape (4, 22, 3)" in rows[-1]["error"]
    kept = tmp_path / "kept.jsonl"
    assert encode_main(["--tokenizer", str(tokenizer_dir), "--inputs", str(pkls[2]), "--translation", "keep",
                        "--out", str(kept), "--no-progress"]) == 0
    assert json.loads(kept.read_text())["codes"] != cached["year"]  # the flag reaches the conversion
