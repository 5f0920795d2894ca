"""Deterministic synthetic test audio (no downloads): sums of sines, a chirp, an envelope and seeded noise,
quantised to 16-bit PCM so the WAV file written next to the fixtures is exactly the model input."""
import wave

import numpy as np


def synth(seconds: float, rate: int = 16000, seed: int = 0, f0: float = 220.0) -> np.ndarray:
    """int16 mono samples: harmonics of f0, a linear chirp 300 -> 3000 Hz, a 3 Hz tremolo, a short silence
    in the middle and low seeded noise."""
    n = int(round(seconds * rate))
    t = np.arange(n, dtype=np.float64) / rate
    x = 0.30 * np.sin(2 * np.pi * f0 * t) + 0.15 * np.sin(2 * np.pi * 2 * f0 * t + 0.5) \
        + 0.08 * np.sin(2 * np.pi * 3 * f0 * t + 1.0)
    f_start, f_end = 300.0, 3000.0
    x += 0.20 * np.sin(2 * np.pi * (f_start * t + (f_end - f_start) * t * t / (2 * seconds)))
    x *= 0.6 + 0.4 * np.sin(2 * np.pi * 3.0 * t)
    gap = (t > seconds * 0.45) & (t < seconds * 0.55)
    x[gap] *= 0.02
    x += 0.01 * np.random.default_rng(seed).standard_normal(n)
    return np.clip(np.rint(x * 32767.0), -32768, 32767).astype(np.int16)


def to_float(pcm: np.ndarray) -> np.ndarray:
    """int16 -> float32 in [-1, 1) (divide by 32768, as soundfile/librosa do)."""
    return (pcm.astype(np.float32) / np.float32(32768.0)).astype(np.float32)


def save_wav(pcm: np.ndarray, path, rate: int = 16000) -> None:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.astype("<i2").tobytes())
    with wave.open(str(path), "rb") as w:
        back = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    if not np.array_equal(back, pcm):
        raise RuntimeError("WAV round trip changed the audio")
