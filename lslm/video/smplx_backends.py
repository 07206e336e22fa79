"""The `smplerx` and `smplestx` backends: SMPL-X per frame from the user's own checkout, as a subprocess.

SMPLer-X and SMPLest-X (S-Lab License 1.0, non-commercial) need Python 3.8, old torch, mmcv/mmdet or
ultralytics and a GPU. lslm never ships or imports their code: it runs them as the user's program, in
their checkout and with their Python, and reads what they write with `lslm.data.adapters.load_smplerx`.

- `smplerx`: the video's frames are written as `images/%06d.jpg` (from 1, as SMPLer-X's own script does),
  then `main/inference.py` runs in `<checkout>/main` with the command line of its `slurm_inference.sh`,
  without Slurm; it writes `results/smplx/{frame:05}_{person}.npz` and `results/meta/*.json`.
- `smplestx`: SMPLest-X only renders frames, so lslm writes a small driver (`lslm_smplestx_driver.py`,
  lslm's own code, Apache-2.0) that runs SMPLest-X's model through its Python API on each frame and
  saves the parameters and camera in the same layout (every detected person; lslm follows one).
"""
from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from lslm.errors import ConfigError, InvalidInputError

DRIVER_NAME = "lslm_smplestx_driver.py"


@dataclass(frozen=True)
class SmplxBackend:
    """Where the user's estimator lives and how to run it."""

    name: str  # "smplerx" or "smplestx"
    checkout: str  # the SMPLer-X / SMPLest-X repository
    python: str = sys.executable  # the interpreter of the user's environment for it
    model: str = ""  # pretrained model name (default: smpler_x_h32 / smplest_x_h)
    multi_person: bool = False  # SMPLer-X: --multi_person (SMPLest-X: the driver saves everyone)
    timeout: float | None = None  # seconds for the estimator process

    def checked(self) -> SmplxBackend:
        """Self, after checking the name and that the checkout has main/inference.py (both projects do)."""
        if self.name not in ("smplerx", "smplestx"):
            raise ConfigError(f"backend: expected smplerx or smplestx, got {self.name!r}")
        if not (Path(self.checkout) / "main" / "inference.py").is_file():
            raise InvalidInputError(self.checkout, "checkout", f"a {self.name} repository with main/inference.py",
                                    got="no main/inference.py")
        return self


def extract_frames(video: str | os.PathLike, folder: Path, fps: float | None = None) -> int:
    """Write the video's frames as folder/%06d.jpg (from 1) with ffmpeg; returns their number."""
    import imageio_ffmpeg

    folder.mkdir(parents=True, exist_ok=True)
    command = [imageio_ffmpeg.get_ffmpeg_exe(), "-nostdin", "-loglevel", "error", "-y", "-i", str(video),
               *(["-vf", f"fps={fps}"] if fps else []), "-f", "image2", "-qscale:v", "2",
               str(folder / "%06d.jpg")]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise InvalidInputError(video, "video", "a video ffmpeg can decode", got=done.stderr.strip()[-300:])
    count = len(list(folder.glob("*.jpg")))
    if count == 0:
        raise InvalidInputError(video, "frames", "at least one frame", got=0)
    return count


def _run(command: list[str], cwd: Path, env_path: list[Path], log: Path, timeout: float | None) -> None:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([*map(str, env_path), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    with open(log, "w") as f:
        try:
            done = subprocess.run(command, cwd=cwd, env=env, stdout=f, stderr=subprocess.STDOUT, timeout=timeout)
        except subprocess.TimeoutExpired as e:
            raise InvalidInputError(cwd, "estimator", f"finishing within {timeout} s", got="timeout") from e
    if done.returncode != 0:
        tail = log.read_text(errors="replace")[-600:]
        raise InvalidInputError(cwd, "estimator", f"exit status 0 (log: {log})", got=f"{done.returncode}: {tail}")


def run_smplx_backend(backend: SmplxBackend, video: str | os.PathLike, work: str | os.PathLike,
                      fps: float | None = None) -> tuple[Path, int]:
    """Estimate SMPL-X for every frame of `video` in `work/`; returns (results folder, number of frames).

    `results/smplx/*.npz` (+ `results/meta/*.json`) is what `load_smplerx(results, num_frames=n)` reads.
    """
    backend = backend.checked()
    work = Path(work).resolve()
    images, results = work / "images", work / "results"
    count = extract_frames(video, images, fps)
    results.mkdir(parents=True, exist_ok=True)
    root = Path(backend.checkout).resolve()
    log = work / f"{backend.name}.log"
    if backend.name == "smplerx":
        command = [backend.python, "inference.py", "--num_gpus", "1", "--exp_name", str(work / "exp"),
                   "--pretrained_model", backend.model or "smpler_x_h32", "--agora_benchmark", "agora_model",
                   "--img_path", str(images), "--start", "1", "--end", str(count), "--output_folder", str(results)]
        if backend.multi_person:
            command.append("--multi_person")
        _run(command, root / "main", [root], log, backend.timeout)
    else:
        driver = work / DRIVER_NAME
        driver.write_text(SMPLESTX_DRIVER, encoding="utf-8")
        command = [backend.python, str(driver), "--ckpt_name", backend.model or "smplest_x_h",
                   "--img_path", str(images), "--start", "1", "--end", str(count), "--output_folder", str(results)]
        _run(command, root, [root, root.parent], log, backend.timeout)
    if not any((results / "smplx").glob("*.npz")):
        raise InvalidInputError(results, "smplx", "per-frame .npz files from the estimator",
                                got=f"none (nobody detected?), log: {log}")
    return results, count


# The driver lslm writes for SMPLest-X: it uses SMPLest-X's public pieces (Config, Tester, the YOLO person
# detector, process_bbox, generate_patch_image) the way its main/inference.py does, and saves what that
# script only renders. Runs in the checkout with the user's Python (3.8+: no newer syntax here).
SMPLESTX_DRIVER = r'''"""Written by lslm (Apache-2.0): run SMPLest-X on numbered frames, save SMPL-X per frame and person
in the SMPLer-X layout: OUT/smplx/{frame:05}_{person}.npz and OUT/meta/{frame:05}_{person}.json."""
import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.getcwd())


def parse():
    p = argparse.ArgumentParser()
    p.add_argument("--ckpt_name", default="smplest_x_h")
    p.add_argument("--img_path", required=True)
    p.add_argument("--start", type=int, default=1)
    p.add_argument("--end", type=int, required=True)
    p.add_argument("--output_folder", required=True)
    return p.parse_args()


def main():
    args = parse()
    import torch
    import torchvision.transforms as transforms
    from ultralytics import YOLO
    from main.base import Tester
    from main.config import Config
    from utils.data_utils import load_img, process_bbox, generate_patch_image

    folder = os.path.join("pretrained_models", args.ckpt_name)
    cfg = Config.load_config(os.path.join(folder, "config_base.py"))
    cfg.update_config({"model": {"pretrained_model_path": os.path.join(folder, args.ckpt_name + ".pth.tar")},
                       "log": {"exp_name": "lslm_" + args.ckpt_name,
                               "log_dir": os.path.join(args.output_folder, "log")}})
    cfg.prepare_log()
    tester = Tester(cfg)
    tester._make_model()
    detector = YOLO(getattr(cfg.inference.detection, "model_path", "./pretrained_models/yolov8x.pt"))
    to_tensor = transforms.ToTensor()
    device = "cuda" if torch.cuda.is_available() else "cpu"
    for sub in ("smplx", "meta"):
        os.makedirs(os.path.join(args.output_folder, sub), exist_ok=True)
    names = {"global_orient": "smplx_root_pose", "body_pose": "smplx_body_pose",
             "left_hand_pose": "smplx_lhand_pose", "right_hand_pose": "smplx_rhand_pose",
             "jaw_pose": "smplx_jaw_pose", "betas": "smplx_shape", "expression": "smplx_expr",
             "transl": "cam_trans"}
    for frame in range(args.start, args.end + 1):
        path = os.path.join(args.img_path, "%06d.jpg" % frame)
        image = load_img(path)
        height, width = image.shape[:2]
        boxes = detector.predict(image, device=device, classes=0, conf=cfg.inference.detection.conf,
                                 save=False, verbose=False)[0].boxes.xyxy.detach().cpu().numpy()
        for person, (x0, y0, x1, y1) in enumerate(boxes):
            xywh = np.array([x0, y0, abs(x1 - x0), abs(y1 - y0)], dtype=np.float64)
            bbox = process_bbox(bbox=xywh, img_width=width, img_height=height,
                                input_img_shape=cfg.model.input_img_shape,
                                ratio=getattr(cfg.data, "bbox_ratio", 1.25))
            patch, _, _ = generate_patch_image(cvimg=image, bbox=bbox, scale=1.0, rot=0.0, do_flip=False,
                                               out_shape=cfg.model.input_img_shape)
            inputs = {"img": (to_tensor(patch.astype(np.float32)) / 255)[None].to(device)}
            with torch.no_grad():
                out = tester.model(inputs, {}, {}, "test")
            params = {k: out[v].reshape(-1).detach().cpu().numpy() for k, v in names.items()}
            name = "%05d_%d" % (frame, person)
            np.savez(os.path.join(args.output_folder, "smplx", name + ".npz"), **params)
            focal = [cfg.model.focal[i] / cfg.model.input_body_shape[1 - i] * bbox[2 + i] for i in (0, 1)]
            princpt = [cfg.model.princpt[i] / cfg.model.input_body_shape[1 - i] * bbox[2 + i] + bbox[i]
                       for i in (0, 1)]
            meta = {"focal": [float(v) for v in focal], "princpt": [float(v) for v in princpt],
                    "bbox": [float(v) for v in bbox], "bbox_id": person, "img_path": path}
            with open(os.path.join(args.output_folder, "meta", name + ".json"), "w") as f:
                json.dump(meta, f)


if __name__ == "__main__":
    main()
'''
