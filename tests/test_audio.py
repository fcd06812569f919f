from __future__ import annotations

import io

import numpy as np
import pytest
import soundfile as sf

import tbd
from tbd import audio
from tbd.articulation.mouth import SPEECH_GATE

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


# ---- level evening (LevelConfig / LevelTracker) ------------------------------------------------


def _at_db(samples: np.ndarray, db: float) -> np.ndarray:
    return (samples * 10 ** (db / 20)).astype(np.float32)


def test_a_normal_recording_keeps_its_features(speech_path):
    """The bundled speech peaks inside the normal band and has no audible floor: evened, it is as recorded."""
    sound = audio.load(speech_path)
    np.testing.assert_array_equal(audio.features(sound).matrix(), audio.features(sound, level=None).matrix())


@pytest.mark.parametrize("db", [-12.0, -24.0])
def test_a_quiet_recording_gets_the_features_of_a_normal_one(speech_path, db):
    sound = audio.load(speech_path)
    normal = audio.features(sound, level=None)
    quiet = audio.load((_at_db(sound.samples, db), sound.rate))
    raw, level = audio.features(quiet, level=None), audio.features(quiet)
    speech = normal.loudness > 0.5
    speech[:25] = False  # the gain waits for 0.2 s of speech, then rises at 50 dB/s (an onset is not a level)
    # Raised to the normal band's edge: within 6 dB of the recording at its usual level, not |db| below it.
    assert np.median(normal.loudness[speech] - raw.loudness[speech]) == pytest.approx(-db / 60, abs=0.01)
    assert np.median(normal.loudness[speech] - level.loudness[speech]) < 6 / 60
    mel_gap = np.median((normal.mel - level.mel)[speech].mean(axis=1))
    assert 0 <= mel_gap < np.log(10 ** 0.6)  # log-mel power, the same 6 dB
    assert level.loudness.min() >= 0 and level.loudness.max() <= 1 and np.isfinite(level.mel).all()


def test_a_hot_recording_is_lowered(speech_path):
    sound = audio.load(speech_path)
    normal = audio.features(sound, level=None)
    hot = audio.load((np.clip(_at_db(sound.samples, 9.0), -1, 1), sound.rate))  # peaks clipped, speech at -7 dBFS
    raw, level = audio.features(hot, level=None), audio.features(hot)
    speech = normal.loudness > 0.5
    lowered = raw.loudness[speech] - level.loudness[speech]
    assert np.median(lowered) > 1.5 / 60 and lowered.max() > 4 / 60 and lowered.min() >= -1e-6


@pytest.mark.parametrize("kind", ["white noise", "hum"])
def test_steady_noise_is_gated_not_raised(kind):
    rate, n = 16000, 3 * 16000
    if kind == "hum":
        samples = 0.2 * np.sin(2 * np.pi * 50 * np.arange(n) / rate)
    else:
        samples = np.random.default_rng(0).standard_normal(n) * 10 ** (-30 / 20)
    sound = audio.load((samples.astype(np.float32), rate))
    raw, level = audio.features(sound, level=None), audio.features(sound)
    assert raw.loudness[10:].min() > 0.45  # loud enough to open the mouth as recorded
    assert level.loudness[:15].max() <= raw.loudness[:15].max() + 1e-6  # never raised
    # Gated once it has held for 0.6 s with no speech over it: below the loudness that opens the mouth.
    assert (raw.loudness[16:] - level.loudness[16:]).min() > 20 / 60 and level.loudness[16:].max() < SPEECH_GATE


@pytest.mark.parametrize("lead_s", [0.0, 1.0])
def test_speech_in_room_noise_closes_in_its_pauses(speech_path, lead_s):
    """Also after a lead-in of digital silence (zeros padded before the recording): it says nothing of the room."""
    sound = audio.load(speech_path)
    normal = audio.features(sound, level=None)
    noise = np.random.default_rng(1).standard_normal(len(sound.samples)) * 10 ** (-35 / 20)
    lead = int(lead_s * 25)
    samples = np.concatenate([np.zeros(lead * 640), sound.samples + noise]).astype(np.float32)
    noisy = audio.load((samples, sound.rate))
    raw, level = audio.features(noisy, level=None), audio.features(noisy)
    raw, level = (type(raw)(f.mel[lead:], f.energy[lead:], f.loudness[lead:], f.fps) for f in (raw, level))
    silent = normal.loudness == 0  # digital silence in the clean clip
    # The gate opens once the noise has held for 0.3 s (in the first pause, frames 15-20): every later pause is gated.
    held = silent & (np.arange(len(silent)) > 20)
    assert held.sum() >= 10
    assert raw.loudness[held].min() > SPEECH_GATE and level.loudness[held].max() < SPEECH_GATE / 2
    speech = normal.loudness > 0.6
    assert np.abs(level.loudness[speech] - raw.loudness[speech]).max() < 1e-6  # the words as recorded


def test_level_evening_is_causal_and_the_same_live(speech_path):
    """Each frame's gain depends only on the frames before it: a live stream, fed in any chunks, gets the rows
    one call on the whole utterance gives (a quiet voice in room noise with a DC offset: every part acts)."""
    from tbd.live.audio import FeatureStream

    sound = audio.load(speech_path)
    noise = np.random.default_rng(2).standard_normal(len(sound.samples)) * 10 ** (-55 / 20)
    samples = (_at_db(sound.samples, -18.0) + noise + 0.05).astype(np.float32)  # and a DC offset
    whole = audio.features(audio.load((samples, 16000)))
    assert not np.allclose(whole.loudness, audio.features(audio.load((samples, 16000)), level=None).loudness)
    prefix = audio.features(audio.load((samples[: 16000 * 2], 16000)))
    np.testing.assert_allclose(prefix.matrix()[:40], whole.matrix()[:40], rtol=0, atol=1e-6)
    stream, rows, at = FeatureStream(25.0), [], 0
    for size in np.random.default_rng(3).integers(100, 3000, size=len(samples)):
        if at >= len(samples):
            break
        rows.append(stream.push(samples[at:at + size]))
        at += size
    rows.append(stream.finish())
    np.testing.assert_allclose(np.concatenate(rows), whole.matrix(), rtol=0, atol=1e-6)


def test_a_dc_offset_is_removed(speech_path):
    """A cheap microphone's DC offset read as sound: the mouth never closed. Removed, the pauses are silent again."""
    sound = audio.load(speech_path)
    normal = audio.features(sound, level=None)
    offset = audio.load(((sound.samples + 0.1).astype(np.float32), sound.rate))
    raw, level = audio.features(offset, level=None), audio.features(offset)
    later = (normal.loudness == 0) & (np.arange(normal.n_frames) > 40)  # once the running mean has settled
    assert later.sum() >= 10
    assert raw.loudness[later].min() > SPEECH_GATE and level.loudness[later].max() < SPEECH_GATE / 2
    speech = (normal.loudness > 0.5) & (np.arange(normal.n_frames) > 40)
    assert np.abs(level.loudness[speech] - normal.loudness[speech]).max() < 2 / 60


def test_a_bad_level_config_says_which_field():
    with pytest.raises(ValueError, match="normal_db"):
        audio.LevelConfig(normal_db=(-9.0, -19.0))
    with pytest.raises(ValueError, match="max_boost_db"):
        audio.LevelConfig(max_boost_db=-3.0)
    with pytest.raises(ValueError, match="dc_time_s"):
        audio.LevelConfig(dc_time_s=0.0)
