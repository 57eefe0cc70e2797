"""The paper's architectures and model variants, by name.

>>> import torch
>>> model = build_model("mnist", variant="memae")
>>> recon, weights = model(torch.zeros(2, 1, 28, 28))
>>> recon.shape, weights.shape
(torch.Size([2, 1, 28, 28]), torch.Size([2, 100]))
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

from torch import nn

from ..config import ModelOptions, ModelSection
from ..errors import ConfigError, UnknownNameError
from ..memory import DEFAULT_SHRINK_THRESHOLD, MemoryModule, resolve_shrink_threshold
from .conv import ACTIVATIONS, PADDINGS, LayerSpec, conv_decoder, conv_encoder, encoder_sizes
from .memae import DEFAULT_ENTROPY_WEIGHT, MemAE
from .mlp import ACTIVATIONS as MLP_ACTIVATIONS, mlp

__all__ = ["Architecture", "ARCHITECTURES", "OUTPUT_ACTIVATIONS", "VARIANTS", "OVERRIDES", "build_model", "option_defaults",
           "check_model_section", "list_architectures", "list_variants"]


@dataclass(frozen=True)
class Architecture:
    """One network of the paper (or of memae), with its memory size and defaults.

    Images: the paper's Figure 4 decodes single memory slots of an MNIST model into whole digits, so a slot holds the
    code of a whole image: ``flatten_latent=True`` (one query per image).  Video: every voxel of the 3D feature map
    is a query (the authors' code).  ``flatten_latent=False`` gives the per-position memory for images too.
    """

    kind: str  # "conv2d", "conv3d" or "mlp"
    num_slots: int
    shrink_threshold: float | str
    description: str
    in_channels: int = 1
    input_size: tuple[int, ...] = ()
    encoder: tuple[LayerSpec, ...] = ()
    decoder: tuple[LayerSpec, ...] = ()
    in_features: int | None = None  # mlp: input width (None: must be given)
    hidden: tuple[int, ...] = ()  # mlp: widths of the encoder layers after the input, the code last
    activation: str = "relu"
    padding: str = "same"  # conv encoders: "same" (k // 2) or "valid" (none)
    flatten_latent: bool = False
    dcgan_init: bool = False  # conv N(0, 0.02), BN gamma N(1, 0.02): the authors' video code
    extra: dict[str, Any] = field(default_factory=dict)


ARCHITECTURES: dict[str, Architecture] = {
    # The paper's text lists the image layers without padding, so they are "valid": 28 -> 14 -> 6 -> 2, a
    # 64x2x2 = 256-number code for a 784-pixel image.  (With k // 2 padding the code would be 64x4x4 = 1024 numbers,
    # more than the image, and a plain AE learns to copy any digit.)
    "mnist": Architecture(
        kind="conv2d", num_slots=100, shrink_threshold="1/N", in_channels=1, input_size=(28, 28),
        encoder=((1, 2, 16), (3, 2, 32), (3, 2, 64)), decoder=((3, 2, 64), (3, 2, 32), (3, 2, 1)), flatten_latent=True,
        padding="valid",
        description="paper 4.1: Conv2(1,2,16)-Conv2(3,2,32)-Conv2(3,2,64), Dconv2(3,2,64)-(3,2,32)-(3,2,1), no padding; "
        "N=100 slots over the whole 64x2x2 = 256-d code",
    ),
    # 32 -> 15 -> 7 -> 3 -> 1 without padding: a 256x1x1 = 256-d code for a 3072-number image.
    "cifar10": Architecture(
        kind="conv2d", num_slots=500, shrink_threshold="1/N", in_channels=3, input_size=(32, 32),
        encoder=((3, 2, 64), (3, 2, 128), (3, 2, 128), (3, 2, 256)),
        decoder=((3, 2, 256), (3, 2, 128), (3, 2, 128), (3, 2, 3)), flatten_latent=True, padding="valid",
        description="paper 4.1: Conv2 64-128-128-256, Dconv2 256-128-128-3 (k3 s2), no padding; "
        "N=500 slots over the whole 256x1x1 = 256-d code",
    ),
    "video": Architecture(
        kind="conv3d", num_slots=2000, shrink_threshold=DEFAULT_SHRINK_THRESHOLD, in_channels=1, input_size=(16, 256, 256),
        encoder=((3, (1, 2, 2), 96), (3, 2, 128), (3, 2, 256), (3, 2, 256)),
        decoder=((3, 2, 256), (3, 2, 128), (3, 2, 96), (3, (1, 2, 2), 1)),
        activation="leaky_relu", dcgan_init=True,
        description="paper 4.2: Conv3 96-128-256-256 (first stride (1,2,2)), mirrored Dconv3; 16x256x256 grey; N=2000, C=256",
    ),
    "kdd": Architecture(
        kind="mlp", num_slots=50, shrink_threshold="1/N", in_features=120, hidden=(60, 30, 10, 3), activation="tanh",
        description="paper 4.3: FC 120-60-30-10-3 and mirror, tanh except last; N=50 over C=3",
    ),
    "digits": Architecture(
        kind="conv2d", num_slots=50, shrink_threshold="1/N", in_channels=1, input_size=(8, 8),
        encoder=((3, 2, 16), (3, 2, 32)), decoder=((3, 2, 16), (3, 2, 1)), flatten_latent=True,
        description="memae demo: scikit-learn's 8x8 digits, Conv2(3,2,16)-Conv2(3,2,32), mirror; N=50 over the flattened code",
    ),
    "mlp": Architecture(
        kind="mlp", num_slots=50, shrink_threshold="1/N", hidden=(), activation="tanh",
        description="generic tables: FC widths halving from the input width down to a small code (set hidden=...)",
    ),
}

#: The decoder's last layer: linear (the authors' video code) or squashed into the input's range.
OUTPUT_ACTIVATIONS = {"none": None, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh}

# variant -> (use memory, shrinkage on, entropy on, latent l1 on)
VARIANTS: dict[str, tuple[bool, bool, bool, bool]] = {
    "ae": (False, False, False, False),
    "ae-l1": (False, False, False, True),
    "memae-nonspar": (True, False, False, False),
    "memae-noshrink": (True, False, True, False),
    "memae-noentropy": (True, True, False, False),
    "memae": (True, True, True, False),
}

# The options build_model accepts: the fields of the config's typed model options, so each is named once.
OVERRIDES = tuple(f.name for f in dataclasses.fields(ModelOptions))
DEFAULT_LATENT_L1_WEIGHT = DEFAULT_ENTROPY_WEIGHT  # the paper gives no value for AE-l1; we reuse alpha's


def list_architectures() -> list[str]:
    return sorted(ARCHITECTURES)


def list_variants() -> list[str]:
    return list(VARIANTS)


def option_defaults(architecture: str) -> dict[str, Any]:
    """What :func:`build_model` uses for the memory, loss and width options a config leaves at None (the
    temperature's default depends on the similarity: :data:`memae.memory.DEFAULT_TEMPERATURE`)."""
    arch = ARCHITECTURES[architecture]
    return {"num_slots": arch.num_slots, "shrink_threshold": arch.shrink_threshold, "similarity": "dot",
            "entropy_weight": DEFAULT_ENTROPY_WEIGHT, "latent_l1_weight": DEFAULT_LATENT_L1_WEIGHT, "width": 1.0}


def check_model_section(model: ModelSection) -> None:
    """Check a config's model names and option values without building it, so that a typo fails when the config
    loads, before any data is read: the architecture and variant (this registry's names) and the shrinkage
    threshold (which depends on the architecture's memory size).  Option types and the option names that are the
    same for every architecture (activation, padding, similarity, output_activation) were checked by the config;
    sizes that depend on the data are checked when the model is built."""
    if model.architecture not in ARCHITECTURES:
        raise UnknownNameError(f"unknown architecture {model.architecture!r}: model.architecture must be one of "
                               f"{', '.join(list_architectures())}")
    if model.variant not in VARIANTS:
        raise UnknownNameError(f"unknown variant {model.variant!r}: model.variant must be one of {', '.join(VARIANTS)}")
    options = model.options
    arch = ARCHITECTURES[model.architecture]
    if options.shrink_threshold is not None:
        num_slots = options.num_slots or arch.num_slots
        try:
            resolve_shrink_threshold(options.shrink_threshold, num_slots)
        except ConfigError as exc:
            raise ConfigError(f"model.options.{exc}") from None


def auto_hidden(in_features: int) -> tuple[int, ...]:
    """Widths halving from ``in_features`` down to a code of about ``in_features / 16`` (at least 2)."""
    widths = [in_features]
    while widths[-1] > 2 and len(widths) < 5:
        widths.append(max(2, math.ceil(widths[-1] / 2)))
    return tuple(widths) if len(widths) > 1 else (in_features, 2)


def build_model(architecture: str, variant: str = "memae", **overrides: Any) -> MemAE:
    """Build a paper architecture in one of the paper's variants.

    Args:
        architecture: one of :func:`list_architectures` (``mnist``, ``cifar10``, ``video``, ``kdd``, ``digits``, ``mlp``).
        variant: ``ae``, ``ae-l1``, ``memae-nonspar`` (no shrinkage, no entropy loss), ``memae-noshrink``,
            ``memae-noentropy`` or ``memae``.
        **overrides: ``num_slots``, ``shrink_threshold`` (float or ``"k/N"``), ``similarity``, ``temperature``,
            ``entropy_weight``, ``latent_l1_weight``, ``flatten_latent``, ``in_channels``, ``input_size``,
            ``width`` (multiplies hidden channel counts), ``in_features`` and ``hidden`` (mlp widths), ``batch_norm`` and ``dropout`` (mlp: PyOD's
            ``AutoEncoder`` layer), ``activation``,
            ``padding`` (conv: ``"same"`` or ``"valid"``), ``first_kernel`` (conv: the first encoder layer's kernel),
            ``output_activation`` (``"none"``, ``"sigmoid"`` or ``"tanh"`` after the decoder) and ``code_dim`` (conv: a fully connected bottleneck of this
            many numbers after the conv trunk; the memory, if any, reads it as one query per sample).

    Returns:
        a :class:`MemAE` whose ``config`` attribute rebuilds it: ``build_model(**model.config)``.
    """
    if architecture not in ARCHITECTURES:
        raise UnknownNameError(f"unknown architecture {architecture!r}; choose one of {', '.join(list_architectures())}")
    if variant not in VARIANTS:
        raise UnknownNameError(f"unknown variant {variant!r}; choose one of {', '.join(VARIANTS)}")
    unknown = sorted(set(overrides) - set(OVERRIDES))
    if unknown:
        raise ConfigError(f"unknown model option(s) {', '.join(unknown)}; valid options are {', '.join(OVERRIDES)}")
    arch = ARCHITECTURES[architecture]
    use_memory, shrink, entropy, latent_l1 = VARIANTS[variant]
    options = {k: v for k, v in overrides.items() if v is not None}
    settings = {**option_defaults(architecture), **options}

    if arch.kind == "mlp":
        if options.get("first_kernel") is not None:
            raise ConfigError("first_kernel applies to conv networks only; the mlp architecture has no kernels")
        encoder, decoder, code_dim, input_shape = _build_mlp(arch, options)
        flatten = False
    else:
        for name in ("batch_norm", "dropout"):
            if options.get(name):
                raise ConfigError(f"{name} applies to mlp networks only; the conv networks have BatchNorm in every "
                                  f"layer and no dropout")
        encoder, decoder, code_dim, input_shape, latent_size = _build_conv(arch, settings)
        flatten = bool(options.get("flatten_latent", arch.flatten_latent)) and options.get("code_dim") is None
        if flatten:
            code_dim *= math.prod(latent_size)

    output_activation = options.get("output_activation", "none")
    if output_activation not in OUTPUT_ACTIVATIONS:
        raise ConfigError(f"output_activation must be one of {', '.join(OUTPUT_ACTIVATIONS)}, got {output_activation!r}")
    if OUTPUT_ACTIVATIONS[output_activation] is not None:
        decoder = nn.Sequential(decoder, OUTPUT_ACTIVATIONS[output_activation]())

    memory = None
    if use_memory:
        memory = MemoryModule(
            int(settings["num_slots"]),
            code_dim,
            shrink_threshold=settings["shrink_threshold"] if shrink else 0.0,
            similarity=settings["similarity"],
            temperature=float(options["temperature"]) if "temperature" in options else None,
        )
    model = MemAE(
        encoder,
        memory,
        decoder,
        entropy_weight=float(settings["entropy_weight"]) if entropy else 0.0,
        latent_l1_weight=float(settings["latent_l1_weight"]) if latent_l1 else 0.0,
        flatten_latent=flatten,
        input_shape=input_shape,
    )
    if arch.dcgan_init:
        model.apply(_dcgan_init)
    model.config = {"architecture": architecture, "variant": variant, **options}
    return model


def _build_conv(arch: Architecture, options: dict[str, Any]):
    """Encoder, decoder, code width, input shape and the trunk's latent spatial size."""
    dims = 2 if arch.kind == "conv2d" else 3
    padding = str(options.get("padding", arch.padding))
    if padding not in PADDINGS:
        raise ConfigError(f"padding must be one of {', '.join(PADDINGS)}, got {padding!r}")
    activation = str(options.get("activation", arch.activation))
    if activation not in ACTIVATIONS:
        raise ConfigError(f"activation {activation!r} is not available for {arch.kind} networks; "
                          f"choose one of {', '.join(ACTIVATIONS)}")
    in_channels = int(options.get("in_channels", arch.in_channels))
    input_size = tuple(int(s) for s in options.get("input_size", arch.input_size))
    if len(input_size) != dims:
        raise ConfigError(f"input_size for {arch.kind} must have {dims} entries, got {list(input_size)}")
    width = float(options["width"])
    if width <= 0:
        raise ConfigError(f"width must be > 0, got {width}")
    scale = lambda c: max(1, round(c * width))  # noqa: E731
    enc_layers = [(k, s, scale(c)) for k, s, c in arch.encoder]
    first_kernel = options.get("first_kernel")
    if first_kernel is not None:
        if isinstance(first_kernel, bool) or not isinstance(first_kernel, int) or first_kernel < 1:
            raise ConfigError(f"first_kernel must be a positive integer, got {first_kernel!r}")
        enc_layers[0] = (first_kernel, *enc_layers[0][1:])
    dec_layers = [(k, s, scale(c)) for k, s, c in arch.decoder[:-1]] + [arch.decoder[-1][:2] + (in_channels,)]
    sizes = encoder_sizes(input_size, enc_layers, padding)
    if any(n < 1 for size in sizes for n in size):
        raise ConfigError(f"input_size {list(input_size)} is too small for the {len(enc_layers)} stride-2 layers")
    encoder = conv_encoder(in_channels, enc_layers, dims, activation, padding)
    try:
        decoder = conv_decoder(enc_layers[-1][2], dec_layers, sizes[::-1], dims, activation, padding)
    except ValueError as exc:
        raise ConfigError(f"input_size {list(input_size)} does not round-trip through this network: {exc}") from None
    channels = enc_layers[-1][2]
    code_dim = options.get("code_dim")
    if code_dim is None:
        return encoder, decoder, channels, (in_channels, *input_size), sizes[-1]
    if isinstance(code_dim, bool) or not isinstance(code_dim, int) or code_dim < 1:
        raise ConfigError(f"code_dim must be a positive integer (or absent), got {code_dim!r}")
    # A linear code after the trunk; the decoder first maps it back to the trunk's feature map (BN + activation,
    # like every hidden layer).  AE, VAE, DSEBM and every MemAE variant share this bottleneck.
    trunk = channels * math.prod(sizes[-1])
    encoder = nn.Sequential(encoder, nn.Flatten(), nn.Linear(trunk, code_dim))
    decoder = nn.Sequential(nn.Linear(code_dim, trunk), nn.BatchNorm1d(trunk), ACTIVATIONS[activation](),
                            nn.Unflatten(1, (channels, *sizes[-1])), decoder)
    return encoder, decoder, code_dim, (in_channels, *input_size), ()


def _build_mlp(arch: Architecture, options: dict[str, Any]):
    in_features = options.get("in_features", arch.in_features)
    if in_features is None:
        raise ConfigError("the mlp architecture needs in_features=<number of input columns>")
    in_features = int(in_features)
    hidden = options.get("hidden") or arch.hidden or auto_hidden(in_features)[1:]
    widths = [in_features] + [int(h) for h in hidden]
    if any(w <= 0 for w in widths):
        raise ConfigError(f"mlp widths must be positive, got in_features={in_features}, hidden={list(hidden)}")
    activation = options.get("activation", arch.activation)
    if activation not in MLP_ACTIVATIONS:
        raise ConfigError(f"activation {activation!r} is not available for mlp networks; choose one of {', '.join(MLP_ACTIVATIONS)}")
    layer = {"batch_norm": bool(options.get("batch_norm") or False), "dropout": float(options.get("dropout") or 0.0)}
    encoder = mlp(widths, activation, **layer)
    decoder = mlp(widths[::-1], activation, **layer)  # the mirror (built second: the initial weights keep their order)
    return encoder, decoder, widths[-1], (in_features,)


def _dcgan_init(module: nn.Module) -> None:
    if isinstance(module, (nn.Conv3d, nn.ConvTranspose3d, nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.normal_(module.weight, 0.0, 0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, (nn.BatchNorm2d, nn.BatchNorm3d)):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)

