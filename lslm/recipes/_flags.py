"""Command-line flags several recipes share: how raw clips are read and converted (prepare, translate,
encode, app take the same names and defaults, from `lslm.data.convert.ConvertOptions`)."""
from __future__ import annotations

import argparse

from lslm.data.adapters import INVALID_HANDS, SIGNAVATARS_LAYOUTS
from lslm.data.convert import TRANSLATION_POLICIES, ConvertOptions


def add_convert_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags that choose how raw clips are read and converted (same names and defaults everywhere)."""
    d = ConvertOptions()
    group = parser.add_argument_group("reading raw clips (as prepare_dataset.py)")
    group.add_argument("--source-fps", type=float,
                       help="frame rate of the input clips (default: a split file's FPS column, else the format's)")
    group.add_argument("--smplx-model", help="SMPL-X model .npz or folder with SMPLX_NEUTRAL.npz")
    group.add_argument("--flat-hand-mean", action="store_true", help="hand poses are relative to a flat hand")
    group.add_argument("--translation", choices=TRANSLATION_POLICIES, default=d.translation,
                       help=f"camera-frame clips (SignAvatars, SMPLer-X): drop the estimated translation, smooth it "
                            f"or keep it (default {d.translation}; docs/data.md)")
    group.add_argument("--signavatars-params", choices=sorted(SIGNAVATARS_LAYOUTS), default=d.signavatars_params,
                       help=f"SignAvatars table to read (default {d.signavatars_params}, the smoothed fit)")
    group.add_argument("--invalid-hands", choices=INVALID_HANDS, default=d.invalid_hands,
                       help=f"SignAvatars hand frames flagged invalid (default {d.invalid_hands})")


def convert_overrides(args: argparse.Namespace) -> dict:
    """The `ConvertOptions` fields set by `add_convert_arguments` flags (fps, compat and the target
    skeleton are not among them: a tokenizer or prepare's own flags fix those)."""
    return {"model_path": args.smplx_model, "flat_hand_mean": args.flat_hand_mean, "translation": args.translation,
            "signavatars_params": args.signavatars_params, "invalid_hands": args.invalid_hands}
