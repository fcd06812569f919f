"""EXPORT: write frames and motion curves to files, atomically.

Every writer renders into a temporary name beside the target and renames it into place
only when complete, so an interrupted export never leaves a file that looks finished.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import shutil
import tempfile
from fractions import Fraction
from pathlib import Path
from typing import Any, Iterable, Iterator

import numpy as np

from .errors import BackendError, OutputError
from .motion import Motion

VIDEO_SUFFIXES = (".mp4", ".mov", ".mkv")
CURVE_SUFFIXES = (".json", ".csv")
_TEMP_SPARE = ".partial-XXXXXXXX"
MAX_NAME_BYTES = 255 - len(_TEMP_SPARE) - 1 - 5
"""The longest output file name (bytes): the temporary ``.NAME.partial-XXXXXXXX.ext`` must fit in 255."""
_KNOWN_SUFFIXES = {suffix.lstrip(".") for suffix in (*VIDEO_SUFFIXES, ".gif", *CURVE_SUFFIXES, ".onnx")}
"""Every suffix tbd writes (media, curves, exported models): a name that is only one of them is a mistake."""
FRAME_SUFFIXES = VIDEO_SUFFIXES + (".gif",)


def output_kind(path: str | os.PathLike[str]) -> str:
    """What ``save`` writes for ``path``: "video", "gif", "curves" or "png_dir" (no suffix)."""
    suffix = Path(path).suffix.lower()
    if suffix in VIDEO_SUFFIXES:
        return "video"
    if suffix == ".gif":
        return "gif"
    if suffix in CURVE_SUFFIXES:
        return "curves"
    if suffix == "":
        return "png_dir"
    raise OutputError(
        f"{path}: unknown output type {suffix!r}; use .mp4, .gif, .json, .csv, or a folder name for PNG frames"
    )


def check_output_path(path: str | os.PathLike[str], *, inputs: tuple[Any, ...] = ()) -> Path:
    """Fail early, before any work, when ``path`` cannot be written or would clobber an input."""
    out = _checked_name(path)
    kind = output_kind(out)
    _check_folder(out)
    if kind != "png_dir":
        _check_existing_file(out, kind)
    for src in inputs:
        if isinstance(src, (str, os.PathLike)) and Path(src).exists() and out.exists() and out.samefile(src):
            raise OutputError(f"{out} is one of the inputs; choose another output path so the input is kept")
    if kind == "png_dir" and out.exists() and not out.is_dir():
        raise OutputError(f"{out} is a file, and a path without an extension means a folder of PNG frames; "
                          "add an extension (.mp4, .gif, .json, .csv) or choose a new folder name")
    if kind == "png_dir" and out.exists() and any(out.iterdir()):
        raise OutputError(f"{out}: exists and is not an empty folder; choose a new folder for the PNG frames")
    return out


def check_file_output(path: str | os.PathLike[str], what: str) -> Path:
    """``check_output_path`` for a single file of any suffix (``what`` names it in messages, e.g. an
    exported model): a writable folder, not a folder or a read-only file in the way."""
    out = _checked_name(path)
    _check_folder(out)
    _check_existing_file(out, what)
    return out


def _checked_name(path: Any) -> Path:
    if not isinstance(path, (str, os.PathLike)):
        raise OutputError(f"the output must be a path (str or os.PathLike), got {type(path).__name__}")
    out = Path(path)
    if out.name.startswith(".") and out.suffix == "" and out.name.lower().lstrip(".") in _KNOWN_SUFFIXES:
        raise OutputError(f"{out}: the file name is only an extension; give it a name, e.g. out{out.name}")
    if str(path) == "-":
        raise OutputError("writing to standard output ('-') is not supported; give a file or folder name")
    if out.name.endswith("."):
        raise OutputError(f"{out}: the name ends with a dot; did you mean {out.name.rstrip('.')}?")
    if len(os.fsencode(out.name)) > MAX_NAME_BYTES:
        raise OutputError(f"{out.name[:40]}...: the file name is {len(os.fsencode(out.name))} bytes long; use at most "
                          f"{MAX_NAME_BYTES} (tbd writes it under a slightly longer temporary name first)")
    return out


def _check_folder(out: Path) -> None:
    parent = out.parent if str(out.parent) else Path(".")
    if parent.exists() and not parent.is_dir():
        raise OutputError(f"{out}: {parent} is a file, not a folder; choose a path inside a folder")
    if not parent.is_dir():
        raise OutputError(f"{out}: the folder {parent} does not exist; create it first or choose another path")
    if not os.access(parent, os.W_OK):
        raise OutputError(f"{out}: the folder {parent} is not writable")


def _check_existing_file(out: Path, what: str) -> None:
    if not out.exists():
        return
    if out.is_dir():
        raise OutputError(f"{out} is a folder; choose a file name for the {what} output")
    if not out.is_file():
        raise OutputError(f"{out} is not a regular file (a device or pipe); choose a file path")
    if not os.access(out, os.W_OK) or not (out.stat().st_mode & 0o222):
        raise OutputError(f"{out} is read-only; make it writable or choose another path (it was left as it is)")


@contextlib.contextmanager
def atomic_path(target: Path, *, directory: bool = False) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; move it into place only on success."""
    prefix = f".{target.name}.partial-"
    try:
        if directory:
            tmp = Path(tempfile.mkdtemp(prefix=prefix, dir=target.parent))
            os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp makes 0700; give the folder normal permissions
        else:
            fd, name = tempfile.mkstemp(prefix=prefix, suffix=target.suffix, dir=target.parent)
            os.close(fd)
            tmp = Path(name)
            os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the file normal permissions
    except OSError as exc:
        raise OutputError(f"{target}: cannot write in {target.parent} ({exc.strerror}); choose another folder") from exc
    try:
        yield tmp
        if directory and target.exists():
            target.rmdir()  # check_output_path allowed only an empty folder
        os.replace(tmp, target)
    except BaseException as exc:
        shutil.rmtree(tmp, ignore_errors=True) if directory else tmp.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise OutputError(f"{target}: writing failed ({exc.strerror or exc}); nothing was written there "
                              "(was the folder removed, or the disk full?)") from exc
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_video(
    path: Path, frames: np.ndarray | Iterable[np.ndarray], fps: float, audio: np.ndarray | None = None,
    audio_rate: int = 16000,
) -> int:
    """H.264 video (yuv420p) with optional AAC mono audio, through PyAV. ``frames`` is an
    array ``[T, H, W, 3]`` or an iterable of such chunks (rendered on the fly: each chunk goes
    straight to the encoder, so no more than one chunk is in memory). Returns the frame count."""
    try:
        import av
    except ImportError as exc:
        raise BackendError("writing video needs PyAV: pip install 'tbd[video]'") from exc
    chunks = [frames] if isinstance(frames, np.ndarray) else frames
    n = 0
    with atomic_path(path) as tmp, av.open(str(tmp), mode="w") as container:
        rate = Fraction(fps).limit_denominator(1001)
        video = container.add_stream("libx264", rate=rate)
        video.pix_fmt = "yuv420p"
        video.options = {"crf": "20", "preset": "veryfast"}
        sound = container.add_stream("aac", rate=audio_rate, layout="mono") if audio is not None else None
        # AAC takes floats in -1..1; anything beyond would be encoded as is and clip in players
        samples = None if audio is None else np.clip(np.asarray(audio, dtype=np.float32), -1.0, 1.0)
        sent = 0  # audio samples encoded so far (interleaved with the video, chunk by chunk)

        def send_audio(until: int) -> None:
            nonlocal sent
            block = 1024
            while sound is not None and sent < min(until, len(samples)):
                chunk = np.ascontiguousarray(samples[None, sent : min(sent + block, len(samples))])
                frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="mono")
                frame.sample_rate, frame.pts = audio_rate, sent
                container.mux(sound.encode(frame))
                sent += chunk.shape[1]

        for chunk in chunks:
            chunk = _even(np.asarray(chunk))
            if n == 0:
                video.width, video.height = chunk.shape[2], chunk.shape[1]
            for image in chunk:
                container.mux(video.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
            n += len(chunk)
            send_audio(int(n / fps * audio_rate))
        if n == 0:
            raise OutputError(f"{path}: no frames to write")
        container.mux(video.encode())
        if sound is not None:
            send_audio(len(samples))
            container.mux(sound.encode())
    return n


def write_gif(path: Path, frames: np.ndarray | Iterable[np.ndarray], fps: float) -> None:
    """Animated GIF through Pillow (palette per frame, looping)."""
    from PIL import Image

    chunks = [frames] if isinstance(frames, np.ndarray) else frames
    images = [Image.fromarray(f) for chunk in chunks for f in chunk]
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:  # our handle: closed even when a signal interrupts
        images[0].save(
            fh, format="GIF", save_all=True, append_images=images[1:], duration=1000.0 / fps, loop=0
        )


def write_png_dir(path: Path, frames: np.ndarray | Iterable[np.ndarray]) -> None:
    """One PNG per frame: ``frame_00000.png``, ... (``frames``: an array or chunks of one)."""
    from PIL import Image

    chunks = [frames] if isinstance(frames, np.ndarray) else frames
    with atomic_path(path, directory=True) as tmp:
        i = 0
        for chunk in chunks:
            for frame in chunk:
                with open(tmp / f"frame_{i:05d}.png", "wb") as fh:  # closed even when a signal interrupts
                    Image.fromarray(frame).save(fh, format="PNG")
                i += 1


def write_curves(path: Path, motion: Motion, extra: dict[str, Any] | None = None) -> None:
    """Motion channels, ARKit-52 blendshape curves and viseme curves, as JSON or CSV (by suffix)."""
    blend = motion.blendshapes()
    visemes = motion.visemes()
    with atomic_path(path) as tmp:
        if path.suffix.lower() == ".json":
            doc = {
                "fps": motion.fps,
                "channels": list(motion.channels),
                "values": np.round(motion.values, 5).tolist(),
                "blendshapes": {k: np.round(v, 5).tolist() for k, v in blend.items()},
                **({"visemes": {k: np.round(v, 5).tolist() for k, v in visemes.items()}} if visemes else {}),
                **(extra or {}),
            }
            tmp.write_text(json.dumps(doc))
        else:
            with open(tmp, "w", newline="") as fh:
                writer = csv.writer(fh)
                writer.writerow(["time", *motion.channels, *blend, *(f"viseme_{k}" for k in visemes)])
                stacked = np.column_stack([motion.values, *blend.values(), *visemes.values()])
                for i, row in enumerate(stacked):
                    writer.writerow([f"{i / motion.fps:.4f}", *(f"{v:.5f}" for v in row)])


def _even(frames: np.ndarray) -> np.ndarray:
    """Pad to even width and height (yuv420p needs them) by repeating the last row/column."""
    _, h, w, _ = frames.shape
    if h % 2 == 0 and w % 2 == 0:
        return frames
    return np.pad(frames, ((0, 0), (0, h % 2), (0, w % 2), (0, 0)), mode="edge")
