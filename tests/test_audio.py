from __future__ import annotations

import io

import numpy as np
import pytest
import soundfile as sf

import tbd
from tbd import audio

from .conftest import syllables


def test_load_resamples_to_16k_mono(tmp_path):
    stereo = np.stack([syllables(2.0, 44100), syllables(2.0, 44100, seed=1)], axis=1)
    path = tmp_path / "stereo.wav"
    sf.write(path, stereo, 44100)
    a = audio.load(path)
    assert a.rate == 16000 and a.samples.ndim == 1
    assert abs(a.duration - 2.0) < 1e-3
    # A real resampler keeps a 1 kHz tone's energy at 1 kHz.
    tone = np.sin(2 * np.pi * 1000 * np.arange(22050) / 22050).astype(np.float32)
    r = audio.load((tone, 22050))
    spectrum = np.abs(np.fft.rfft(r.samples))
    assert abs(np.argmax(spectrum) * r.rate / len(r.samples) - 1000) < 5


def test_load_sources_agree(speech_path):
    from_path = audio.load(speech_path)
    with open(speech_path, "rb") as fh:
        from_file = audio.load(io.BytesIO(fh.read()))
    samples, rate = sf.read(speech_path, dtype="int16")
    from_tuple = audio.load((samples, rate))
    np.testing.assert_allclose(from_path.samples, from_file.samples)
    np.testing.assert_allclose(from_path.samples, from_tuple.samples, atol=1e-3)


def test_features_follow_energy():
    signal = syllables(3.0, 16000)
    feats = audio.features(audio.load((signal, 16000)), fps=25)
    assert feats.n_frames == 75
    assert feats.mel.shape == (75, audio.N_MELS) and feats.matrix().shape == (75, audio.AudioFeatures.N_FEATURES)
    # Per-frame RMS of the signal itself, computed independently.
    rms = np.sqrt(np.mean(signal[: 75 * 640].reshape(75, 640) ** 2, axis=1))
    assert np.corrcoef(rms, feats.energy)[0, 1] > 0.95
    assert feats.loudness.min() >= 0 and feats.loudness.max() <= 1


def test_silence_is_valid():
    feats = audio.features(audio.load((np.zeros(16000, np.float32), 16000)))
    assert feats.n_frames == 25
    assert np.all(feats.loudness == 0)


@pytest.mark.parametrize(
    "content, why",
    [(b"", "empty"), (b"this is not audio at all" * 50, "not a readable")],
)
def test_bad_files_raise_audio_error(tmp_path, content, why):
    path = tmp_path / "bad.wav"
    path.write_bytes(content)
    with pytest.raises(tbd.AudioError, match="bad.wav"):
        audio.load(path)


def test_missing_and_empty_audio(tmp_path):
    with pytest.raises(tbd.AudioError, match="no such audio file"):
        audio.load(tmp_path / "missing.wav")
    empty = tmp_path / "empty.wav"
    sf.write(empty, np.zeros(0, np.float32), 16000)
    with pytest.raises(tbd.AudioError, match="empty"):
        audio.load(empty)
    with pytest.raises(tbd.AudioError, match="sample_rate"):
        audio.load((np.zeros(10), -5))


def test_long_clips_get_the_same_features_and_visemes_in_blocks(monkeypatch):
    """Hour-long clips are analysed in blocks (bounded memory): the blocks must not change a value."""
    from tbd.articulation import audio_model

    sound = audio.load((syllables(7.3, rate=16000, seed=7), 16000))
    whole = audio.features(sound)
    model = audio_model.default_classifier()
    whole_visemes = model.posteriors(whole.matrix())
    monkeypatch.setattr(audio, "FEATURE_BLOCK", 37)
    monkeypatch.setattr(audio_model, "POSTERIOR_BLOCK", 29)
    blocked = audio.features(sound)
    assert blocked.n_frames == whole.n_frames > 37 * 4
    # Blocks of another length may take another SIMD/FFT path: the same values to float32 rounding
    # (a clean CI venv differed by 1-2 ulp on 0.4 % of the elements), never a block seam.
    np.testing.assert_allclose(blocked.matrix(), whole.matrix(), rtol=0, atol=1e-6)
    # (a short last block takes the small-row product: the same sums in another order)
    np.testing.assert_allclose(model.posteriors(blocked.matrix()), whole_visemes, rtol=0, atol=1e-6)
    part = model.posteriors(whole.matrix(), available=150, first=11, count=120)  # a live block's call, in blocks
    monkeypatch.setattr(audio_model, "POSTERIOR_BLOCK", 10**9)
    np.testing.assert_allclose(model.posteriors(whole.matrix(), available=150, first=11, count=120), part,
                               rtol=0, atol=1e-6)
