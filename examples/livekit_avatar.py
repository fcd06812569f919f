"""A tbd avatar worker for LiveKit Agents: joins the room, takes the agent's speech over a data
stream and publishes the talking portrait (video) and the speech (audio) in sync, on the CPU.

    pip install "tbd[livekit]"
    python examples/livekit_avatar.py --url wss://... --token <avatar participant token> [--image face.png]

On the agent side, send the session's audio to this participant:

    from livekit.agents.voice.avatar import DataStreamAudioOutput
    session.output.audio = DataStreamAudioOutput(ctx.room, destination_identity="tbd-avatar",
                                                 sample_rate=24000)

and, per reply, its emotion as text on the topic "tbd.emotion" (a tag in the reply works too:
``tbd.integrations.split_emotion("[warm] Hi!")`` gives ``("warm", "Hi!")``):

    await ctx.room.local_participant.send_text("warm and amused", topic="tbd.emotion",
                                               destination_identities=["tbd-avatar"])
"""

from __future__ import annotations

import argparse
import asyncio
import os

import tbd
from tbd import assets
from livekit import rtc
from livekit.agents.voice.avatar import AvatarOptions, AvatarRunner, DataStreamAudioReceiver
from tbd.integrations.livekit import TbdVideoGenerator

EMOTION_TOPIC = "tbd.emotion"


async def run(url: str, token: str, image: str | None, size: int, emotion: str, generator: str | None) -> None:
    talker = tbd.Talker(generator, progress=False, threads=1)
    avatar = talker.prepare(image or str(assets.portrait_path()), size=size)
    height, width = avatar.image.shape[:2]  # the rendered frames' size
    video_gen = TbdVideoGenerator(talker, avatar, emotion=emotion, video_fps=talker.fps, audio_sample_rate=24000)

    room = rtc.Room()
    await room.connect(url, token)

    def on_emotion(reader: rtc.TextStreamReader, sender: str) -> None:
        async def read() -> None:
            video_gen.set_emotion(await reader.read_all())

        asyncio.ensure_future(read())

    room.register_text_stream_handler(EMOTION_TOPIC, on_emotion)
    runner = AvatarRunner(
        room,
        audio_recv=DataStreamAudioReceiver(room),
        video_gen=video_gen,
        options=AvatarOptions(video_width=width, video_height=height, video_fps=talker.fps,
                              audio_sample_rate=24000, audio_channels=1),
    )
    await runner.start()
    try:
        await runner.wait_for_complete()
    finally:
        await runner.aclose()
        await video_gen.aclose()
        await room.disconnect()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--url", default=os.environ.get("LIVEKIT_URL"), help="LiveKit server (or $LIVEKIT_URL)")
    p.add_argument("--token", default=os.environ.get("LIVEKIT_TOKEN"), help="access token (or $LIVEKIT_TOKEN)")
    p.add_argument("--image", default=None, help="portrait (default: the bundled one)")
    p.add_argument("--size", type=int, default=256)
    p.add_argument("--emotion", default="friendly")
    p.add_argument("--generator", default=None, help="'rig' for the lightest CPU load (default: bundled diffusion)")
    args = p.parse_args()
    if not args.url or not args.token:
        p.error("--url and --token (or LIVEKIT_URL and LIVEKIT_TOKEN) are required")
    asyncio.run(run(args.url, args.token, args.image, args.size, args.emotion, args.generator))


if __name__ == "__main__":
    main()
