"""Convolutional encoders/decoders for images (2D) and video clips (3D), built from layer specs.

A spec is a list of ``(kernel, stride, out_channels)``, the paper's ``Conv2(k, s, c)`` notation.  Encoder padding is
``"same"`` (``k // 2``) or ``"valid"`` (none, the paper's text for its image networks: no padding is stated).  The
decoder's paddings and output paddings are computed from the encoder's sizes so that the input size round-trips
exactly.
"""

from __future__ import annotations

from collections.abc import Sequence

from torch import nn

__all__ = ["LayerSpec", "ACTIVATIONS", "PADDINGS", "conv_encoder", "conv_decoder", "encoder_sizes"]

Stride = int | tuple[int, ...]
LayerSpec = tuple[int, Stride, int]
ACTIVATIONS = {"relu": lambda: nn.ReLU(inplace=True), "leaky_relu": lambda: nn.LeakyReLU(0.2, inplace=True),
               "tanh": nn.Tanh}
PADDINGS = ("same", "valid")


def _pad(kernel: int, padding: str) -> int:
    if padding not in PADDINGS:
        raise ValueError(f"padding must be one of {', '.join(PADDINGS)}, got {padding!r}")
    return kernel // 2 if padding == "same" else 0


def _tuple(value: Stride, dims: int) -> tuple[int, ...]:
    return tuple(value) if isinstance(value, (tuple, list)) else (int(value),) * dims


def encoder_sizes(input_size: Sequence[int], layers: Sequence[LayerSpec], padding: str = "same") -> list[tuple[int, ...]]:
    """Spatial size after each encoder layer, starting with ``input_size``."""
    sizes = [tuple(input_size)]
    for kernel, stride, _ in layers:
        strides = _tuple(stride, len(input_size))
        pad = _pad(kernel, padding)
        sizes.append(tuple((n + 2 * pad - kernel) // s + 1 for n, s in zip(sizes[-1], strides)))
    return sizes


def _block(conv: nn.Module, channels: int, dims: int, activation: str, last: bool) -> list[nn.Module]:
    if last:
        return [conv]
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {', '.join(ACTIVATIONS)}, got {activation!r}")
    norm = nn.BatchNorm2d(channels) if dims == 2 else nn.BatchNorm3d(channels)
    return [conv, norm, ACTIVATIONS[activation]()]


def conv_encoder(
    in_channels: int, layers: Sequence[LayerSpec], dims: int, activation: str = "relu", padding: str = "same"
) -> nn.Sequential:
    """``Conv -> BN -> activation`` per layer; the last layer has BN + activation too (the latent is a feature map)."""
    conv_cls = nn.Conv2d if dims == 2 else nn.Conv3d
    modules: list[nn.Module] = []
    channels = in_channels
    for kernel, stride, out in layers:
        conv = conv_cls(channels, out, kernel, stride=_tuple(stride, dims), padding=_pad(kernel, padding))
        modules += _block(conv, out, dims, activation, last=False)
        channels = out
    return nn.Sequential(*modules)


def conv_decoder(
    in_channels: int,
    layers: Sequence[LayerSpec],
    sizes: Sequence[tuple[int, ...]],
    dims: int,
    activation: str = "relu",
    padding: str = "same",
) -> nn.Sequential:
    """Transposed convolutions that walk through ``sizes`` exactly; BN + activation on all but the last layer.

    ``padding="same"``: every layer pads ``k // 2``, the mirror of the encoder.  ``"valid"``: each layer takes the
    smallest padding (from 0) that does not overshoot its target size; output paddings then reach it exactly.

    Args:
        sizes: ``len(layers) + 1`` spatial sizes, from the latent's to the output's (the encoder's, reversed).
    """
    deconv_cls = nn.ConvTranspose2d if dims == 2 else nn.ConvTranspose3d
    modules: list[nn.Module] = []
    channels = in_channels
    for index, (kernel, stride, out) in enumerate(layers):
        strides = _tuple(stride, dims)
        unpadded = [(n - 1) * s + kernel for n, s in zip(sizes[index], strides)]
        if padding == "same":
            pad = (kernel // 2,) * dims
        else:
            pad = tuple(max(0, -(-(u - t) // 2)) for u, t in zip(unpadded, sizes[index + 1]))  # ceil((u - t) / 2)
        natural = tuple(u - 2 * p for u, p in zip(unpadded, pad))
        output_padding = tuple(t - n for t, n in zip(sizes[index + 1], natural))
        if any(not 0 <= p < max(s, 1) for p, s in zip(output_padding, strides) if p):
            raise ValueError(f"cannot reach size {sizes[index + 1]} from {sizes[index]} with kernel {kernel}, stride {strides}")
        deconv = deconv_cls(channels, out, kernel, stride=strides, padding=pad, output_padding=output_padding)
        modules += _block(deconv, out, dims, activation, last=index == len(layers) - 1)
        channels = out
    return nn.Sequential(*modules)
