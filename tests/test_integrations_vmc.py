"""VMC over OSC (tbd.integrations.vmc, ``tbd live --vmc``) into a real python-osc UDP server."""

from __future__ import annotations

import socket
import sys
import threading
import time

import numpy as np
import pytest
import soundfile as sf

import tbd
from tbd import assets, audio
from tbd.errors import BackendError
from tbd.integrations import split_emotion
from tbd.motion.arkit import ARKIT_BLENDSHAPES

from pythonosc import osc_bundle, osc_server  # tbd[vmc], installed by the test extra: no skip
from pythonosc.dispatcher import Dispatcher

from tbd import cli
from tbd.integrations.vmc import VRM0_PRESETS, VRM1_PRESETS, VMCSender, parse_address, quaternion

CLIP_S = 2.5
VALID = set(ARKIT_BLENDSHAPES) | set(VRM0_PRESETS) | set(VRM1_PRESETS)


class Recorder(Dispatcher):
    """Decodes every datagram as an OSC bundle and keeps (arrival time, [(address, args)])."""

    def __init__(self) -> None:
        super().__init__()
        self.bundles: list[tuple[float, list[tuple[str, list]]]] = []
        self.errors: list[str] = []

    def call_handlers_for_packet(self, data, client_address):
        now = time.perf_counter()
        if not osc_bundle.OscBundle.dgram_is_bundle(data):
            self.errors.append("not a bundle")
            return []
        msgs = [(m.address, list(m.params)) for m in osc_bundle.OscBundle(data)]
        self.bundles.append((now, msgs))
        return []


@pytest.fixture
def server():
    rec = Recorder()
    # One thread decoding datagrams as they come (a thread per datagram fell behind on a loaded machine) and the
    # largest receive buffer the kernel allows: an unpaced burst of a clip's bundles (~3 KB each) overflowed the
    # default one while the test's CPU was busy, and loopback UDP drops what does not fit.
    srv = osc_server.BlockingOSCUDPServer(("127.0.0.1", 0), rec)
    srv.socket.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv.server_address[1], rec
    srv.shutdown()
    srv.server_close()


@pytest.fixture(scope="module")
def clip():
    return audio.load(assets.speech_path()).samples[: int(CLIP_S * 16000)]


def wait_for(rec: Recorder, n: int, timeout: float = 3.0) -> None:
    end = time.perf_counter() + timeout
    while len(rec.bundles) < n and time.perf_counter() < end:
        time.sleep(0.01)


def shapes(bundle: list[tuple[str, list]]) -> dict[str, float]:
    return {a[0]: a[1] for addr, a in bundle if addr == "/VMC/Ext/Blend/Val"}


def check_bundle(msgs: list[tuple[str, list]]) -> None:
    addrs = [a for a, _ in msgs]
    assert addrs[0] == "/VMC/Ext/OK" and "/VMC/Ext/T" in addrs and addrs[-1] == "/VMC/Ext/Blend/Apply"
    vals = shapes(msgs)
    assert set(ARKIT_BLENDSHAPES) <= set(vals) and set(vals) <= VALID
    assert all(isinstance(v, float) and 0.0 <= v <= 1.0 for v in vals.values())
    bones = {a[0]: a[1:] for addr, a in msgs if addr == "/VMC/Ext/Bone/Pos"}
    assert {"Head", "LeftEye", "RightEye"} <= set(bones)
    for pos_rot in bones.values():
        assert len(pos_rot) == 7 and abs(np.linalg.norm(pos_rot[3:]) - 1.0) < 1e-4


def test_cli_realtime_vmc_into_an_osc_server(server, clip, tmp_path, capsys):
    port, rec = server
    wav = tmp_path / "clip.wav"
    sf.write(wav, clip, 16000)
    code = cli.main(["live", str(wav), "-e", "a big warm smile", "--no-render", "--generator", "rig",
                         "--realtime", "--vmc", f"127.0.0.1:{port}", "--vrm", "1"])
    assert code == 0
    n_expected = audio.load((clip, 16000)).n_frames(25)
    wait_for(rec, n_expected)
    assert not rec.errors
    assert abs(len(rec.bundles) - CLIP_S * 25) <= 3 and len(rec.bundles) == n_expected
    times = np.array([t for t, _ in rec.bundles])
    span, gap = times[-1] - times[0], np.median(np.diff(times))
    # paced: spread over the audio's duration (a stall of the shared CPU can only stretch it) ...
    assert CLIP_S - 0.3 < span < CLIP_S + 1.0, span
    assert gap == pytest.approx(0.04, abs=0.008), gap  # ... at 25 bundles a second
    assert 20 <= (len(times) - 1) / span <= 28
    for _, msgs in rec.bundles:
        check_bundle(msgs)
    assert set(VRM1_PRESETS) <= set(shapes(rec.bundles[0][1]))
    jaw = np.array([shapes(m)["jawOpen"] for _, m in rec.bundles])
    assert jaw.std() > 0.05 and jaw.max() > 0.2  # the jaw moves with the speech
    assert "sent" in capsys.readouterr().out


def test_a_requested_smile_shows_in_the_smile_shapes(server, clip):
    port, rec = server
    talker = tbd.Talker("rig", progress=False)
    smile = {}
    for emotion in ("", "a big warm smile"):
        rec.bundles.clear()
        session = talker.stream(None, emotion=emotion, sample_rate=16000)
        with VMCSender("127.0.0.1", port, vrm=0) as sender:
            for i in range(0, len(clip), 320):
                sender.send_frames(session.push(clip[i : i + 320]))
            sender.send_frames(session.flush())
        wait_for(rec, sender.sent)
        assert len(rec.bundles) == sender.sent
        for _, msgs in rec.bundles:
            check_bundle(msgs)
        vals = [shapes(m) for _, m in rec.bundles]
        assert set(VRM0_PRESETS) <= set(vals[0])
        smile[emotion] = (np.mean([v["mouthSmileLeft"] + v["mouthSmileRight"] for v in vals]) / 2,
                          np.mean([v["Joy"] for v in vals]))
    assert smile["a big warm smile"][0] > smile[""][0] + 0.2
    assert smile["a big warm smile"][1] > smile[""][1] + 0.1


def test_head_quaternion_and_addresses():
    for pose in [(0, 0, 0), (0.3, -0.5, 0.2), (-1.0, 2.0, 3.0)]:
        assert np.linalg.norm(quaternion(*pose)) == pytest.approx(1.0)
    assert quaternion(0, 0, 0) == pytest.approx((0, 0, 0, 1))
    assert quaternion(0.2, 0, 0)[0] > 0  # chin down is +x in Unity
    assert parse_address("10.0.0.2:39540") == ("10.0.0.2", 39540)
    assert parse_address(":39541") == ("127.0.0.1", 39541)
    assert parse_address("localhost") == ("localhost", 39539)
    for bad in ("h:0", "h:port", "h:70000"):
        with pytest.raises(ValueError, match="HOST:PORT"):
            parse_address(bad)
    with pytest.raises(SystemExit) as exit_:
        cli.main(["live", "x.wav", "--vmc", "h:70000"])
    assert exit_.value.code == 2


def test_missing_python_osc_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "pythonosc.udp_client", None)
    with pytest.raises(BackendError, match=r'pip install "tbd\[vmc\]"'):
        VMCSender()


def test_emotion_tags_in_replies():
    assert split_emotion("[emotion: warm and amused] Sure, happy to help!") == ("warm and amused",
                                                                               "Sure, happy to help!")
    assert split_emotion("<emotion>sad</emotion> I'm sorry.") == ("sad", "I'm sorry.")
    assert split_emotion("Nothing here.") == (None, "Nothing here.")


def test_vrm_vowels_follow_the_frame_visemes():
    from tbd.integrations.vmc import vrm_presets

    shapes = {"jawOpen": 0.3, "mouthPucker": 0.4}
    ou = vrm_presets(shapes, 1, {"ou": 0.9, "sil": 0.1})
    assert ou["ou"] > 0.8 and ou["aa"] < 0.05 and ou["ee"] < 0.05
    assert vrm_presets(shapes, 0, {"aa": 1.0})["A"] > 0.8
    assert vrm_presets({}, 1, {"aa": 1.0})["aa"] == 0.0  # a closed mouth says no vowel
