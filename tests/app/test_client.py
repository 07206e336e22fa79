"""The app through its API (gradio_client), as a program or a second page would use it: translations equal
`LSLM.generate` on the same clip, two users are served at once, bad input gets its message, and produced
signing comes back as a file lslm reads."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from app_fixtures import PRODUCED_CODES
from PIL import Image

from lslm.app.ui import default_produce_formats
from lslm.data.convert import file_features, read_clip
from lslm.model import LSLM
from lslm.video import read_pose

MAX_TOKENS = 8


@pytest.fixture(scope="module")
def downloads(tmp_path_factory):
    return str(tmp_path_factory.mktemp("downloads"))


@pytest.fixture(scope="module")
def client(app, downloads):
    from gradio_client import Client

    return Client(app.url, verbose=False, download_files=downloads)


@pytest.fixture(scope="module")
def reference(app_models, examples):
    """reference(example, num_beams=1) → (codes, English) of `LSLM.generate` on the clip's features, from
    the model loaded anew."""
    model = LSLM.from_pretrained(app_models["translator"])
    tokenizer = model.motion_tokenizer

    def generate(example, num_beams: int = 1) -> tuple[list[int], str]:
        features = torch.as_tensor(file_features(example.path, tokenizer.convert_options()))
        return tokenizer.encode(features).tolist(), model.generate(features, num_beams=num_beams,
                                                                   max_new_tokens=MAX_TOKENS)
    return generate


def translate(client, path, beams=1):
    from gradio_client import handle_file

    return client.predict(handle_file(str(path)), beams, MAX_TOKENS, api_name="/translate")


def test_a_test_clip_translates_as_generate_does(client, examples, reference):
    example = examples[0]
    animation, english, codes, info = translate(client, example.path)
    expected_codes, expected_text = reference(example)
    assert english == expected_text
    assert [int(c) for c in codes.split()] == expected_codes
    assert f"{len(expected_codes)} motion codes" in info and example.text in info  # the example's reference
    with Image.open(animation) as gif:  # the skeleton animation: a GIF of several frames
        assert gif.format == "GIF" and gif.n_frames > 1


def test_two_users_at_once_each_get_their_own_translation_and_decoding(client, app, examples, reference, downloads):
    from gradio_client import Client, handle_file

    users, clips, beams = (client, Client(app.url, verbose=False, download_files=downloads)), examples[:2], (1, 3)
    jobs = [user.submit(handle_file(e.path), b, MAX_TOKENS, api_name="/translate")
            for user, e, b in zip(users, clips, beams)]
    results = [job.result(timeout=120) for job in jobs]
    assert [([int(c) for c in r[2].split()], r[1]) for r in results] == [reference(e, b) for e, b in zip(clips, beams)]
    assert results[0][2] != results[1][2]  # the clips' codes differ: a mix-up between users would show


def message(excinfo) -> str:
    return str(excinfo.value)


def test_bad_input_gets_a_message_not_a_traceback(client, tmp_path):
    from gradio_client.exceptions import AppError

    (tmp_path / "notes.txt").write_text("not motion")
    with pytest.raises(AppError) as wrong_type:
        translate(client, tmp_path / "notes.txt")
    assert "notes.txt" in message(wrong_type) and "lslm" in message(wrong_type)  # names the file and the formats
    (tmp_path / "broken.npz").write_bytes(b"PK\x03\x04 not a zip archive")
    with pytest.raises(AppError) as unreadable:
        translate(client, tmp_path / "broken.npz")
    assert "broken.npz" in message(unreadable) and "/tmp" not in message(unreadable)
    np.save(tmp_path / "short.npy", np.random.default_rng(0).normal(size=(3, 52, 3)))  # 2 feature rows: no code
    with pytest.raises(AppError, match="at least 4 frames"):
        translate(client, tmp_path / "short.npy")
    with pytest.raises(AppError, match="English sentence"):
        client.predict("   ", PRODUCED_CODES, api_name="/produce")


def test_a_large_upload_is_refused_with_its_limit(app):
    import httpx

    limit = int(app.settings.max_upload_mb * 1024 * 1024)
    big = b"\0" * (limit + 1)
    response = httpx.post(f"{app.url.rstrip('/')}/gradio_api/upload", files={"files": ("big.npy", big)}, timeout=60)
    assert response.status_code == 413 and str(limit) in response.text


def test_production_returns_a_file_lslm_reads_back(client, app_models):
    if app_models["producer"] is None:
        pytest.skip("no producer (LSLM_APP_MODEL without LSLM_APP_PRODUCER)")
    sentence = "where is the library"
    animation, files, codes = client.predict(sentence, PRODUCED_CODES, api_name="/produce")
    paths = {p.rsplit(".", 1)[-1]: p for p in files}
    assert set(paths) == set(default_produce_formats())
    producer = LSLM.from_pretrained(app_models["producer"])
    expected = producer.generate_motion(sentence, max_new_tokens=PRODUCED_CODES)
    assert [int(c) for c in codes.split()] == expected.tolist() and len(expected) == PRODUCED_CODES
    clip = read_clip(paths["npz"])  # format detected: an lslm joint file
    joints = producer.motion_tokenizer.features_to_joints(producer.motion_tokenizer.decode(expected))
    assert clip.fps == producer.motion_tokenizer.fps
    np.testing.assert_allclose(clip.joints, joints.numpy(), atol=1e-5)
    with Image.open(animation) as gif:
        assert gif.n_frames > 1
    if "pose" in paths:  # the same motion as MediaPipe would have seen it
        landmarks = read_pose(paths["pose"])
        assert (landmarks.num_frames, landmarks.fps) == (len(joints), producer.motion_tokenizer.fps)
