"""Sign production scores (lslm.eval.production) against hand-computed cases."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from lslm.errors import InvalidInputError
from lslm.eval import production as P
from lslm.motion import default_rest_skeleton, features_to_joints, joints_to_features, smplx_to_joints


def test_dtw_hand_computed():
    # best path (0,0) → (1,1) → (1,2): 1 + 1 + 4 = 6 over 3 cells; the others cost 8
    assert P.dtw([[1.0, 3.0, 5.0], [2.0, 1.0, 4.0]]) == (6.0, 3)
    assert P.dtw([[2.5]]) == (2.5, 1)
    # a column vector can only go down: every cell is on the path
    assert P.dtw([[1.0], [2.0], [3.0]]) == (6.0, 3)
    # a warp: frame 0 of the query matches frames 0 and 1 of the reference (costs 0) before the diagonal
    assert P.dtw([[0.0, 0.0, 9.0], [9.0, 9.0, 0.0]]) == (0.0, 3)
    # ties: the diagonal step before the vertical one and before the horizontal one (2 cells, not 3)
    assert P.dtw([[0.0, 0.0], [5.0, 0.0]]) == (0.0, 2)
    assert P.dtw([[0.0, 5.0], [0.0, 0.0]]) == (0.0, 2)
    with pytest.raises(InvalidInputError):
        P.dtw(np.zeros((0, 3)))


@pytest.fixture(scope="module")
def clip() -> np.ndarray:
    """A 12-frame motion of lslm's rest skeleton: the right arm waving, the body turned 30°."""
    t = np.linspace(0, 1, 12)
    body = np.zeros((12, 21, 3), np.float32)
    body[:, 16, 2] = -1.2 + 0.6 * np.sin(6 * t)   # right shoulder
    body[:, 18, 1] = 1.0 * t                       # right elbow
    params = {"body_pose": body.reshape(12, 63), "global_orient": np.tile([0.0, np.pi / 6, 0.0], (12, 1))}
    return smplx_to_joints(params).astype(np.float64)


def test_dtw_joint_error_is_zero_on_itself_and_on_a_slowed_copy(clip):
    assert P.dtw_joint_error(clip, clip) == pytest.approx(0.0, abs=1e-9)
    slowed = np.repeat(clip, 2, axis=0)  # every frame twice: DTW absorbs the tempo
    assert P.dtw_joint_error(slowed, clip) == pytest.approx(0.0, abs=1e-9)
    # moved and turned as a whole: the error is root-relative, each body facing +Z at frame 0
    turn = np.array([[0.0, 0.0, 1.0], [0.0, 1.0, 0.0], [-1.0, 0.0, 0.0]])  # 90° about Y
    assert P.dtw_joint_error(clip @ turn.T + [1.0, 0.0, 2.0], clip) == pytest.approx(0.0, abs=1e-6)


def test_dtw_joint_error_of_an_offset_hand_computed(clip):
    # every joint but the root 10 mm higher: root-relative, 51 of the 52 joints are 10 mm off
    moved = clip.copy()
    moved[:, 1:, 1] += 0.010
    assert P.dtw_joint_error(moved, clip) == pytest.approx(10.0 * 51 / 52, rel=1e-6)
    # against a slowed reference the path has 24 cells, each 10 · 51/52 mm off: the mean is per cell
    assert P.dtw_joint_error(moved, np.repeat(clip, 2, axis=0)) == pytest.approx(10.0 * 51 / 52, rel=1e-6)


def test_bone_alignment_removes_a_body_difference(clip):
    # the same pose on a body 20 % larger in every bone: root-relative joints are 1.2 × the reference's,
    # so each joint is off by 0.2 × its distance to the root; aligned bone lengths leave nothing
    rest = default_rest_skeleton()
    pose = {"body_pose": np.zeros((1, 63)), "left_hand_pose": np.full((1, 45), 0.1)}
    ref = smplx_to_joints(pose).astype(np.float64)
    big = smplx_to_joints(pose, rest_skeleton=type(rest)(rest.names, rest.parents, rest.chains, rest.lr_pairs,
                                                         offsets=rest.offsets * 1.2)).astype(np.float64)
    expected = 1000 * 0.2 * np.linalg.norm(ref[0] - ref[0, :1], axis=-1).mean()
    assert P.dtw_joint_error(big, ref) == pytest.approx(expected, rel=1e-4)
    assert P.dtw_joint_error(big, ref, align_bones=True) == pytest.approx(0.0, abs=1e-3)
    aligned = P.align_bone_lengths(big, ref)
    parents = np.array(rest.parents)
    np.testing.assert_allclose(np.linalg.norm(aligned[0, 1:] - aligned[0, parents[1:]], axis=-1),
                               np.linalg.norm(ref[0, 1:] - ref[0, parents[1:]], axis=-1), atol=1e-5)


def test_other_sentence_order_pairs_every_sentence_with_a_different_one():
    sentences = ["a b", "c d", "A b.", "e f", "g h"]  # "a b" and "A b." are the same words
    order = P.other_sentence_order(sentences, seed=3)
    assert sorted(order) == list(range(5))
    assert all({i, j} != {0, 2} and i != j for i, j in enumerate(order))
    assert order == P.other_sentence_order(sentences, seed=3)
    with pytest.raises(InvalidInputError):
        P.other_sentence_order(["same", "Same!"])


# ---- back-translation and the evaluator, with stand-ins whose outputs are known --------------------------

BASE = joints_to_features(smplx_to_joints({"body_pose": np.zeros((13, 63))}), default_rest_skeleton())  # (12, 623)
SENTENCES = ["the cat sat on the mat", "a dog runs fast", "we go home", "she reads a book", "it is red",
             "they eat bread"]


def coded(k: int, frames: int = 8) -> torch.Tensor:
    """Rest-pose features whose last column (foot contact, unread by features_to_joints) carries code k."""
    x = torch.as_tensor(np.resize(BASE, (frames, BASE.shape[1])).copy())
    x[:, -1] = k
    return x


class ValueTokenizer:
    """A stand-in motion tokenizer: the code of 4 frames is the last feature of their first frame."""

    downsample, fps = 4, 30.0

    def encode(self, x, lengths):
        codes = x[:, ::4, -1].round().long()  # (B, T // 4)
        codes[torch.arange(codes.shape[1])[None] >= (lengths // 4)[:, None]] = -1
        return codes

    def decode(self, codes):
        return torch.cat([coded(int(c), 4) for c in codes])


class PhraseTranslator:
    """A stand-in translator: reads code k as SENTENCES[k] (k >= len: 'nothing')."""

    motion_tokenizer = ValueTokenizer()

    def generate(self, codes, prompt=None, **kwargs):
        return [SENTENCES[int(c[0])] if int(c[0]) < len(SENTENCES) else "nothing" for c in codes]


class OneHotEvaluator:
    """A stand-in evaluator: motion with code k and sentence k embed as the same one-hot vector."""

    class config:
        min_frames = 4

    identity = {"name": "one-hot"}

    def embed_motion(self, x, lengths):
        return np.eye(8)[x[:, 0, -1].round().long().numpy()]

    def embed_text(self, texts):
        return np.eye(8)[[SENTENCES.index(t) for t in texts]]


def test_back_translation_hand_computed():
    scores, texts = P.back_translation(PhraseTranslator(), [coded(0), coded(1)], SENTENCES[:2])
    assert texts == SENTENCES[:2]
    assert (scores["bleu1"], scores["bleu4"], scores["rouge_l"], scores["wer"], scores["empty"]) == \
        (pytest.approx(100.0), pytest.approx(100.0), pytest.approx(100.0), 0.0, 0)
    # the second sentence without motion: an empty translation, its 4 words deleted of 10 → WER 40;
    # BLEU-1 is the brevity penalty of 6 words for 10: exp(1 − 10/6)
    scores, texts = P.back_translation(PhraseTranslator(), [coded(0), None], SENTENCES[:2])
    assert texts == [SENTENCES[0], ""] and scores["empty"] == 1
    assert scores["wer"] == pytest.approx(40.0)
    assert scores["bleu1"] == pytest.approx(100 * np.exp(1 - 10 / 6), rel=1e-4)


@pytest.mark.filterwarnings("ignore::scipy.linalg.LinAlgWarning")  # FID of one-hot sets: singular covariances
def test_evaluator_scores_hand_computed():
    evaluator, n = OneHotEvaluator(), len(SENTENCES)
    reference = P.embed_features(evaluator, [coded(k) for k in range(n)])
    right = P.evaluator_scores(evaluator, [coded(k) for k in range(n)], SENTENCES, reference)
    assert right["fid"] == pytest.approx(0.0, abs=1e-6)
    assert (right["r_precision_top1"], right["r_precision_top3"], right["clips"]) == (1.0, 1.0, n)
    # every motion says the next sentence: never retrieved (each one-hot is orthogonal to its own text)
    wrong = P.evaluator_scores(evaluator, [coded((k + 1) % n) for k in range(n)], SENTENCES, reference)
    assert wrong["r_precision_top1"] == 0.0
    assert wrong["fid"] == pytest.approx(0.0, abs=1e-6)  # the same set of motions: FID cannot tell
    # a missing motion and one shorter than the evaluator's minimum are left out and not counted
    partial = P.evaluator_scores(evaluator, [None, coded(1, 3), *[coded(k) for k in range(2, n)]], SENTENCES,
                                 reference)
    assert partial["clips"] == n - 2


@pytest.mark.filterwarnings("ignore::scipy.linalg.LinAlgWarning")
def test_production_scores_frame_the_produced_motion():
    n = len(SENTENCES)
    references = [coded(k) for k in range(n)]
    produced = [coded(k) for k in range(n - 1)] + [None]  # the last sentence produced nothing
    doc, rows = P.production_scores(produced, references, SENTENCES, tokenizer=ValueTokenizer(),
                                    translator=PhraseTranslator(), evaluator=OneHotEvaluator(), ids=list("abcdef"))
    assert doc["reference"]["back_translation"]["bleu4"] == pytest.approx(100.0)
    upper, lower, made = doc["reconstruction"], doc["other_sentence"], doc["produced"]
    assert upper["back_translation"]["bleu4"] == pytest.approx(100.0) and upper["r_precision_top1"] == 1.0
    assert lower["back_translation"]["bleu4"] < 20 and lower["r_precision_top1"] == 0.0
    assert made["missing"] == 1 and made["clips"] == n - 1 and made["back_translation"]["empty"] == 1
    assert made["back_translation"]["bleu4"] < upper["back_translation"]["bleu4"]
    # every motion here is the same rest pose: no joint error anywhere
    assert made["dtw_mje_mm"] == pytest.approx(0.0, abs=1e-6) and lower["dtw_mje_aligned_mm"] == pytest.approx(0.0, abs=1e-3)
    ratio = made["back_translation"]["bleu4"] / 100.0
    assert doc["goal"] == {"bleu4_ratio": pytest.approx(ratio), "target": 0.8, "met": ratio >= 0.8}
    assert [r["id"] for r in rows] == list("abcdef") and rows[-1]["produced"]["back_translation"] == ""
    assert rows[0]["other_sentence_id"] in "bcdef" and rows[0]["reconstruction"]["back_translation"] == SENTENCES[0]


def test_reference_joints_default_to_the_features():
    joints = features_to_joints(coded(0).numpy())
    assert joints.shape == (8, 52, 3)
    with pytest.raises(InvalidInputError, match="one clip per sentence"):
        P.production_scores([coded(0), coded(1)], [coded(0), coded(1)], SENTENCES[:2], tokenizer=ValueTokenizer(),
                            translator=PhraseTranslator(), reference_joints=[joints])
