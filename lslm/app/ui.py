"""The web page (Gradio 6): Translate, Produce and About tabs over one `AppModels` (docs/app.md).

    blocks = build_app(AppModels.load("runs/demo/lslm/final"), AppSettings(work_dir="/tmp/lslm-app"))
    blocks.queue(default_concurrency_limit=1).launch()

Each tab's button is also an API endpoint (`/translate`, `/produce`) that `gradio_client` calls with
the same inputs as the page. An `LslmError` (wrong format, unreadable file, no signer, empty text, ...)
becomes a `gr.Error`: the page shows its message, with the uploaded file's name instead of its
temporary path; anything else is logged with its traceback and shown by type and message.
"""
from __future__ import annotations

import functools
import html
import logging
import math
import shutil
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gradio as gr

from lslm.app.backend import AppModels, Example, model_card, write_production
from lslm.errors import LslmError
from lslm.video import write_pose

log = logging.getLogger("lslm.app")

TITLE = "lslm: 3D sign language ⇄ English"
KEEP_SECONDS = 3600  # renders, downloads and uploads are deleted an hour after they were written
INTRO = ("Upload a sign video, a `.pose` file or any motion file lslm reads (SignAvatars `.pkl`, Motion-X `.npy`, "
         "joints `.npy` (T, 52, 3), features `.npy` (T, 623), lslm `.npz`), or pick an example: the page shows the "
         "skeleton the model reads, its English translation and the motion codes.")


def default_produce_formats() -> tuple[str, ...]:
    """The Produce tab's downloads: the lslm joint file, a `.pose` file when pose-format (the `video`
    extra) is installed, and an mp4."""
    import importlib.util

    return ("npz", "pose", "mp4") if importlib.util.find_spec("pose_format") else ("npz", "mp4")


@dataclass(frozen=True)
class AppSettings:
    """What the page needs beyond the models: where it writes renders and downloads, upload limit (for the
    label), examples, score file for About, and how animations are drawn."""

    work_dir: str
    max_upload_mb: float = 100.0
    examples: tuple[Example, ...] = ()
    scores: str | None = None
    render_dpi: int = 80
    max_render_frames: int = 60  # longer clips are drawn every k-th frame (still in real time)
    default_beams: int = 1
    default_max_tokens: int = 64
    produce_formats: tuple[str, ...] = field(default_factory=default_produce_formats)


def shown_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Run a handler; lslm's errors become messages on the page, anything else a logged, typed message."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except gr.Error:
            raise
        except LslmError as err:
            raise gr.Error(html.escape(_readable(err), quote=False), title="Cannot use this input", print_exception=False) from err
        except Exception as err:  # a page must not die on an unexpected failure: log it, say what it was
            log.exception("%s failed", fn.__name__)
            raise gr.Error(html.escape(f"{type(err).__name__}: {err}", quote=False), title="Unexpected error") from err
    return wrapper


def _readable(err: LslmError) -> str:
    """The error's message with an upload's temporary folder cut from its path."""
    message, path = str(err), getattr(err, "path", None)
    return message.replace(path, Path(path).name) if path else message


def _render(joints, fps: float, out: Path, settings: AppSettings) -> str:
    """An animation of the joints (T, 52, 3), every k-th frame so that at most max_render_frames are drawn."""
    from lslm.viz import render_motion

    stride = max(1, math.ceil(len(joints) / settings.max_render_frames))
    return str(render_motion(joints, out, fps=fps, stride=stride, dpi=settings.render_dpi))


def _sweep(folder: Path, age: float = KEEP_SECONDS) -> None:
    """Remove what earlier requests wrote into `folder` more than `age` seconds ago."""
    cutoff = time.time() - age
    for entry in folder.iterdir():
        if entry.stat().st_mtime < cutoff:
            shutil.rmtree(entry, ignore_errors=True) if entry.is_dir() else entry.unlink(missing_ok=True)


def build_app(models: AppModels, settings: AppSettings) -> gr.Blocks:
    """The Blocks of the three tabs, not yet launched."""
    work = Path(settings.work_dir)
    examples = {(Path(e.path).name, Path(e.path).stat().st_size): e for e in settings.examples}  # an upload is a copy

    @shown_errors
    def translate(path: str | None, beams: float, max_tokens: float) -> tuple[str, str, str, str]:
        """A motion file → (animation, English, codes, what was read)."""
        if not path:
            raise gr.Error("Upload a motion file or pick an example first.", title="No input")
        _sweep(work)
        result = models.translate(path, num_beams=int(beams), max_new_tokens=int(max_tokens))
        animation = _render(result.joints, result.fps, work / f"{uuid.uuid4().hex}.gif", settings)
        info = (f"`{Path(path).name}`: {len(result.joints) + 1} frames at {result.fps:g} fps → "
                f"{len(result.codes)} motion codes")
        example = examples.get((Path(path).name, Path(path).stat().st_size))
        if example is not None:
            info += f"; reference English: *{html.escape(example.text, quote=False)}*"
        return animation, result.text, " ".join(map(str, result.codes)), info

    @shown_errors
    def produce(text: str, max_tokens: float) -> tuple[str, list[str], str]:
        """English → (animation, downloadable files, codes)."""
        _sweep(work)
        result = models.produce(text, max_new_tokens=int(max_tokens))
        folder = work / uuid.uuid4().hex
        files = [str(write_production(result, folder))]
        stem = Path(files[0]).stem
        if "pose" in settings.produce_formats:
            files.append(str(write_pose(result.joints, folder / f"{stem}.pose", fps=result.fps)))
        if "mp4" in settings.produce_formats:
            files.append(_render(result.joints, result.fps, folder / f"{stem}.mp4", settings))
        animation = _render(result.joints, result.fps, folder / f"{stem}.gif", settings)
        return animation, files, " ".join(map(str, result.codes))

    with gr.Blocks(title=TITLE, analytics_enabled=False, delete_cache=(KEEP_SECONDS, KEEP_SECONDS)) as blocks:
        gr.Markdown(f"# {TITLE}")
        with gr.Tab("Translate"):
            gr.Markdown(INTRO)
            with gr.Row():
                with gr.Column():
                    upload = gr.File(label=f"Motion file or video (at most {settings.max_upload_mb:g} MB)",
                                     elem_id="translate-file")
                    with gr.Accordion("Decoding", open=False):
                        beams = gr.Slider(1, 8, value=settings.default_beams, step=1, label="beam size")
                        max_tokens = gr.Slider(4, 256, value=settings.default_max_tokens, step=1,
                                               label="max new tokens")
                    button = gr.Button("Translate", variant="primary", elem_id="translate-button")
                    if settings.examples:
                        gr.Examples([[e.path] for e in settings.examples], inputs=[upload],
                                    example_labels=[f"{e.id}: {e.text}" for e in settings.examples],
                                    label="Examples from the test split (reference English)")
                with gr.Column():
                    animation = gr.Image(label="skeleton", type="filepath", interactive=False,
                                         elem_id="translate-animation")
                    english = gr.Textbox(label="English", interactive=False, elem_id="translation")
                    codes = gr.Textbox(label="motion codes", interactive=False, lines=2, elem_id="translate-codes")
                    info = gr.Markdown(label="input", elem_id="translate-info")
            button.click(translate, [upload, beams, max_tokens], [animation, english, codes, info],
                         api_name="translate")
        with gr.Tab("Produce"):
            if models.producer is None:
                gr.Markdown("Start the app with `--producer RUN/final` (a vocabulary-mode model) to sign English.")
            with gr.Row():
                with gr.Column():
                    sentence = gr.Textbox(label="English", placeholder="Where is the library?", elem_id="produce-text")
                    with gr.Accordion("Decoding", open=False):
                        produce_tokens = gr.Slider(4, 256, value=256, step=1, label="max new tokens")
                    produce_button = gr.Button("Sign it", variant="primary", elem_id="produce-button",
                                               interactive=models.producer is not None)
                with gr.Column():
                    produced = gr.Image(label="signed motion", type="filepath", interactive=False)
                    downloads = gr.File(label="downloads", file_count="multiple", interactive=False)
                    produced_codes = gr.Textbox(label="motion codes", interactive=False, lines=2)
            produce_button.click(produce, [sentence, produce_tokens], [produced, downloads, produced_codes],
                                 api_name="produce")
        with gr.Tab("About"):
            gr.Markdown(model_card(models, settings.scores))
    return blocks
