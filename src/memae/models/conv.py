"""Convolutional encoders/decoders for images (2D) and video clips (3D), built from layer specs.

A spec is a list of ``(kernel, stride, out_channels)``, the paper's ``Conv2(k, s, c)`` notation.  Padding is
``k // 2``; the decoder's output paddings are computed from the encoder's sizes so that the given input size
round-trips exactly.
"""

from __future__ import annotations

from collections.abc import Sequence

from torch import nn

__all__ = ["LayerSpec", "conv_encoder", "conv_decoder", "encoder_sizes"]

Stride = int | tuple[int, ...]
LayerSpec = tuple[int, Stride, int]


def _tuple(value: Stride, dims: int) -> tuple[int, ...]:
    return tuple(value) if isinstance(value, (tuple, list)) else (int(value),) * dims


def encoder_sizes(input_size: Sequence[int], layers: Sequence[LayerSpec]) -> list[tuple[int, ...]]:
    """Spatial size after each encoder layer, starting with ``input_size``."""
    sizes = [tuple(input_size)]
    for kernel, stride, _ in layers:
        strides = _tuple(stride, len(input_size))
        pad = kernel // 2
        sizes.append(tuple((n + 2 * pad - kernel) // s + 1 for n, s in zip(sizes[-1], strides)))
    return sizes


def _block(conv: nn.Module, channels: int, dims: int, activation: str, last: bool) -> list[nn.Module]:
    if last:
        return [conv]
    norm = nn.BatchNorm2d(channels) if dims == 2 else nn.BatchNorm3d(channels)
    act = nn.LeakyReLU(0.2, inplace=True) if activation == "leaky_relu" else nn.ReLU(inplace=True)
    return [conv, norm, act]


def conv_encoder(in_channels: int, layers: Sequence[LayerSpec], dims: int, activation: str = "relu") -> nn.Sequential:
    """``Conv -> BN -> activation`` per layer; the last layer has BN + activation too (the latent is a feature map)."""
    conv_cls = nn.Conv2d if dims == 2 else nn.Conv3d
    modules: list[nn.Module] = []
    channels = in_channels
    for kernel, stride, out in layers:
        conv = conv_cls(channels, out, kernel, stride=_tuple(stride, dims), padding=kernel // 2)
        modules += _block(conv, out, dims, activation, last=False)
        channels = out
    return nn.Sequential(*modules)


def conv_decoder(
    in_channels: int,
    layers: Sequence[LayerSpec],
    sizes: Sequence[tuple[int, ...]],
    dims: int,
    activation: str = "relu",
) -> nn.Sequential:
    """Transposed convolutions that walk through ``sizes`` exactly; BN + activation on all but the last layer.

    Args:
        sizes: ``len(layers) + 1`` spatial sizes, from the latent's to the output's (the encoder's, reversed).
    """
    deconv_cls = nn.ConvTranspose2d if dims == 2 else nn.ConvTranspose3d
    modules: list[nn.Module] = []
    channels = in_channels
    for index, (kernel, stride, out) in enumerate(layers):
        strides = _tuple(stride, dims)
        pad = kernel // 2
        natural = tuple((n - 1) * s - 2 * pad + kernel for n, s in zip(sizes[index], strides))
        output_padding = tuple(t - n for t, n in zip(sizes[index + 1], natural))
        if any(not 0 <= p < max(s, 1) for p, s in zip(output_padding, strides) if p):
            raise ValueError(f"cannot reach size {sizes[index + 1]} from {sizes[index]} with kernel {kernel}, stride {strides}")
        deconv = deconv_cls(channels, out, kernel, stride=strides, padding=pad, output_padding=output_padding)
        modules += _block(deconv, out, dims, activation, last=index == len(layers) - 1)
        channels = out
    return nn.Sequential(*modules)
