"""tools/eval_landmarks.py on a two-clip synthetic corpus (no model): the report and its ordering."""
import json

import numpy as np

from lslm.recipes.eval_landmarks import main


def test_simulated_landmarks_report(tmp_path):
    from lslm.data.synthetic.generate import plan_corpus, save_npz
    from lslm.data.synthetic.motion import FPS, synthesize

    plan = plan_corpus("tiny", seed=0)
    corpus = tmp_path / "corpus"
    (corpus / "motion").mkdir(parents=True)
    rows = []
    for k, clip in enumerate([c for c in plan["clips"] if c["split"] == "test"][:2]):
        params = synthesize([plan["lexicon"][g] for g in clip["sentence"].gloss], clip["signer"],
                            np.random.default_rng([0, 4, k]))
        save_npz(corpus / "motion" / f"{clip['id']}.npz", {**params, "fps": np.float32(FPS),
                                                            "rest_offsets": clip["signer"].offsets.astype(np.float32)})
        rows.append({"id": clip["id"], "motion": f"motion/{clip['id']}.npz", "text": clip["sentence"].text,
                     "split": "test"})
    (corpus / "manifest.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert main(["--corpus", str(corpus), "--out", str(tmp_path / "out"), "--no-progress"]) == 0
    report = json.loads((tmp_path / "out" / "eval_landmarks.json").read_text())
    assert report["clips"] == 2 and 0.0 < report["hand_frames_lost"] < 0.3
    table = report["retargeting"]
    perfect, raw, smooth = (table[k] for k in ("perfect landmarks, no smoothing",
                                               "noise and lost hands, no smoothing",
                                               "noise and lost hands, One-Euro (default)"))
    assert perfect["mpjpe_mm"] < smooth["mpjpe_mm"] < raw["mpjpe_mm"] < 30
    assert smooth["accel_mm"] < 0.6 * raw["accel_mm"]
    assert "translation" not in report  # no --model
