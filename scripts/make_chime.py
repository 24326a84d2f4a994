"""Write assets/chime.wav: the waiting-room display's two-tone chime ("ding-dong").

Stdlib only (wave, math, struct); the output is the same on every run, and a test checks
that the committed file is what this script writes. Run: python scripts/make_chime.py
"""

from __future__ import annotations

import io
import math
import struct
import wave
from pathlib import Path

RATE = 22050
# (frequency in Hz, start in s, length in s): E5 then C5, each decaying like a bell.
NOTES = ((659.25, 0.0, 0.9), (523.25, 0.45, 1.1))
LENGTH = 1.6  # seconds
VOLUME = 0.45


def chime_bytes() -> bytes:
    """The chime as a mono 16-bit PCM WAV file."""
    frames = []
    for i in range(int(RATE * LENGTH)):
        t = i / RATE
        value = 0.0
        for freq, start, length in NOTES:
            if start <= t < start + length:
                local = t - start
                attack = min(1.0, local / 0.01)  # no click at the start
                decay = math.exp(-3.2 * local / length)
                tone = math.sin(2 * math.pi * freq * local)
                tone += 0.3 * math.sin(2 * math.pi * 2 * freq * local)  # a bell's overtone
                value += attack * decay * tone / 1.3
        sample = max(-1.0, min(1.0, VOLUME * value))
        frames.append(struct.pack("<h", int(sample * 32767)))
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(RATE)
        wav.writeframes(b"".join(frames))
    return out.getvalue()


def main() -> None:
    target = Path(__file__).resolve().parent.parent / "assets" / "chime.wav"
    target.write_bytes(chime_bytes())
    print(f"{target.name}: {target.stat().st_size} bytes")


if __name__ == "__main__":
    main()
