"""Deterministic synthetic test images (no downloads): smooth gradients plus sharp edges and a texture, so that
resize filters, crops and channel order all change the result."""
import numpy as np
from PIL import Image


def pattern(height: int, width: int, variant: int = 0) -> np.ndarray:
    """uint8 HxWx3 RGB: R = horizontal ramp, G = vertical ramp, B = sine texture; a bright disc and a dark bar
    make edges; `variant` shifts phase and geometry so different images differ everywhere."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    r = 255.0 * x / max(width - 1, 1)
    g = 255.0 * (1.0 - y / max(height - 1, 1))
    b = 127.5 + 127.5 * np.sin(2 * np.pi * (x / 7.0 + y / 11.0) + variant)
    cy, cx, rad = height * (0.35 + 0.1 * variant), width * (0.6 - 0.1 * variant), min(height, width) / 5.0
    disc = (y - cy) ** 2 + (x - cx) ** 2 < rad ** 2
    img = np.stack([r, g, b], axis=-1)
    img[disc] = (250.0, 240.0, 30.0 + 40.0 * variant)
    bar = (np.abs(x - width * (0.25 + 0.05 * variant)) < max(width // 16, 1)) & (y > height * 0.5)
    img[bar] = (10.0, 20.0, 60.0)
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def save_png(arr: np.ndarray, path) -> Image.Image:
    """Writes a PNG (no metadata, fixed compression: byte-identical) and returns the image read back from it."""
    Image.fromarray(arr, mode="RGB").save(path, format="PNG", optimize=False, compress_level=9)
    with Image.open(path) as im:
        out = im.convert("RGB")
    if not np.array_equal(np.asarray(out), arr):
        raise RuntimeError("PNG round trip changed the image")
    return out
