"""Fuzz the in-memory API: motion functions, `Tokenizer` and `LSLM.generate` with malformed arrays, lengths,
frame rates, flags, codes, prompts and generation options. Every case must raise a typed lslm error naming
its field; the good inputs beside them must still convert."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from fuzzing import COUNTS, Case, check
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from lslm.motion.resample import resample_linear, resample_params, resample_rotvec
from lslm.errors import LslmError
from lslm.motion import Normalizer, Skeleton, features_to_joints, joints_to_features, smplx_to_joints
from lslm.motion.features import preprocess_joints
from lslm.tokenizer import Tokenizer


def bad_arrays(good: np.ndarray) -> dict[str, object]:
    """Malformed versions of a float array: other dtypes, non-finite values, wrong shapes, non-arrays."""
    nan, inf = good.copy(), good.copy()
    nan.flat[len(nan.flat) // 2] = np.nan
    inf.flat[0] = -np.inf
    return {
        "bool": good > 0, "complex": good.astype(np.complex64) + 1j, "digit strings": good.astype(str),
        "object": good.astype(object), "datetime": np.zeros(good.shape, "datetime64[s]"),
        "timedelta": np.zeros(good.shape, "timedelta64[s]"), "bytes": good.astype(bytes),
        "torch bool": torch.as_tensor(good > 0), "torch complex": torch.as_tensor(good.astype(np.complex64)),
        "nan": nan, "inf": inf, "torch nan": torch.as_tensor(nan), "None": None, "string": "joints",
        "dict": {"joints": good}, "ragged": [good[0], good[0][:1]], "scalar": np.float32(1.0),
        "wrong ndim": good.reshape(-1), "one more axis": good[None, None], "last axis short": good[..., :-1],
        "empty": good[:0],
    }


BAD_LENGTHS = {"float": [3.0, 2.0], "fraction": [2.5, 3.0], "bool": [True, True], "strings": ["3", "4"],
               "complex": np.array([3, 3], dtype=complex), "nested": [[3], [3]], "negative": [-1, 3],
               "too long": [10_000, 3], "zero": [0, 3], "one value": [3], "three values": [3, 3, 3],
               "None inside": [3, None], "torch float": torch.tensor([3.0, 3.0]), "torch bool": torch.tensor([True, True]),
               "string": "33", "dict": {"a": 3}}
BAD_FPS = {"zero": 0, "negative": -30.0, "nan": float("nan"), "inf": float("inf"), "-inf": float("-inf"),
           "tiny": 1e-300, "huge": 1e300, "below 1": 0.5, "bool": True, "string": "30", "list": [30.0],
           "complex": complex(30, 0), "numpy nan": np.float64("nan"), "array": np.array([30.0])}
BAD_FLAGS = {"string no": "no", "string true": "true", "int": 1, "zero": 0, "None": None, "list": [True]}


# ---- motion functions --------------------------------------------------------------------------------

def test_motion_functions_refuse_malformed_arrays(clip):
    target = clip["target"]
    cases = []
    for name, bad in bad_arrays(clip["joints"]).items():
        cases.append(Case(f"joints_to_features({name})", lambda b=bad: joints_to_features(b, target), "joints"))
        if name != "empty":  # one frame is enough to preprocess
            cases.append(Case(f"preprocess_joints({name})", lambda b=bad: preprocess_joints(b, target), "joints"))
    for name, bad in bad_arrays(clip["features"]).items():
        cases.append(Case(f"features_to_joints({name})", lambda b=bad: features_to_joints(b), "features"))
        cases.append(Case(f"Normalizer.fit({name})", lambda b=bad: Normalizer.fit(b), "features"))
    for name, bad in bad_arrays(clip["params"]["body_pose"]).items():
        if name not in ("empty", "one more axis", "wrong ndim", "None"):  # shapes broadcast; None is "absent"
            cases.append(Case(f"smplx_to_joints(body_pose={name})",
                              lambda b=bad: smplx_to_joints({**clip["params"], "body_pose": b}), "body_pose"))
    cases.append(Case("joints_to_features(one frame)", lambda: joints_to_features(clip["joints"][:1], target), "joints"))
    huge = clip["features"].copy()
    huge[:, 1] = 3e38  # root velocity: the integrated trajectory leaves float32
    cases.append(Case("features_to_joints(huge root velocity)", lambda: features_to_joints(huge), "features"))
    check("motion arrays", cases)


def test_motion_functions_refuse_malformed_lengths_fps_flags_and_targets(clip):
    target, joints, feats = clip["target"], clip["batch_joints"], clip["batch_features"]
    cases = []
    for name, bad in BAD_LENGTHS.items():
        cases.append(Case(f"joints_to_features(lengths={name})",
                          lambda b=bad: joints_to_features(joints, target, lengths=b), "lengths"))
        cases.append(Case(f"features_to_joints(lengths={name})", lambda b=bad: features_to_joints(feats, lengths=b),
                          "lengths"))
        if name not in ("zero",):  # a clip with no valid row is refused as "features"
            cases.append(Case(f"Normalizer.fit(lengths={name})", lambda b=bad: Normalizer.fit(feats, lengths=b),
                              "lengths"))
    cases.append(Case("joints_to_features(one clip, lengths)",
                      lambda: joints_to_features(clip["joints"], target, lengths=[5]), "lengths"))
    cases.append(Case("features_to_joints(one clip, lengths)",
                      lambda: features_to_joints(clip["features"], lengths=[5]), "lengths"))
    for name, bad in BAD_FPS.items():
        cases.append(Case(f"joints_to_features(fps={name})", lambda b=bad: joints_to_features(clip["joints"], target, b),
                          "fps"))
        cases.append(Case(f"resample_linear(fps_in={name})", lambda b=bad: resample_linear(clip["joints"], b, 30.0),
                          "fps_in"))
        cases.append(Case(f"resample_rotvec(fps_out={name})",
                          lambda b=bad: resample_rotvec(clip["params"]["body_pose"].reshape(-1, 21, 3), 30.0, b),
                          "fps_out"))
        cases.append(Case(f"resample_params(fps_out={name})", lambda b=bad: resample_params(
            {k: np.asarray(v) for k, v in clip["params"].items()}, 24.0, b), "fps_out"))
    for name, bad in BAD_FLAGS.items():
        cases.append(Case(f"joints_to_features(compat={name})",
                          lambda b=bad: joints_to_features(clip["joints"], target, compat=b), "compat"))
    offsets = target.offsets.copy()
    for name, bad_offsets in {"nan": np.where(np.arange(52)[:, None] == 7, np.nan, offsets),
                              "inf": offsets * np.inf, "shape": offsets[:51], "strings": offsets.astype(str)}.items():
        skeleton = Skeleton(target.names, target.parents, target.chains, target.lr_pairs, offsets=bad_offsets)
        cases.append(Case(f"joints_to_features(target offsets {name})",
                          lambda s=skeleton: joints_to_features(clip["joints"], s), "target"))
    cases.append(Case("joints_to_features(target without offsets)",
                      lambda: joints_to_features(clip["joints"], Skeleton.smplx52()), "target"))
    cases.append(Case("joints_to_features(target None)", lambda: joints_to_features(clip["joints"], None), "target"))
    for name, bad_offsets in {"nan": offsets * np.nan, "inf": offsets + np.inf, "strings": offsets.astype(str)}.items():
        skeleton = Skeleton(target.names, target.parents, target.chains, target.lr_pairs, offsets=bad_offsets)
        cases.append(Case(f"smplx_to_joints(rest skeleton {name})",
                          lambda s=skeleton: smplx_to_joints(clip["params"], rest_skeleton=s), "rest_skeleton"))
    cases.append(Case("smplx_to_joints(rest skeleton without offsets)",
                      lambda: smplx_to_joints(clip["params"], rest_skeleton=Skeleton.smplx52()), "rest_skeleton"))
    check("motion arguments", cases)


def test_good_motion_still_converts(clip):
    target = clip["target"]
    feats = joints_to_features(clip["batch_joints"], target, fps=30.0, lengths=clip["lengths"])
    assert feats.shape == (2, 16, 623) and np.isfinite(feats).all()
    back = features_to_joints(clip["features"])
    assert back.shape == (16, 52, 3) and np.isfinite(back).all()
    # integer joints, numpy scalars as fps and numpy bools as flags are real inputs, not malformed ones
    ints = joints_to_features((clip["joints"] * 1000).astype(np.int64), target, fps=np.float32(30), compat=np.True_)
    assert np.isfinite(ints).all()


@settings(max_examples=150, derandomize=True, database=None, deadline=None,
          suppress_health_check=list(HealthCheck))
@given(array=hnp.arrays(dtype=st.sampled_from(["f4", "f8", "i2", "u1", "b1", "c8", "U3", "M8[s]"]),
                        shape=hnp.array_shapes(min_dims=0, max_dims=5, max_side=6),
                        elements=None, fill=None))
def test_property_any_array_is_converted_or_refused_with_a_typed_error(clip, array):
    """Whatever array arrives, joints_to_features and features_to_joints give finite features / joints or an
    lslm error, never another exception."""
    COUNTS["hypothesis arrays"] += 2
    for call in (lambda: joints_to_features(array, clip["target"]), lambda: features_to_joints(array)):
        try:
            out = call()
        except LslmError:
            continue
        assert np.isfinite(out).all()


# ---- Tokenizer -----------------------------------------------------------------------------------------

BAD_CODES = {"floats": [1.5, 2.5], "whole floats": np.array([1.0, 2.0]), "bools": [True, False],
             "bool array": np.array([True, False, True]), "complex": np.array([1, 2], dtype=complex),
             "digit strings": ["1", "2"], "string array": np.array(["1", "2"]), "nested ragged": [1, [2, 3]],
             "out of range": [1, 16], "below -1": [1, -2], "padding inside": [1, -1, 2], "only padding": [-1, -1],
             "empty": [], "empty rows": [[]], "3-d": np.zeros((2, 2, 2), dtype=np.int64),
             "torch float": torch.tensor([1.0, 2.0]), "torch bool": torch.tensor([True, False]),
             "None inside": [1, None], "dict": {"codes": [1]}, "string": "123", "None": None,
             "huge": [2 ** 62], "datetime": np.zeros(3, "datetime64[s]")}


def test_tokenizer_refuses_malformed_inputs(tokenizer, clip):
    feats, joints = clip["batch_features"], clip["batch_joints"]
    cases = []
    for name, bad in BAD_CODES.items():
        cases.append(Case(f"decode({name})", lambda b=bad: tokenizer.decode(b), "codes"))
    for name, bad in bad_arrays(clip["features"]).items():
        cases.append(Case(f"encode({name})", lambda b=bad: tokenizer.encode(b), "features"))
    for name, bad in bad_arrays(clip["joints"]).items():
        cases.append(Case(f"encode_joints({name})", lambda b=bad: tokenizer.encode_joints(b), "joints"))
    for name, bad in BAD_LENGTHS.items():
        cases.append(Case(f"encode(lengths={name})", lambda b=bad: tokenizer.encode(feats, lengths=b), "lengths"))
        if name != "zero":
            cases.append(Case(f"encode_joints(lengths={name})",
                              lambda b=bad: tokenizer.encode_joints(joints, lengths=b), "lengths"))
    for name, bad in BAD_FPS.items():
        cases.append(Case(f"encode_joints(fps={name})", lambda b=bad: tokenizer.encode_joints(clip["joints"], fps=b),
                          "fps"))
        cases.append(Case(f"Tokenizer(fps={name})", lambda b=bad: Tokenizer(tokenizer.model, tokenizer.normalizer,
                                                                          tokenizer.target_skeleton, fps=b), "fps"))
    for name, bad in BAD_FLAGS.items():
        cases.append(Case(f"Tokenizer(compat={name})", lambda b=bad: Tokenizer(
            tokenizer.model, tokenizer.normalizer, tokenizer.target_skeleton, fps=30.0, compat=b), "compat"))
    cases.append(Case("encode_joints(other fps)", lambda: tokenizer.encode_joints(clip["joints"], fps=24.0), "fps"))
    cases.append(Case("encode(one clip, lengths too long)",
                      lambda: tokenizer.encode(clip["features"], lengths=[100]), "lengths"))
    check("Tokenizer API", cases)


def test_tokenizer_good_inputs_still_convert(tokenizer, clip):
    assert tokenizer.encode_joints(clip["joints"]).shape == ((len(clip["joints"]) - 1) // 4,)
    # a single clip's lengths are honoured: the same codes as the clip cut to that length
    cut = tokenizer.encode_joints(clip["joints"], lengths=[9])
    assert torch.equal(cut[cut >= 0], tokenizer.encode_joints(clip["joints"][:9]))
    assert tokenizer.decode(np.array([1, 2, -1], dtype=np.int32)).shape == (12, 623)
    assert tokenizer.decode(torch.tensor([[1, 2], [3, -1]], dtype=torch.int16)).shape == (2, 8, 623)


# ---- LSLM.generate ---------------------------------------------------------------------------------------

BAD_OPTIONS = {"max_new_tokens": [-1, 0, 2.5, "5", True], "num_beams": [0, -1, 1.5], "max_length": [0, -3],
               "temperature": [-1.0, 0.0, float("nan")], "top_p": [2.0, -0.1], "top_k": [-1, 2.5],
               "repetition_penalty": [0.0, float("inf")], "no_repeat_ngram_size": [-1, 1.5],
               "num_return_sequences": [0, 2.5], "length_penalty": [float("nan"), "long"],
               "do_sample": ["yes", 1], "return_dict_in_generate": [True], "foo": [1], "max_new_token": [5],
               "inputs_embeds": [torch.zeros(1, 2, 32)], "attention_mask": [torch.ones(1, 2)],
               "generation_config": ["greedy", {"num_beams": 2}]}


def test_generate_refuses_malformed_arguments(model, clip):
    cases = []
    for name, bad in BAD_CODES.items():
        cases.append(Case(f"generate(codes={name})", lambda b=bad: model.generate(codes=b, max_new_tokens=2), "codes"))
    for name, bad in bad_arrays(clip["features"]).items():
        if name in ("dict", "None"):
            continue  # motion=None is "neither motion nor codes"; a dict is refused as motion too, below
        cases.append(Case(f"generate(motion={name})", lambda b=bad: model.generate(motion=b, max_new_tokens=2),
                          "motion" if name not in ("nan", "inf", "torch nan", "empty") else "features"))
    cases.append(Case("generate(motion=dict)", lambda: model.generate(motion={"a": 1}), "motion"))
    for name, bad in BAD_LENGTHS.items():
        cases.append(Case(f"generate(lengths={name})", lambda b=bad: model.generate(
            motion=clip["batch_features"], lengths=b, max_new_tokens=2), "lengths"))
    for name, bad in BAD_FPS.items():
        cases.append(Case(f"generate(fps={name})", lambda b=bad: model.generate(
            motion=clip["joints"], fps=b, max_new_tokens=2), "fps"))
    for name, bad in {"int": 5, "bytes": b"<Motion_Placeholder>", "list": ["<Motion_Placeholder>"],
                      "empty": "", "no placeholder": "Translate this.",
                      "two placeholders": "<Motion_Placeholder> and <Motion_Placeholder>",
                      "lone surrogate": "\ud800 <Motion_Placeholder>"}.items():
        cases.append(Case(f"generate(prompt={name})", lambda b=bad: model.generate(codes=[1, 2], prompt=b,
                                                                                   max_new_tokens=2), "prompt"))
    for option, values in BAD_OPTIONS.items():
        for value in values:
            cases.append(Case(f"generate({option}={value!r})",
                              lambda o=option, v=value: model.generate(codes=[1, 2], **{o: v}), option
                              if option not in ("generation_config",) else "generation_config"))
    cases.append(Case("generate(codes past the context)", lambda: model.generate(codes=[1] * 600, max_new_tokens=2),
                      "codes"))
    cases.append(Case("generate(codes and lengths)", lambda: model.generate(codes=[1, 2], lengths=[2]), "lengths"))
    cases.append(Case("generate(features and fps)", lambda: model.generate(motion=clip["features"], fps=30.0), "fps"))
    cases.append(Case("generate_motion(projector mode)", lambda: model.generate_motion("hello"), "vocab"))
    cases.append(Case("embed(float codes)", lambda: model.embed(torch.tensor([[5]]), torch.tensor([[1.0]])), "codes"))
    check("LSLM.generate", cases)


def test_generate_good_inputs_still_translate(model, clip):
    one = model.generate(codes=[1, 2, 3], max_new_tokens=3)
    assert isinstance(one, str)
    several = model.generate(codes=[[1, 2], np.array([3, 4, 5])], max_new_tokens=3)
    assert isinstance(several, list) and len(several) == 2
    assert isinstance(model.generate(motion=clip["joints"], fps=30.0, max_new_tokens=2, num_beams=2), str)


@pytest.mark.parametrize("codes", [np.array([1, 2], dtype=np.uint8), torch.tensor([1, 2], dtype=torch.int32)])
def test_generate_accepts_any_integer_codes(model, codes):
    assert model.generate(codes=codes, max_new_tokens=2) == model.generate(codes=[1, 2], max_new_tokens=2)
