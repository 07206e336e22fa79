"""The web app, a browser page to try lslm models (docs/app.md).

    python tools/app.py --model RUN/final [--producer RUN/final] [--host 127.0.0.1 --port 7860]
    python tools/app.py --model runs/demo/lslm/final --examples runs/demo/corpus \\
        --scores runs/demo/translation/metrics.json
    app = run(AppConfig(model="RUN/final", block=False))   # app.url; app.close()

Models are loaded once, on the CPU unless a GPU is there (--device). Translate takes an uploaded file
(or an example clip of the test split: --examples, default the model's training data, RUN/config.yaml
data.root), Produce a sentence (with --producer, a vocabulary-mode model), About describes the models.
Requests wait in Gradio's queue and run `--concurrency` at a time (default 1: the CPU is shared anyway);
uploads over --max-upload-mb are refused with that limit.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from lslm.errors import ConfigError, InvalidInputError


@dataclass(frozen=True)
class AppConfig:
    """The app's models, address and limits.

    model: an LSLM folder (LSLM.save_pretrained), e.g. RUN/final; producer: a vocabulary-mode one.
    host, port: where it listens (port None: the first free one from 7860).
    examples: a raw clip folder or prepared dataset (manifest.jsonl) whose first test clips are
        offered as examples (None: the model run's data.root when it has one; "" for none).
    scores: an evaluate metrics.json shown in About (None: a metrics.json in the model folder or run).
    convert: `ConvertOptions` fields for raw files (translation policy, SMPL-X model, ...), as the
        `--translation`, `--smplx-model`, ... flags of tools/translate.py set them; source_fps: the
        frame rate of uploads that do not store one (default: the format's).
    block: serve until interrupted (the command line); False returns the running app.
    work_dir: where renders and downloads are written (None: a new temporary folder).
    render_frames: animations draw at most this many frames (every k-th frame of a longer clip, played
        in real time).
    """

    model: str
    producer: str | None = None
    host: str = "127.0.0.1"
    port: int | None = 7860
    examples: str | None = None
    scores: str | None = None
    device: str | None = None
    convert: dict = field(default_factory=dict)
    source_fps: float | None = None
    max_upload_mb: float = 100.0
    render_frames: int = 60
    concurrency: int = 1
    max_queue: int = 32
    block: bool = True
    work_dir: str | None = None
    quiet: bool = False

    def __post_init__(self):
        if self.max_upload_mb <= 0:
            raise ConfigError(f"--max-upload-mb: expected a positive size, got {self.max_upload_mb}")
        if self.render_frames < 1:
            raise ConfigError(f"--render-frames: expected at least 1, got {self.render_frames}")
        if self.concurrency < 1 or self.max_queue < 1:
            raise ConfigError(f"--concurrency and --max-queue: expected at least 1, got {self.concurrency}, "
                              f"{self.max_queue}")


@dataclass
class RunningApp:
    """A launched app: its address, the Gradio Blocks, the models it serves and the page's settings."""

    url: str
    blocks: object
    models: object
    settings: object

    def close(self) -> None:
        """Stop the server."""
        self.blocks.close()


def _examples(config: AppConfig):
    from lslm.app.backend import find_examples, run_config

    folder = config.examples
    if folder is None:
        run = run_config(config.model) or {}
        folder = (run.get("data") or {}).get("root")
        if not folder or not (Path(folder) / "manifest.jsonl").is_file():
            return ()
    return tuple(find_examples(folder)) if folder else ()


def run(config: AppConfig) -> RunningApp:
    """Load the models, build the page and serve it (until interrupted when `config.block`)."""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # no calls home: the app runs offline
    from lslm.app.backend import AppModels
    from lslm.app.ui import AppSettings, build_app

    for name, path in (("--model", config.model), ("--producer", config.producer)):
        if path is not None and not Path(path).is_dir():
            raise InvalidInputError(path, name, "an LSLM folder (LSLM.save_pretrained)", got="no such folder")
    models = AppModels.load(config.model, config.producer, config.device, config.convert, config.source_fps)
    examples = _examples(config)
    work_dir = config.work_dir or tempfile.mkdtemp(prefix="lslm-app-")
    Path(work_dir).mkdir(parents=True, exist_ok=True)
    settings = AppSettings(work_dir=work_dir, max_upload_mb=config.max_upload_mb, examples=examples,
                           scores=config.scores, max_render_frames=config.render_frames)
    blocks = build_app(models, settings)
    blocks.queue(max_size=config.max_queue, default_concurrency_limit=config.concurrency)
    allowed = [str(Path(work_dir).resolve())] + sorted({str(Path(e.path).resolve().parent) for e in examples})
    _, url, _ = blocks.launch(server_name=config.host, server_port=config.port, prevent_thread_lock=True,
                              max_file_size=int(config.max_upload_mb * 1024 * 1024), allowed_paths=allowed,
                              quiet=config.quiet, footer_links=["api"])
    app = RunningApp(url, blocks, models, settings)
    if config.block:
        print(f"lslm app on {url} (Ctrl+C stops it)", flush=True)
        try:
            blocks.block_thread()
        finally:
            app.close()
    return app


def build_parser() -> argparse.ArgumentParser:
    """The command line of `lslm app` / tools/app.py."""
    from lslm.recipes._flags import add_convert_arguments

    d = AppConfig(model="")
    p = argparse.ArgumentParser(description="A web page to try lslm models: translate sign motion, produce signing.")
    p.add_argument("--model", required=True, help="LSLM folder (LSLM.save_pretrained), e.g. RUN/final")
    p.add_argument("--producer", help="vocabulary-mode LSLM folder for the Produce tab (English → motion)")
    p.add_argument("--host", default=d.host, help=f"address to listen on (default {d.host}; 0.0.0.0 for all)")
    p.add_argument("--port", type=int, default=d.port, help=f"port (default {d.port})")
    p.add_argument("--examples", help="raw clip folder or prepared dataset whose test clips are offered as examples "
                   "(default: the model run's data.root; '' for none)")
    p.add_argument("--scores", help="an evaluate metrics.json to show in About")
    p.add_argument("--device", help="default: cuda when available, else cpu")
    p.add_argument("--max-upload-mb", type=float, default=d.max_upload_mb,
                   help=f"largest upload accepted (default {d.max_upload_mb:g} MB)")
    p.add_argument("--render-frames", type=int, default=d.render_frames,
                   help=f"frames drawn per animation at most (default {d.render_frames})")
    p.add_argument("--concurrency", type=int, default=d.concurrency,
                   help=f"requests served at once; the rest wait in the queue (default {d.concurrency})")
    p.add_argument("--max-queue", type=int, default=d.max_queue, help=f"requests waiting at most (default {d.max_queue})")
    p.add_argument("--work-dir", help="where renders and downloads go (default: a new temporary folder)")
    add_convert_arguments(p)
    return p


def config_from_args(args: argparse.Namespace) -> AppConfig:
    """The AppConfig of parsed command-line arguments."""
    from lslm.recipes._flags import convert_overrides

    return AppConfig(model=args.model, producer=args.producer, host=args.host, port=args.port, examples=args.examples,
                     scores=args.scores, device=args.device, convert=convert_overrides(args), source_fps=args.source_fps,
                     max_upload_mb=args.max_upload_mb, render_frames=args.render_frames,
                     concurrency=args.concurrency, max_queue=args.max_queue, work_dir=args.work_dir)


def main(argv: list[str] | None = None) -> int:
    """Serve the app until interrupted; 2 for unusable arguments or models."""
    from lslm.errors import LslmError

    args = build_parser().parse_args(argv)
    try:
        run(config_from_args(args))
    except LslmError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        pass
    return 0
