"""The original's training augmentation, on whole batches of uint8 images on the training device.

The reference (``blox-reference.md`` section 6) applies, per image and in this order:
RandAugment(num_ops=2, magnitude=14, 31 bins) -> RandomHorizontalFlip(0.5) ->
RandomCrop(32, padding=4) -> ToTensor -> Normalize(CIFAR-100 mean, std) -> Cutout(1 hole of
16 px, p = 1).  :func:`train_batch` does the same for a batch ``(N, 3, H, W)`` of uint8 with
no per-image Python loop; every random draw comes from the ``generator`` passed in, so a
seed fixes the result.

RandAugment as torchvision defines it: each image draws 2 of 14 ops independently (with
replacement), and a signed op gets a random sign per image.  Magnitude 14 of 31 bins
(0..30) maps to the fraction ``14 / 30`` of each op's range:

==========================  =========================================================
op                          value at magnitude 14
==========================  =========================================================
Identity, AutoContrast,     no magnitude
Equalize
ShearX, ShearY              shear factor +-0.14 (torchvision's 0.3 range), about the
                            top-left corner, as torchvision does
TranslateX, TranslateY      +-6 px (``int(14/30 * 150/331 * 32)``)
Rotate                      +-14 degrees about the centre
Brightness, Color,          blend factor 1 +- 0.42 (torchvision's 0.9 range): with black,
Contrast, Sharpness         the grey image, the mean grey level, the 3x3 smoothed image
Posterize                   6 bits (``int(8 - 14/7.5)``)
Solarize                    invert values >= 136/255 (``255 * (1 - 14/30)``)
==========================  =========================================================

Geometric ops sample nearest pixels and fill with 0, as torchvision's defaults.  The ops run
in float on 0..1 without rounding to 8 bits between them (torchvision rounds on uint8
tensors), a difference of at most 1/255 per op.  Kornia provides the affine warp, equalize,
posterize, solarize and sharpness.
"""

from __future__ import annotations

import math

import torch
from kornia import enhance
from kornia.geometry.transform import warp_affine
from torch import Tensor

CIFAR100_MEAN = (0.5071, 0.4867, 0.4408)
CIFAR100_STD = (0.2675, 0.2565, 0.2761)
NUM_OPS, MAGNITUDE, BINS = 2, 14, 31
PAD, CUTOUT = 4, 16
_FRACTION = MAGNITUDE / (BINS - 1)
_GREY = (0.299, 0.587, 0.114)


def _grey(x: Tensor) -> Tensor:
    weights = torch.tensor(_GREY, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
    return (x * weights).sum(1, keepdim=True)


def _blend(x: Tensor, other: Tensor, factor: Tensor) -> Tensor:
    return (other + (x - other) * factor.view(-1, 1, 1, 1)).clamp(0, 1)


def _affine(x: Tensor, matrix: Tensor) -> Tensor:
    return warp_affine(x, matrix, x.shape[-2:], mode="nearest", padding_mode="zeros",
                       align_corners=True)


def _matrix(sign: Tensor, a: float = 0, b: float = 0, c: float = 0, d: float = 0,
            tx: float = 0, ty: float = 0) -> Tensor:
    """Per-image ``[[1 + a, b, tx], [c, 1 + d, ty]]`` with every offset times its sign."""
    base = torch.tensor([[1.0, 0, 0], [0, 1, 0]], device=sign.device)
    offset = torch.tensor([[a, b, tx], [c, d, ty]], device=sign.device)
    return base + sign.view(-1, 1, 1) * offset


def _shear_x(x: Tensor, sign: Tensor) -> Tensor:
    return _affine(x, _matrix(sign, b=0.3 * _FRACTION))


def _shear_y(x: Tensor, sign: Tensor) -> Tensor:
    return _affine(x, _matrix(sign, c=0.3 * _FRACTION))


def _translate_x(x: Tensor, sign: Tensor) -> Tensor:
    return _affine(x, _matrix(sign, tx=int(_FRACTION * 150 / 331 * x.shape[-1])))


def _translate_y(x: Tensor, sign: Tensor) -> Tensor:
    return _affine(x, _matrix(sign, ty=int(_FRACTION * 150 / 331 * x.shape[-2])))


def _rotate(x: Tensor, sign: Tensor) -> Tensor:
    angle = sign * math.radians(30 * _FRACTION)
    cos, sin = torch.cos(angle), torch.sin(angle)
    cy, cx = (x.shape[-2] - 1) / 2, (x.shape[-1] - 1) / 2
    matrix = torch.stack([torch.stack([cos, -sin, cx - cos * cx + sin * cy], 1),
                          torch.stack([sin, cos, cy - sin * cx - cos * cy], 1)], 1)
    return _affine(x, matrix)


def _brightness(x: Tensor, sign: Tensor) -> Tensor:
    return _blend(x, torch.zeros_like(x), 1 + 0.9 * _FRACTION * sign)


def _color(x: Tensor, sign: Tensor) -> Tensor:
    return _blend(x, _grey(x).expand_as(x), 1 + 0.9 * _FRACTION * sign)


def _contrast(x: Tensor, sign: Tensor) -> Tensor:
    mean = _grey(x).mean(dim=(1, 2, 3), keepdim=True)
    return _blend(x, mean.expand_as(x), 1 + 0.9 * _FRACTION * sign)


def _sharpness(x: Tensor, sign: Tensor) -> Tensor:
    return enhance.sharpness(x, 1 + 0.9 * _FRACTION * sign)


def _posterize(x: Tensor, sign: Tensor) -> Tensor:
    return enhance.posterize(x, int(8 - MAGNITUDE / ((BINS - 1) / 4)))


def _solarize(x: Tensor, sign: Tensor) -> Tensor:
    threshold = 255 * (1 - _FRACTION) / 255
    return torch.where(x >= threshold, 1 - x, x)


def _autocontrast(x: Tensor, sign: Tensor) -> Tensor:
    low = x.amin(dim=(2, 3), keepdim=True)
    high = x.amax(dim=(2, 3), keepdim=True)
    flat = high <= low
    scale = torch.where(flat, torch.ones_like(high), 1 / (high - low).clamp_min(1e-12))
    return torch.where(flat, x, ((x - low) * scale).clamp(0, 1))


def _equalize(x: Tensor, sign: Tensor) -> Tensor:
    return enhance.equalize(x)


def _identity(x: Tensor, sign: Tensor) -> Tensor:
    return x


OPS = {"Identity": _identity, "ShearX": _shear_x, "ShearY": _shear_y,
       "TranslateX": _translate_x, "TranslateY": _translate_y, "Rotate": _rotate,
       "Brightness": _brightness, "Color": _color, "Contrast": _contrast,
       "Sharpness": _sharpness, "Posterize": _posterize, "Solarize": _solarize,
       "AutoContrast": _autocontrast, "Equalize": _equalize}
_OP_LIST = list(OPS.values())


def rand_augment(x: Tensor, generator: torch.Generator) -> Tensor:
    """RandAugment(2 ops, magnitude 14) of float images ``(N, 3, H, W)`` in 0..1.

    Images are grouped by the op they drew, so each op runs once per group (one host sync
    per op slot for the group sizes)."""
    n = x.shape[0]
    for _ in range(NUM_OPS):
        choice = torch.randint(len(_OP_LIST), (n,), generator=generator, device=x.device)
        sign = torch.randint(2, (n,), generator=generator, device=x.device).to(x.dtype) * 2 - 1
        order = torch.argsort(choice, stable=True)
        counts = torch.bincount(choice, minlength=len(_OP_LIST)).tolist()
        parts, start = [], 0
        for op, count in zip(_OP_LIST, counts):
            if count:
                rows = order[start:start + count]
                parts.append(op(x[rows], sign[rows]))
            start += count
        out = torch.empty_like(x)
        out[order] = torch.cat(parts)
        x = out
    return x


def flip_crop(x: Tensor, generator: torch.Generator, pad: int = PAD) -> Tensor:
    """Horizontal flip with probability 0.5, then a random crop of the original size from
    the image zero-padded by ``pad`` pixels on every side."""
    n, _, h, w = x.shape
    flip = torch.rand(n, generator=generator, device=x.device) < 0.5
    x = torch.where(flip.view(-1, 1, 1, 1), x.flip(-1), x)
    padded = torch.nn.functional.pad(x, (pad, pad, pad, pad))
    dy = torch.randint(2 * pad + 1, (n,), generator=generator, device=x.device)
    dx = torch.randint(2 * pad + 1, (n,), generator=generator, device=x.device)
    rows = (dy.view(-1, 1) + torch.arange(h, device=x.device)).view(n, 1, h, 1)
    cols = (dx.view(-1, 1) + torch.arange(w, device=x.device)).view(n, 1, 1, w)
    batch = torch.arange(n, device=x.device).view(n, 1, 1, 1)
    channel = torch.arange(x.shape[1], device=x.device).view(1, -1, 1, 1)
    return padded[batch, channel, rows, cols]


def cutout(x: Tensor, generator: torch.Generator, size: int = CUTOUT) -> Tensor:
    """Zero one ``size`` x ``size`` square per image, centred on a uniform pixel and clipped
    at the borders (DeVries and Taylor's Cutout, applied after normalisation)."""
    n, _, h, w = x.shape
    cy = torch.randint(h, (n, 1), generator=generator, device=x.device)
    cx = torch.randint(w, (n, 1), generator=generator, device=x.device)
    ys, xs = torch.arange(h, device=x.device), torch.arange(w, device=x.device)
    inside_y = (ys >= cy - size // 2) & (ys < cy + size // 2)
    inside_x = (xs >= cx - size // 2) & (xs < cx + size // 2)
    hole = inside_y.view(n, 1, h, 1) & inside_x.view(n, 1, 1, w)
    return x.masked_fill(hole, 0.0)


def normalize(x: Tensor, mean=CIFAR100_MEAN, std=CIFAR100_STD) -> Tensor:
    """``(x - mean) / std`` per channel of float images in 0..1."""
    m = torch.tensor(mean, dtype=x.dtype, device=x.device).view(1, -1, 1, 1)
    s = torch.tensor(std, dtype=x.dtype, device=x.device).view(1, -1, 1, 1)
    return (x - m) / s


def to_float(images: Tensor) -> Tensor:
    """uint8 ``(N, 3, H, W)`` -> float32 in 0..1 (ToTensor)."""
    if images.dtype != torch.uint8:
        raise TypeError(f"expected uint8 images, got {images.dtype}")
    return images.float().div_(255)


def train_batch(images: Tensor, generator: torch.Generator) -> Tensor:
    """The full training augmentation of a uint8 batch: float32, normalised, on its device."""
    x = rand_augment(to_float(images), generator)
    x = flip_crop(x, generator)
    return cutout(normalize(x), generator)


def eval_batch(images: Tensor) -> Tensor:
    """Evaluation transform: ToTensor and Normalize."""
    return normalize(to_float(images))
