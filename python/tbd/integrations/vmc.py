"""VMC protocol over OSC (``pip install "tbd[vmc]"``): live faces into VSeeFace, VNyan, Warudo,
VMagicMirror, Virtual Motion Capture, EVMC4U (Unity) and VMC4UE (Unreal).

    sender = VMCSender("127.0.0.1", 39539, vrm=0)
    for frame in session.push(chunk):
        sender.send(frame)

Per frame one OSC bundle: ``/VMC/Ext/OK``, ``/VMC/Ext/T``, ``/VMC/Ext/Root/Pos``, the head
(``/VMC/Ext/Bone/Pos "Head"``: position and unit quaternion from the pose channels) and the
eyes (``"LeftEye"``, ``"RightEye"`` from gaze), ``/VMC/Ext/Blend/Val`` for each ARKit-52 shape
(perfect-sync names) and, with ``vrm=0`` or ``vrm=1``, the VRM presets, then
``/VMC/Ext/Blend/Apply``. Rotations are in Unity's frame (left-handed, y up, the avatar
facing +z); positions are local to the parent bone.
"""

from __future__ import annotations

import math
import queue
import threading
import time
from dataclasses import dataclass
from typing import Iterable, Mapping

import numpy as np

from ..live.session import LiveFrame
from ..motion import channels as ch
from ..motion.arkit import ARKIT_BLENDSHAPES
from . import VMC_HOST as DEFAULT_HOST
from . import VMC_PORT as DEFAULT_PORT
from . import parse_address, require

VRM0_PRESETS: tuple[str, ...] = ("A", "I", "U", "E", "O", "Blink", "Joy", "Angry", "Sorrow", "Fun")
VRM1_PRESETS: tuple[str, ...] = ("aa", "ih", "ou", "ee", "oh", "blink", "happy", "angry", "sad", "relaxed",
                                 "surprised")
_VRM1_TO_0 = {"aa": "A", "ih": "I", "ou": "U", "ee": "E", "oh": "O", "blink": "Blink", "happy": "Joy",
              "angry": "Angry", "sad": "Sorrow", "relaxed": "Fun"}


@dataclass(frozen=True)
class VMCConfig:
    """How a frame becomes VMC messages."""

    head_position: tuple[float, float, float] = (0.0, 0.08, 0.0)
    """Head bone position in metres, local to the neck (receivers that sync bone positions use it)."""
    eye_positions: tuple[tuple[float, float, float], tuple[float, float, float]] = (
        (-0.03, 0.06, 0.05), (0.03, 0.06, 0.05))
    """LeftEye, RightEye positions local to the head."""
    eye_yaw_deg: float = 20.0
    """Eye yaw at |gaze_x| = 1."""
    eye_pitch_deg: float = 15.0
    """Eye pitch at |gaze_y| = 1."""
    pace: bool = False
    """Send each frame at its due time (its pts after the first frame, plus ``jitter_s``) from a
    sender thread, instead of at once: smooths the bursts of a block generator."""
    jitter_s: float = 0.12
    """With ``pace``: how far behind the first frame's arrival the schedule runs."""


def quaternion(pitch: float, yaw: float, roll: float) -> tuple[float, float, float, float]:
    """Unit quaternion (x, y, z, w) in Unity's frame for tbd's head pose (radians).

    tbd pitch > 0 is chin down (Unity +x), yaw > 0 turns the nose to the subject's left
    (Unity -y), roll > 0 is clockwise as the viewer sees it (Unity -z); Unity's Euler order
    (z, then x, then y)."""
    x, y, z = pitch, -yaw, -roll
    qx = (math.sin(x / 2), 0.0, 0.0, math.cos(x / 2))
    qy = (0.0, math.sin(y / 2), 0.0, math.cos(y / 2))
    qz = (0.0, 0.0, math.sin(z / 2), math.cos(z / 2))
    q = _qmul(_qmul(qy, qx), qz)
    n = math.sqrt(sum(c * c for c in q))
    return (q[0] / n, q[1] / n, q[2] / n, q[3] / n)


def _qmul(a: tuple[float, ...], b: tuple[float, ...]) -> tuple[float, float, float, float]:
    ax, ay, az, aw = a
    bx, by, bz, bw = b
    return (aw * bx + ax * bw + ay * bz - az * by,
            aw * by - ax * bz + ay * bw + az * bx,
            aw * bz + ax * by - ay * bx + az * bw,
            aw * bw - ax * bx - ay * by - az * bz)


VRM_VOWELS = {"aa": ("aa",), "ih": ("ih", "SS"), "ou": ("ou", "RR"), "ee": ("E",), "oh": ("oh", "CH")}
"""VRM vowel presets from OVR visemes (a frame's ``visemes``)."""


def vrm_presets(blendshapes: Mapping[str, float], version: int = 1,
                visemes: Mapping[str, float] | None = None) -> dict[str, float]:
    """VRM expression presets (0..1) from ARKit blendshapes: blink, the emotions from smile,
    brow, frown and eye shapes (approximate), and the vowels from the frame's OVR ``visemes``
    (scaled by how far the mouth is open) or, without them, from the jaw and lip shapes."""
    b = blendshapes

    def avg(name: str) -> float:
        return 0.5 * (b.get(name + "Left", 0.0) + b.get(name + "Right", 0.0))

    jaw = b.get("jawOpen", 0.0)
    opened = min(1.0, jaw + 0.5 * avg("mouthLowerDown"))
    rounded = max(b.get("mouthPucker", 0.0), b.get("mouthFunnel", 0.0))
    spread = min(1.0, max(avg("mouthStretch"), 0.6 * avg("mouthSmile")))
    smile, squint = avg("mouthSmile"), avg("cheekSquint")
    out = {
        "aa": opened * (1 - rounded) * (1 - 0.5 * spread),
        "ih": spread * (1 - rounded) * (1 - opened),
        "ou": rounded * (1 - opened),
        "ee": spread * opened * (1 - rounded),
        "oh": rounded * opened,
        "blink": avg("eyeBlink"),
        "happy": min(1.0, 0.7 * smile + 0.3 * squint),
        "angry": min(1.0, 0.6 * avg("browDown") + 0.4 * avg("noseSneer")),
        "sad": min(1.0, 0.5 * avg("mouthFrown") + 0.5 * b.get("browInnerUp", 0.0)),
        "relaxed": smile * (1 - squint),
        "surprised": min(1.0, 0.5 * avg("eyeWide") + 0.3 * avg("browOuterUp") + 0.2 * jaw),
    }
    if visemes:
        moving = min(1.0, 3.0 * (jaw + rounded + avg("mouthLowerDown")))
        for preset, names in VRM_VOWELS.items():
            out[preset] = moving * sum(float(visemes.get(n, 0.0)) for n in names)
    out = {k: float(np.clip(v, 0.0, 1.0)) for k, v in out.items()}
    if version == 1:
        return out
    if version == 0:
        return {_VRM1_TO_0[k]: v for k, v in out.items() if k in _VRM1_TO_0}
    raise ValueError(f"VRM version must be 0 or 1, got {version}")


class VMCSender:
    """Sends live frames to a VMC receiver as OSC bundles over UDP (see the module docstring)."""

    def __init__(self, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, *, vrm: int | None = None,
                 config: VMCConfig | None = None) -> None:
        if vrm not in (None, 0, 1):
            raise ValueError(f"vrm must be None, 0 or 1, got {vrm!r}")
        self._osc = require("pythonosc.udp_client", "vmc")
        self._bundles = require("pythonosc.osc_bundle_builder", "vmc")
        self._messages = require("pythonosc.osc_message_builder", "vmc")
        self.host, self.port, self.vrm = host, int(port), vrm
        self.config = config or VMCConfig()
        self._client = self._osc.SimpleUDPClient(host, self.port)
        self._t0 = time.perf_counter()
        self.sent = 0
        self._pts0: float | None = None
        self._wall0 = 0.0
        self._queue: queue.Queue = queue.Queue()
        self._thread: threading.Thread | None = None
        if self.config.pace:
            self._thread = threading.Thread(target=self._paced, name="tbd-vmc", daemon=True)
            self._thread.start()

    # --- sending ----------------------------------------------------------------------
    def send(self, frame: LiveFrame) -> None:
        """Send one frame (queued for its due time when pacing)."""
        if self._thread is not None:
            self._queue.put(frame)
        else:
            self._client.send(self.bundle(frame))
            self.sent += 1

    def send_frames(self, frames: Iterable[LiveFrame]) -> None:
        """Send several frames (a ``drive(..., on_frames=sender.send_frames)`` hook)."""
        for frame in frames:
            self.send(frame)

    def close(self, *, drain: bool = True) -> None:
        """Stop: with pacing, send the queued frames first (``drain``) or drop them."""
        if self._thread is not None:
            if not drain:
                while not self._queue.empty():
                    self._queue.get_nowait()
            self._queue.put(None)
            self._thread.join()
            self._thread = None
        self._client.close()

    def __enter__(self) -> "VMCSender":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- building ---------------------------------------------------------------------
    def messages(self, frame: LiveFrame) -> list[tuple[str, list]]:
        """(address, arguments) of one frame's bundle, in order."""
        v = frame.values
        cfg = self.config
        pitch, yaw, roll = (float(v[ch.index(n)]) for n in ("pitch", "yaw", "roll"))
        gx, gy = float(v[ch.index("gaze_x")]), float(v[ch.index("gaze_y")])
        eye = quaternion(math.radians(cfg.eye_pitch_deg) * gy, math.radians(cfg.eye_yaw_deg) * gx, 0.0)
        out: list[tuple[str, list]] = [
            ("/VMC/Ext/OK", [1]),
            ("/VMC/Ext/T", [float(time.perf_counter() - self._t0)]),
            ("/VMC/Ext/Root/Pos", ["root", 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0]),
            ("/VMC/Ext/Bone/Pos", ["Head", *map(float, cfg.head_position), *quaternion(pitch, yaw, roll)]),
            ("/VMC/Ext/Bone/Pos", ["LeftEye", *map(float, cfg.eye_positions[0]), *eye]),
            ("/VMC/Ext/Bone/Pos", ["RightEye", *map(float, cfg.eye_positions[1]), *eye]),
        ]
        shapes = frame.blendshapes
        out += [("/VMC/Ext/Blend/Val", [name, float(np.clip(shapes.get(name, 0.0), 0.0, 1.0))])
                for name in ARKIT_BLENDSHAPES]
        if self.vrm is not None:
            out += [("/VMC/Ext/Blend/Val", [k, val]) for k, val in vrm_presets(shapes, self.vrm, frame.visemes).items()]
        out.append(("/VMC/Ext/Blend/Apply", []))
        return out

    def bundle(self, frame: LiveFrame):
        """The OSC bundle of one frame."""
        builder = self._bundles.OscBundleBuilder(self._bundles.IMMEDIATELY)
        for address, args in self.messages(frame):
            msg = self._messages.OscMessageBuilder(address=address)
            for a in args:
                msg.add_arg(a)
            builder.add_content(msg.build())
        return builder.build()

    def _paced(self) -> None:
        while True:
            frame = self._queue.get()
            if frame is None:
                return
            now = time.perf_counter()
            if self._pts0 is None or self._wall0 + (frame.pts - self._pts0) < now - self.config.jitter_s:
                # the first frame, or far behind its schedule (the producer paused): start over
                self._pts0, self._wall0 = frame.pts, now + self.config.jitter_s
            wait = self._wall0 + (frame.pts - self._pts0) - now
            if wait > 0:
                time.sleep(wait)
            self._client.send(self.bundle(frame))
            self.sent += 1


__all__ = ["VMCSender", "VMCConfig", "VRM0_PRESETS", "VRM1_PRESETS", "vrm_presets", "quaternion",
           "parse_address", "DEFAULT_HOST", "DEFAULT_PORT"]
