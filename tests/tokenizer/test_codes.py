"""The codes cache: built once per tokenizer, equal to encoding each clip alone, reused, invalidated."""
import json

import numpy as np
import pytest
import torch

from lslm.tokenizer.codes import encode_dataset, load_codes, tokenizer_fingerprint
from lslm.recipes.encode import main
from lslm.errors import InvalidInputError
from lslm.motion import Normalizer, default_rest_skeleton
from lslm.tokenizer import VQVAE, Tokenizer, TokenizerConfig

# (id, feature rows, split); "short" has fewer rows than one code and must be skipped and reported
CLIPS = [("a", 17, "train"), ("b", 8, "train"), ("c", 30, "train"), ("short", 3, "train"), ("d", 12, "train"),
         ("t1", 21, "test"), ("t2", 9, "test")]


def save_tokenizer(path, seed):
    torch.manual_seed(seed)
    vq = VQVAE(TokenizerConfig(width=16, code_dim=8, codebook_size=32, depth=1))
    with torch.no_grad():
        vq.quantizer.codebook.copy_(torch.randn(32, 8))
    normalizer = Normalizer.fit(np.random.default_rng(seed).normal(size=(64, 623)), num_joints=52)
    return Tokenizer(vq, normalizer, default_rest_skeleton(), fps=30.0).save_pretrained(path)


@pytest.fixture
def dataset(tmp_path, write_dataset):
    rng = np.random.default_rng(0)
    clips = [({"id": clip_id, "text": f"text of {clip_id}", "gloss": f"GLOSS-{clip_id.upper()}", "split": split,
               "signer": None}, rng.normal(size=(frames, 623)).astype(np.float32)) for clip_id, frames, split in CLIPS]
    return write_dataset(tmp_path / "data", clips)


def expected_codes(tokenizer_dir, root, clip_id):
    """Reference: the tokenizer encoding the clip alone."""
    feats = np.load(root / "features" / f"{clip_id}.npy")
    return Tokenizer.from_pretrained(tokenizer_dir).encode(feats)


def test_cached_codes_equal_encoding_each_clip(tmp_path, dataset):
    tok = save_tokenizer(tmp_path / "tok", seed=0)
    summary = encode_dataset(tok, dataset, ["train", "test"], batch_size=2, progress=False)
    assert summary["splits"]["train"] == {"status": "encoded", "clips": 4, "skipped": 1}
    assert summary["splits"]["test"] == {"status": "encoded", "clips": 2, "skipped": 0}
    for split in ("train", "test"):
        clips = load_codes(dataset, tok, split)
        wanted = [c for c, _, s in CLIPS if s == split and c != "short"]
        assert [c.id for c in clips] == wanted  # manifest order, the skipped clip left out
        for clip in clips:
            frames = {c: n for c, n, _ in CLIPS}[clip.id]
            assert isinstance(clip.codes, tuple) and len(clip.codes) == frames // 4
            assert list(clip.codes) == expected_codes(tok, dataset, clip.id).tolist()
            assert clip.text == f"text of {clip.id}" and clip.gloss == f"GLOSS-{clip.id.upper()}"
    index = json.loads((dataset / "codes" / tokenizer_fingerprint(tok) / "index.json").read_text())
    assert index["tokenizer"]["codebook_size"] == 32 and index["tokenizer"]["downsample"] == 4
    assert [s["id"] for s in index["splits"]["train"]["skipped"]] == ["short"]
    assert "one code" in index["splits"]["train"]["skipped"][0]["message"]
    # the fingerprint can stand for the folder
    assert [c.id for c in load_codes(dataset, tokenizer_fingerprint(tok), "test")] == ["t1", "t2"]


def test_cache_is_reused_and_separate_per_tokenizer(tmp_path, dataset):
    tok_a, tok_b = save_tokenizer(tmp_path / "a", seed=0), save_tokenizer(tmp_path / "b", seed=1)
    fp_a, fp_b = tokenizer_fingerprint(tok_a), tokenizer_fingerprint(tok_b)
    assert fp_a != fp_b and len(fp_a) == 16
    assert main(["--tokenizer", str(tok_a), "--data", str(dataset), "--no-progress"]) == 0  # val is empty
    files = sorted((dataset / "codes" / fp_a).iterdir())
    assert [f.name for f in files] == ["index.json", "test.safetensors", "train.safetensors"]
    mtimes = [f.stat().st_mtime_ns for f in files]

    summary = encode_dataset(tok_a, dataset, ["train", "test"], progress=False)
    assert {s["status"] for s in summary["splits"].values()} == {"cached"}
    assert [f.stat().st_mtime_ns for f in files] == mtimes

    encode_dataset(tok_b, dataset, ["train"], progress=False)
    assert [f.stat().st_mtime_ns for f in files] == mtimes
    codes_a, codes_b = load_codes(dataset, tok_a, "train"), load_codes(dataset, tok_b, "train")
    for a, b in zip(codes_a, codes_b):
        assert list(b.codes) == expected_codes(tok_b, dataset, b.id).tolist()
    assert any(a.codes != b.codes for a, b in zip(codes_a, codes_b))
    with pytest.raises(InvalidInputError, match="tools/encode_dataset.py"):
        load_codes(dataset, tok_b, "test")  # tokenizer b has no test codes yet


def test_missing_and_stale_cache_say_how_to_build(tmp_path, dataset):
    tok = save_tokenizer(tmp_path / "tok", seed=0)
    with pytest.raises(InvalidInputError, match="build them with: python tools/encode_dataset.py"):
        load_codes(dataset, tok, "train")
    encode_dataset(tok, dataset, ["test"], progress=False)
    rows = [json.loads(line) for line in (dataset / "manifest.jsonl").read_text().splitlines()]
    rows = [r for r in rows if r["id"] != "t2"]
    (dataset / "manifest.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    with pytest.raises(InvalidInputError, match="stale"):
        load_codes(dataset, tok, "test")
    assert encode_dataset(tok, dataset, ["test"], progress=False)["splits"]["test"]["status"] == "encoded"
    assert [c.id for c in load_codes(dataset, tok, "test")] == ["t1"]


@pytest.mark.parametrize("cached", [True, False])
def test_split_codes_reads_the_manifest_and_hashes_the_tokenizer_once(tmp_path, dataset, monkeypatch, cached):
    """From the cache or encoded now, a split's codes cost one manifest read and one tokenizer hash, and
    both paths give the same clips."""
    import lslm.data.dataset
    import lslm.tokenizer.codes as codes_module

    tok = save_tokenizer(tmp_path / "tok", seed=0)
    tokenizer = Tokenizer.from_pretrained(tok)
    if cached:
        encode_dataset(tok, dataset, ["train"], progress=False)
    calls = {"manifest": 0, "hash": 0}

    def counted(name, original):
        def wrapper(*args, **kwargs):
            calls[name] += 1
            return original(*args, **kwargs)
        return wrapper
    monkeypatch.setattr(codes_module, "read_manifest", counted("manifest", codes_module.read_manifest))
    monkeypatch.setattr(lslm.data.dataset, "read_manifest", counted("manifest", lslm.data.dataset.read_manifest))
    monkeypatch.setattr(codes_module, "tokenizer_fingerprint", counted("hash", codes_module.tokenizer_fingerprint))
    rows, clips, errors = codes_module.split_codes(dataset, "train", tok, tokenizer, progress=False)
    assert calls == {"manifest": 1, "hash": 1}
    assert [r["id"] for r in rows] == [c for c, _, s in CLIPS if s == "train"]
    assert list(clips) == ["a", "b", "c", "d"] and list(errors) == ["short"]
    assert list(clips["c"].codes) == expected_codes(tok, dataset, "c").tolist()
