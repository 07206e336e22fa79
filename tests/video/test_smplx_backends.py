"""SMPLer-X's real output layout through the adapter, and both SMPL-X backends run as subprocesses against
fake checkouts written here: their inference scripts take the real command lines (SMPLer-X's
main/inference.py; SMPLest-X's Python API for lslm's driver) and write per-frame results with a gap
(frames 5-6: nobody detected) and a second, smaller person who takes bbox id 0 from frame 8 on."""
import json
import sys
import textwrap

import numpy as np
import pytest

from lslm.data.adapters import ADAPTERS, load_smplerx
from lslm.errors import InvalidInputError
from lslm.video.smplx_backends import SmplxBackend, run_smplx_backend

FRAMES, GAP, SWAP_FROM = 10, (5, 6), 8
F_TRUE, C_TRUE, TRANSL_TRUE = 5000.0, np.array([270.0, 360.0]), np.array([0.2, 0.1, 10.0])

# What the fake estimators write per frame and person: the signer's parameters carry the frame number,
# the other person's a marker; the signer's crop camera jitters while the signer stands still.
FAKE_FRAME = '''
import json, os
import numpy as np

def crop_camera(frame):
    s = np.sin(frame)
    return [5000.0 * (1 + 0.1 * s)] * 2, [270.0 + 20 * s, 360.0 + 10 * np.cos(frame)]

def write(out, frame):
    if frame in (5, 6):
        return
    focal, princpt = crop_camera(frame)
    z = 10.0 * focal[0] / 5000.0
    transl = [0.2 - (princpt[0] - 270.0) * z / focal[0], 0.1 - (princpt[1] - 360.0) * z / focal[1], z]
    signer = {"global_orient": np.array([[np.pi, 0.0, 0.0]]), "body_pose": np.full((21, 3), 0.01 * frame),
              "left_hand_pose": np.zeros((15, 3)), "right_hand_pose": np.zeros((15, 3)),
              "jaw_pose": np.zeros((1, 3)), "leye_pose": np.zeros((1, 3)), "reye_pose": np.zeros((1, 3)),
              "betas": np.full((1, 10), 0.5), "expression": np.zeros((1, 10)), "transl": np.array([transl])}
    other = dict(signer, body_pose=np.full((21, 3), -1.0), transl=np.array([[5.0, 0.0, 20.0]]))
    people = [(signer, focal, princpt, [100.0, 50.0, 300.0, 600.0]),
              (other, [800.0, 800.0], [20.0, 20.0], [0.0, 0.0, 40.0, 80.0])]
    if frame >= 8:
        people.reverse()  # the detector's order changes: bbox id 0 is the other person now
    for person, (params, f, c, box) in enumerate(people):
        for sub in ("smplx", "meta"):
            os.makedirs(os.path.join(out, sub), exist_ok=True)
        np.savez(os.path.join(out, "smplx", "%05d_%d.npz" % (frame, person)), **params)
        with open(os.path.join(out, "meta", "%05d_%d.json" % (frame, person)), "w") as fh:
            json.dump({"focal": f, "princpt": c, "bbox": box, "bbox_id": person}, fh)
'''

SMPLERX_INFERENCE = '''
import argparse, os, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fake_frame import write
p = argparse.ArgumentParser()
for a in ("--num_gpus", "--exp_name", "--pretrained_model", "--testset", "--agora_benchmark", "--img_path",
          "--start", "--end", "--output_folder", "--demo_dataset", "--demo_scene"):
    p.add_argument(a)
for a in ("--show_verts", "--show_bbox", "--save_mesh", "--multi_person"):
    p.add_argument(a, action="store_true")
args = p.parse_args()
assert os.path.basename(os.getcwd()) == "main" and os.path.isfile("../common/marker"), "runs in <checkout>/main"
assert args.multi_person and args.pretrained_model == "smpler_x_h32"
start = int(args.start)
for frame in range(start, start + int(args.end)):
    assert os.path.isfile(os.path.join(args.img_path, "%06d.jpg" % frame)), frame
    write(args.output_folder, frame)
'''

SMPLESTX_FILES = {
    "main/inference.py": "raise SystemExit('lslm runs its own driver, not this script')\n",
    "main/__init__.py": "",
    "main/config.py": '''
class _NS:
    def __init__(self, **kw):
        self.__dict__.update(kw)

class Config:
    @staticmethod
    def load_config(path):
        assert path.endswith("pretrained_models/smplest_x_h/config_base.py"), path
        cfg = Config()
        cfg.model = _NS(input_img_shape=(512, 384), input_body_shape=(256, 192), focal=(5000, 5000), princpt=(96, 128))
        cfg.data, cfg.inference = _NS(bbox_ratio=1.25), _NS(detection=_NS(conf=0.5, model_path="yolo.pt"))
        return cfg
    def update_config(self, new):
        assert new["model"]["pretrained_model_path"].endswith("smplest_x_h.pth.tar")
    def prepare_log(self):
        pass
''',
    "main/base.py": '''
import numpy as np
import torch

class Tester:
    def __init__(self, cfg):
        self.frame = 0
    def _make_model(self):
        self.model = self._forward
    def _forward(self, inputs, targets, meta_info, mode):
        import json, os
        frame, person = json.load(open(os.environ["FAKE_CURRENT"]))
        from fake_frame import write
        import tempfile
        with tempfile.TemporaryDirectory() as tmp:
            write(tmp, frame)
            data = np.load(os.path.join(tmp, "smplx", "%05d_%d.npz" % (frame, person)))
            names = {"global_orient": "smplx_root_pose", "body_pose": "smplx_body_pose", "left_hand_pose": "smplx_lhand_pose",
                     "right_hand_pose": "smplx_rhand_pose", "jaw_pose": "smplx_jaw_pose", "betas": "smplx_shape",
                     "expression": "smplx_expr", "transl": "cam_trans"}
            return {v: torch.as_tensor(data[k]).reshape(1, -1) for k, v in names.items()}
''',
    "utils/__init__.py": "",
    "utils/data_utils.py": '''
import json, os
import numpy as np

def load_img(path):
    frame = int(os.path.basename(path)[:6])
    load_img.frame = frame
    return np.zeros((720, 540, 3), dtype=np.uint8)

def process_bbox(bbox, img_width, img_height, input_img_shape, ratio):
    return np.asarray(bbox, dtype=np.float64)

def generate_patch_image(cvimg, bbox, scale, rot, do_flip, out_shape):
    return np.zeros((out_shape[0], out_shape[1], 3), dtype=np.float32), None, None
''',
    "ultralytics/__init__.py": '''
import json, os
import numpy as np
import torch
from utils.data_utils import load_img

class _Boxes:
    def __init__(self, xyxy):
        self.xyxy = torch.as_tensor(xyxy)

class _Result:
    def __init__(self, xyxy):
        self.boxes = _Boxes(xyxy)

class YOLO:
    def __init__(self, path):
        self.calls = 0
    def predict(self, image, device, classes, conf, save, verbose):
        frame = load_img.frame
        if frame in (5, 6):
            return [_Result(np.zeros((0, 4)))]
        boxes = [[100.0, 50.0, 400.0, 650.0], [0.0, 0.0, 40.0, 80.0]]
        if frame >= 8:
            boxes.reverse()
        self.calls += 1
        return [_Result(np.array(boxes))]
''',
    "torchvision/__init__.py": "",
    "torchvision/transforms.py": '''
import torch

class ToTensor:
    def __call__(self, image):
        return torch.as_tensor(image).permute(2, 0, 1)
''',
}


def tiny_video(path, frames=FRAMES):
    import imageio_ffmpeg

    writer = imageio_ffmpeg.write_frames(str(path), (64, 48), fps=25, macro_block_size=1)
    writer.send(None)
    for k in range(frames):
        writer.send(np.full((48, 64, 3), 20 * k, dtype=np.uint8).tobytes())
    writer.close()
    return path


def check_signer_followed(clip, crop_camera=True):
    """The clip holds the signer only, every frame, the gap filled and (crop_camera) the crop camera undone."""
    p = clip.params
    assert len(p["body_pose"]) == FRAMES and clip.y_down
    detected = clip.meta["detected"]
    np.testing.assert_array_equal(detected, [k not in GAP for k in range(1, FRAMES + 1)])
    assert clip.meta["gaps"] == [{"start": 4, "frames": 2}] and clip.meta["people"] == 2
    # body_pose carries the frame number: the signer in every frame (never −1), slerped across the gap
    np.testing.assert_allclose(p["body_pose"][:, 0], 0.01 * np.arange(1, FRAMES + 1), atol=1e-9)
    np.testing.assert_allclose(p["betas"], 0.5)
    if not crop_camera:
        return
    # the signer stands still while the crop camera jitters: one camera for the clip gives a constant transl
    assert np.ptp(p["transl"], axis=0).max() < 1e-9
    np.testing.assert_allclose(p["transl"][0, 2], 10.0 * 5000 * (1 + 0.1 * np.median(
        np.sin(np.array([k for k in range(1, FRAMES + 1) if k not in GAP])))) / 5000, rtol=1e-9)


def write_fake(root, files):
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))


def test_adapter_reads_the_real_layout(tmp_path):
    write_fake(tmp_path, {"fake_frame.py": FAKE_FRAME})
    sys.path.insert(0, str(tmp_path))
    try:
        from fake_frame import write
        results = tmp_path / "demo" / "results" / "my_video"
        for frame in range(1, FRAMES + 1):
            write(str(results), frame)
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("fake_frame", None)
    check_signer_followed(load_smplerx(results))
    # discovery: the clip id is the folder above smplx/, not "smplx"
    assert ADAPTERS["smplerx"].discover(tmp_path / "demo") == [("my_video", results)]
    # two frames left after frame 10: the video's count makes the clip longer, the tail held
    longer = load_smplerx(results / "smplx", num_frames=12)
    assert len(longer.params["body_pose"]) == 12 and not longer.meta["detected"][-2:].any()
    np.testing.assert_allclose(longer.params["body_pose"][-2:, 0], 0.1)
    # without meta/*.json the crop translation cannot be undone: dropped, and said
    for f in (results / "meta").glob("*.json"):
        f.unlink()
    for f in (results / "smplx").glob("*_1.npz"):
        f.unlink()
    bare = load_smplerx(results)
    np.testing.assert_array_equal(bare.params["transl"], 0.0)
    assert bare.meta["transl"].startswith("dropped")


def test_duplicate_frame_files_are_refused(tmp_path):
    (tmp_path / "smplx").mkdir()
    for name in ("00001_0.npz", "1_0.npz"):
        np.savez(tmp_path / "smplx" / name, global_orient=np.zeros(3))
    with pytest.raises(InvalidInputError, match="one file per frame and person"):
        load_smplerx(tmp_path)


@pytest.mark.parametrize("name", ["smplerx", "smplestx"])
def test_backend_runs_the_users_checkout_as_a_subprocess(tmp_path, name, monkeypatch):
    pytest.importorskip("imageio_ffmpeg")
    checkout = tmp_path / name
    if name == "smplerx":
        write_fake(checkout, {"main/inference.py": SMPLERX_INFERENCE, "main/fake_frame.py": FAKE_FRAME,
                              "common/marker": ""})
    else:
        write_fake(checkout, {**SMPLESTX_FILES, "fake_frame.py": FAKE_FRAME})
        # the fake model learns which frame/person the driver is on through a file the fake detector
        # and image loader cannot pass on; the driver calls them in order, so a wrapper records it
        write_fake(checkout, {"utils/data_utils.py": SMPLESTX_FILES["utils/data_utils.py"] + textwrap.dedent('''
            _patch = generate_patch_image
            _count = {}
            def generate_patch_image(cvimg, bbox, scale, rot, do_flip, out_shape):
                frame = load_img.frame
                person = _count.get(frame, 0)
                _count[frame] = person + 1
                json.dump([frame, person], open(os.environ["FAKE_CURRENT"], "w"))
                return _patch(cvimg, bbox, scale, rot, do_flip, out_shape)
            ''')})
        monkeypatch.setenv("FAKE_CURRENT", str(tmp_path / "current.json"))
    video = tiny_video(tmp_path / "clip.mp4")
    backend = SmplxBackend(name, str(checkout), python=sys.executable, multi_person=True)
    results, count = run_smplx_backend(backend, video, tmp_path / "work")
    assert count == FRAMES and sorted(p.name for p in (tmp_path / "work" / "images").iterdir())[0] == "000001.jpg"
    # the fake SMPLest-X detector's boxes do not move, so there the crop camera is constant
    check_signer_followed(load_smplerx(results, fps=25.0, num_frames=count), crop_camera=name == "smplerx")
    meta = json.loads((results / "meta" / "00001_0.json").read_text())
    if name == "smplestx":  # lslm's driver: SMPLest-X's crop camera from its config and the box (x, y, w, h)
        np.testing.assert_allclose(meta["focal"], [5000 / 192 * 300, 5000 / 256 * 600])
        np.testing.assert_allclose(meta["princpt"], [96 / 192 * 300 + 100, 128 / 256 * 600 + 50])
    assert set(meta) >= {"focal", "princpt", "bbox"}


def test_backend_errors_name_the_checkout_and_the_log(tmp_path):
    with pytest.raises(InvalidInputError, match="main/inference.py"):
        SmplxBackend("smplerx", str(tmp_path)).checked()
    write_fake(tmp_path, {"main/inference.py": "raise SystemExit('CUDA is not available')\n"})
    pytest.importorskip("imageio_ffmpeg")
    with pytest.raises(InvalidInputError, match="CUDA is not available"):
        run_smplx_backend(SmplxBackend("smplerx", str(tmp_path)), tiny_video(tmp_path / "v.mp4"), tmp_path / "w")
