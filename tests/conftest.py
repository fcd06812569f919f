"""Shared fixtures: bundled assets and small synthetic audio."""

from __future__ import annotations

import os

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="session")
def portrait_path() -> str:
    from tbd import assets

    return str(assets.portrait_path())


@pytest.fixture(scope="session")
def speech_path() -> str:
    from tbd import assets

    return str(assets.speech_path())


def syllables(duration: float = 3.0, rate: int = 22050, seed: int = 0) -> np.ndarray:
    """Speech-like test signal: voiced bursts (harmonics of a gliding pitch) separated by pauses."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(duration * rate)) / rate
    f0 = 140 + 30 * np.sin(2 * np.pi * 0.7 * t)
    voice = sum(np.sin(2 * np.pi * k * np.cumsum(f0) / rate) / k for k in range(1, 8))
    envelope = np.zeros_like(t)
    start = 0.2
    while start < duration - 0.3:
        length = rng.uniform(0.12, 0.3)
        envelope += np.exp(-0.5 * ((t - start - length / 2) / (length / 4)) ** 2)
        start += length + rng.uniform(0.08, 0.35)
    return (0.3 * voice * envelope).astype(np.float32)


def astronaut_crop(size: int = 512) -> np.ndarray:
    """A second development face: scikit-image's astronaut photo (public domain, NASA), cropped to her face and
    enlarged to ``size`` px (uint8 RGB), so its edges are as soft as an enlarged portrait's."""
    from PIL import Image
    from skimage import data

    return np.asarray(Image.fromarray(data.astronaut()[33:203, 143:313]).resize((size, size), Image.LANCZOS))


def cameraman_crop(size: int = 512) -> np.ndarray:
    """A face turned far from the camera: scikit-image's cameraman (CC0), turned about 60 degrees to the image right,
    his far lip corner and far eye at the outline of his face, cropped and enlarged to ``size`` px (uint8 RGB)."""
    from PIL import Image
    from skimage import data

    camera = np.repeat(data.camera()[:, :, None], 3, axis=2)[60:240, 132:312]
    return np.asarray(Image.fromarray(camera).resize((size, size), Image.LANCZOS))


@pytest.fixture(scope="module")
def talker():
    """A rig Talker (fast, no weights), one per test module."""
    import tbd

    return tbd.Talker("rig", progress=False)


@pytest.fixture(scope="module")
def avatar(talker):
    """The bundled portrait prepared small (128 px) for rendering tests."""
    from tbd import assets

    return talker.prepare(str(assets.portrait_path()), size=128)

