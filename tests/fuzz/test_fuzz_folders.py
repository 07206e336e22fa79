"""Fuzz the saved folders: a `Tokenizer` folder and an `LSLM` folder, each file broken (empty, truncated,
garbage, not UTF-8, `null`, a list, a pickle) and each config key removed or given wrong values, the
skeleton made into no tree, the weights made non-finite or of the wrong shape. Loading must raise a typed
lslm error naming the broken file; the intact folders must still load."""
from __future__ import annotations

import json
import os
import pickle
import shutil

import numpy as np
import torch
from fuzzing import Case, check
from safetensors.torch import load_file, save_file

from lslm.model import LSLM
from lslm.tokenizer import Tokenizer

BROKEN_FILES = {"empty": b"", "garbage": b"\x00\x01garbage\xff", "not utf-8": b'{"a": "\xff\xfe"}',
                "null": b"null", "list": b"[]", "number": b"5", "truncated json": b'{"format": "lslm-tok',
                "pickle": pickle.dumps({"a": 1}), "deep": b"[" * 100_000}
WRONG_VALUES = {"null": None, "list": [], "string": "x", "negative": -1, "zero": 0, "float": 2.5, "nan": float("nan"),
                "infinity": float("inf"), "bool": True, "object": {}}


class Folders:
    """Copies of a good folder, each broken in one way, under `root`. The copies are hard links (fast); a
    file is broken by writing a new file in place of its link, so the good folder stays intact."""

    def __init__(self, good, root):
        self.good, self.root, self.n = good, root, 0

    def copy(self):
        self.n += 1
        return shutil.copytree(self.good, self.root / f"case{self.n}", copy_function=os.link)

    def with_file(self, name: str, data: bytes):
        folder = self.copy()
        (folder / name).unlink()
        (folder / name).write_bytes(data)
        return folder

    def with_json(self, name: str, edit):
        data = json.loads((self.good / name).read_text())
        edit(data)
        return self.with_file(name, json.dumps(data).encode())

    def with_tensors(self, name: str, edit):
        folder = self.copy()
        tensors = load_file(str(self.good / name))
        edit(tensors)
        (folder / name).unlink()
        save_file(tensors, str(folder / name))
        return folder


def _set(path: list, value):
    def edit(data):
        for key in path[:-1]:
            data = data[key]
        data[path[-1]] = value
    return edit


def _delete(path: list):
    def edit(data):
        for key in path[:-1]:
            data = data[key]
        del data[path[-1]]
    return edit


def tokenizer_cases(folders: Folders, load, prefix: str = "", files_only: bool = False) -> list[Case]:
    """Broken copies of a tokenizer folder; `prefix` is the tokenizer's place inside a larger folder;
    `files_only`: only its two files broken as a whole."""
    cases = []

    def add(name, folder, file, field):
        cases.append(Case(f"{name}", lambda: load(folder), field, folder / prefix / file))

    config, weights = f"{prefix}config.json", f"{prefix}model.safetensors"
    for name, data in BROKEN_FILES.items():
        add(f"config.json {name}", folders.with_file(config, data), "config.json", None)
        add(f"model.safetensors {name}", folders.with_file(weights, data), "model.safetensors", "file")
    if files_only:
        return cases
    good_weights = (folders.good / weights).read_bytes()
    for cut in (8, 100, len(good_weights) // 2, len(good_weights) - 4):
        add(f"model.safetensors cut {cut}", folders.with_file(weights, good_weights[:cut]), "model.safetensors", "file")
    header = bytearray(good_weights)
    header[8:16] = b'{"a":{"d'  # a header that is no longer JSON
    add("model.safetensors header", folders.with_file(weights, bytes(header)), "model.safetensors", "file")
    for key in ("format", "format_version", "tokenizer", "skeleton", "fps", "compat"):
        add(f"no {key}", folders.with_json(config, _delete([key])), "config.json", key.removesuffix("_version"))
    legal = {("normalizer", "object"), ("fps", "float"), ("compat", "bool"), ("ema_decay", "zero"), ("beta", "zero"),
             ("beta", "float"), ("seed", "negative"), ("seed", "zero")}  # e.g. 2.5 fps, an empty normalizer object
    for name, value in WRONG_VALUES.items():
        for key in ("fps", "compat", "tokenizer", "skeleton", "normalizer"):
            if (key, name) in legal:
                continue
            if (key, name) == ("tokenizer", "object"):  # all defaults: the weights no longer fit
                add("tokenizer={}", folders.with_json(config, _set([key], value)), "model.safetensors", "match")
                continue
            add(f"{key}={name}", folders.with_json(config, _set([key], value)), "config.json", key)
        for key in ("codebook_size", "code_dim", "width", "feature_dim", "ema_decay", "beta", "quantizer", "seed"):
            if (key, name) not in legal:
                add(f"tokenizer.{key}={name}", folders.with_json(config, _set(["tokenizer", key], value)),
                    "config.json", key)
    for name, value in {"slow fps": 0.001, "string fps": "30", "compat no": "no", "compat 1": 1}.items():
        key = name.split()[0] if name.split()[0] in ("fps", "compat") else name.split()[1]
        add(name, folders.with_json(config, _set([key], value)), "config.json", key)
    add("tokenizer.unknown key", folders.with_json(config, _set(["tokenizer", "colour"], "red")), "config.json",
        "colour")
    names = [f"joint{i}" for i in range(52)]
    parents_cycle = [-1, 2, 1] + list(range(2, 51))
    for name, edit, field in [
            ("skeleton 51 names", lambda d: d["skeleton"]["names"].pop(), "skeleton."),
            ("skeleton unknown names", _set(["skeleton", "names"], names), "names"),
            ("skeleton duplicate names", lambda d: d["skeleton"]["names"].__setitem__(5, "pelvis"), "names"),
            ("skeleton parent cycle", _set(["skeleton", "parents"], parents_cycle), "parents"),
            ("skeleton root parent", lambda d: d["skeleton"]["parents"].__setitem__(0, 0), "parents"),
            ("skeleton parent out of range", lambda d: d["skeleton"]["parents"].__setitem__(7, 99), "parents"),
            ("skeleton parent string", lambda d: d["skeleton"]["parents"].__setitem__(7, "4"), "parents"),
            ("skeleton parents short", lambda d: d["skeleton"]["parents"].pop(), "parents"),
            ("skeleton chain out of range", lambda d: d["skeleton"]["chains"].append([0, 99]), "chains"),
            ("skeleton chain of one", lambda d: d["skeleton"]["chains"].append([3]), "chains"),
            ("skeleton pair of three", lambda d: d["skeleton"]["lr_pairs"].append([1, 2, 3]), "lr_pairs"),
            ("skeleton no chains", _delete(["skeleton", "chains"]), "chains"),
            ("skeleton not a tree of 52", _set(["tokenizer", "num_joints"], 22), "feature_dim")]:
        add(name, folders.with_json(config, edit), "config.json", field)

    def nan_codebook(t):
        t["model.quantizer.codebook"][0, 0] = float("nan")

    def inf_weight(t):
        name = next(k for k in t if k.endswith("weight"))
        t[name][..., 0] = float("inf")

    def offsets(value):
        return lambda t: t.__setitem__("skeleton.offsets", value(t["skeleton.offsets"]))

    for name, edit, field in [
            ("codebook nan", nan_codebook, "codebook"), ("weight inf", inf_weight, "weight"),
            ("codebook shape", lambda t: t.__setitem__("model.quantizer.codebook", torch.zeros(3, 3)), "codebook"),
            ("missing weight", lambda t: t.pop(next(k for k in t if k.startswith("model."))), "model"),
            ("extra weight", lambda t: t.__setitem__("model.extra", torch.zeros(1)), "model"),
            ("offsets nan", offsets(lambda o: o * float("nan")), "offsets"),
            ("offsets zero", offsets(lambda o: o * 0), "offsets"),
            ("offsets shape", offsets(lambda o: o[:51].contiguous()), "offsets"),
            ("offsets missing", lambda t: t.pop("skeleton.offsets"), "skeleton.offsets"),
            ("std zero", lambda t: t["normalizer.std"].zero_(), "std"),
            ("std negative", lambda t: t["normalizer.std"].neg_(), "std"),
            ("mean nan", lambda t: t["normalizer.mean"].fill_(float("nan")), "mean"),
            ("mean short", lambda t: t.__setitem__("normalizer.mean", t["normalizer.mean"][:-12].contiguous()), "mean"),
            ("stats missing", lambda t: t.pop("normalizer.mean"), "mean"),
            ("stats of 22 joints", lambda t: (t.__setitem__("normalizer.mean", torch.zeros(263)),
                                              t.__setitem__("normalizer.std", torch.ones(263))), "dimensions")]:
        add(name, folders.with_tensors(weights, edit), "model.safetensors", field)
    return cases


def test_tokenizer_folders(tokenizer_dir, tmp_path):
    folders = Folders(tokenizer_dir, tmp_path)
    cases = tokenizer_cases(folders, Tokenizer.from_pretrained)
    missing = tmp_path / "nothing"
    cases.append(Case("no folder", lambda: Tokenizer.from_pretrained(missing), "file", missing / "config.json"))
    check("Tokenizer folders", cases)
    restored = Tokenizer.from_pretrained(tokenizer_dir)
    assert restored.fps == 30.0 and restored.target_skeleton.num_joints == 52
    assert torch.equal(restored.codebook, Tokenizer.from_pretrained(folders.copy()).codebook)


def test_lslm_folders(model_dir, model, tmp_path):
    folders = Folders(model_dir, tmp_path)
    cases = []

    def add(name, folder, file, field):
        cases.append(Case(name, lambda: LSLM.from_pretrained(folder), field, folder / file))

    for name, data in BROKEN_FILES.items():
        add(f"lslm_config.json {name}", folders.with_file("lslm_config.json", data), "lslm_config.json", None)
        add(f"special_tokens.json {name}", folders.with_file("special_tokens.json", data), "special_tokens.json", None)
    for name, value in WRONG_VALUES.items():
        for key in ("mode", "projector_act", "projector_norm", "dtype", "chat_template", "llm", "prompt", "lora", "codebook_size"):
            if (value is None and key in ("prompt", "lora", "codebook_size")) or (key, name) in (
                    ("llm", "string"), ("chat_template", "bool")):
                continue  # legal: null is their default, "x" a model name, true a flag
            add(f"config {key}={name}", folders.with_json("lslm_config.json", _set([key], value)), "lslm_config.json",
                key)
    for name, edit, field in [("config unknown key", _set(["colour"], "red"), "colour"),
                              ("config projector_act unknown", _set(["projector_act"], "sparkle"), "projector_act"),
                              ("config prompt without placeholder", _set(["prompt"], "Translate."), "prompt"),
                              ("config lora empty", _set(["lora"], {}), "lora"),
                              ("config lora r=0", _set(["lora"], {"r": 0}), "lora.r"),
                              ("config lora modules", _set(["lora"], {"target_modules": "q_proj"}), "target_modules"),
                              ("config codebook_size 8", _set(["codebook_size"], 8), "codebook_size"),
                              ("config code_dim 15", _set(["code_dim"], 15), "code_dim")]:
        add(name, folders.with_json("lslm_config.json", edit), "lslm_config.json", field)
    for name, edit in [("no placeholder id", _delete(["placeholder"])), ("string id", _set(["start"], "1")),
                       ("negative id", _set(["end"], -5)), ("other ids", _set(["pad"], 3)),
                       ("extra key", _set(["code_offset"], 300))]:
        add(f"special tokens {name}", folders.with_json("special_tokens.json", edit), "special_tokens.json", None)
    projector = (model_dir / "projector.safetensors").read_bytes()
    for name, data in {"empty": b"", "truncated": projector[:len(projector) // 2], "pickle": pickle.dumps({"a": 1}),
                       "garbage": b"\x10" * 64}.items():
        add(f"projector {name}", folders.with_file("projector.safetensors", data), "projector.safetensors", "file")
    for name, edit, field in [("projector nan", lambda t: t["linear_1.weight"].fill_(float("nan")), "linear_1.weight"),
                              ("projector shape", lambda t: t.__setitem__("linear_2.bias", torch.zeros(3)), None),
                              ("projector missing", lambda t: t.pop("linear_1.bias"), None)]:
        add(name, folders.with_tensors("projector.safetensors", edit), "projector.safetensors", field)
    no_projector = folders.copy()
    (no_projector / "projector.safetensors").unlink()
    add("projector missing file", no_projector, "projector.safetensors", "file")
    for part in ("llm", "text_tokenizer", "tokenizer", "lslm_config.json"):
        folder = folders.copy()
        shutil.rmtree(folder / part) if (folder / part).is_dir() else (folder / part).unlink()
        add(f"no {part}", folder, part, "file")
    llm_config = (model_dir / "llm" / "config.json").read_bytes()
    for name, data in {"empty": b"", "garbage": b"{oops", "null": b"null", "wrong type": b'{"model_type": "nope"}',
                       "vocab": llm_config.replace(b'"vocab_size": ', b'"vocab_size": 1')}.items():
        add(f"llm/config.json {name}", folders.with_file("llm/config.json", data), "llm", None)
    weights = next(p.name for p in (model_dir / "llm").glob("*.safetensors"))
    add("llm weights truncated", folders.with_file(f"llm/{weights}", b"\x00" * 16), "llm", None)
    tok_json = (model_dir / "text_tokenizer" / "tokenizer.json").read_bytes()
    for name, data in {"empty": b"", "garbage": b"{oops", "truncated": tok_json[:200]}.items():
        add(f"text_tokenizer {name}", folders.with_file("text_tokenizer/tokenizer.json", data), "text_tokenizer", None)
    folder = folders.copy()
    cases += tokenizer_cases(Folders(model_dir, tmp_path / "inner"), LSLM.from_pretrained, "tokenizer/", files_only=True)
    check("LSLM folders", cases)
    restored = LSLM.from_pretrained(folder)
    codes = np.array([1, 2, 3])
    assert restored.generate(codes=codes, max_new_tokens=3) == model.generate(codes=codes, max_new_tokens=3)
