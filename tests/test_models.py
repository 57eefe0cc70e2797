"""The paper's architectures round-trip their input sizes; variants switch the right parts on and off."""

import pytest
import torch

from memae import MemAE, MemoryModule, build_model, list_architectures, list_variants
from memae.errors import ConfigError, DataError, UnknownNameError
from memae.models import ARCHITECTURES


@pytest.mark.parametrize("architecture, shape, slots, weight_shape", [
    ("mnist", (2, 1, 28, 28), 100, (2, 100)),
    ("cifar10", (2, 3, 32, 32), 500, (2, 500)),
    ("kdd", (3, 120), 50, (3, 50)),
    ("digits", (2, 1, 8, 8), 50, (2, 50)),
    ("video", (1, 1, 16, 32, 32), 2000, (1, 2000, 2, 2, 2)),
])
def test_architectures_round_trip(architecture, shape, slots, weight_shape):
    overrides = {"input_size": shape[2:]} if architecture == "video" else {}
    if architecture == "video":
        overrides["width"] = 0.25  # same topology, fewer channels: keeps the test fast
    model = build_model(architecture, "memae", **overrides).eval()
    x = torch.randn(shape)
    reconstruction, weights = model(x)
    assert reconstruction.shape == x.shape
    assert weights.shape == weight_shape
    assert model.memory.num_slots == slots


def test_video_architecture_at_paper_size_has_paper_memory_layout():
    model = build_model("video", "memae")
    assert model.input_shape == (1, 16, 256, 256)
    assert (model.memory.num_slots, model.memory.dim) == (2000, 256)
    assert model.memory.shrink_threshold == 0.0025
    convs = [m for m in model.encoder if isinstance(m, torch.nn.Conv3d)]
    assert [c.out_channels for c in convs] == [96, 128, 256, 256]
    assert convs[0].stride == (1, 2, 2) and convs[1].stride == (2, 2, 2)


def test_mnist_layers_follow_the_paper():
    model = build_model("mnist", "memae")
    convs = [m for m in model.encoder if isinstance(m, torch.nn.Conv2d)]
    assert [(c.kernel_size[0], c.stride[0], c.out_channels) for c in convs] == [(1, 2, 16), (3, 2, 32), (3, 2, 64)]
    assert model.memory.shrink_threshold == pytest.approx(1 / 100)


def test_kdd_layers_follow_the_paper():
    model = build_model("kdd", "memae")
    linears = [m for m in model.encoder if isinstance(m, torch.nn.Linear)]
    assert [layer.out_features for layer in linears] == [60, 30, 10, 3]
    assert isinstance(model.encoder[-1], torch.nn.Linear)  # no tanh on the code
    assert isinstance(model.decoder[-1], torch.nn.Linear)  # nor on the output
    assert (model.memory.num_slots, model.memory.dim) == (50, 3)


@pytest.mark.parametrize("variant, memory, shrink, entropy, l1", [
    ("ae", False, None, 0.0, 0.0),
    ("ae-l1", False, None, 0.0, 0.0002),
    ("memae-nonspar", True, 0.0, 0.0, 0.0),
    ("memae-noshrink", True, 0.0, 0.0002, 0.0),
    ("memae-noentropy", True, 0.01, 0.0, 0.0),
    ("memae", True, 0.01, 0.0002, 0.0),
])
def test_variants(variant, memory, shrink, entropy, l1):
    model = build_model("mnist", variant)
    assert (model.memory is not None) == memory
    if memory:
        assert model.memory.shrink_threshold == pytest.approx(shrink)
    assert model.entropy_weight == entropy
    assert model.latent_l1_weight == l1
    _, weights = model(torch.rand(2, 1, 28, 28))
    assert (weights is None) == (not memory)


def test_config_rebuilds_the_same_model():
    model = build_model("cifar10", "memae-nonspar", num_slots=123, similarity="cosine", temperature=0.1)
    clone = build_model(**model.config)
    assert clone.memory.num_slots == 123 and clone.memory.similarity == "cosine"
    clone.load_state_dict(model.state_dict())


def test_loss_is_mse_plus_alpha_entropy():
    torch.manual_seed(0)
    model = build_model("digits", "memae").eval()
    x = torch.rand(4, 1, 8, 8)
    parts = model.loss(x)
    recon, weights = model(x)
    assert parts.reconstruction.item() == pytest.approx(((recon - x) ** 2).mean().item(), rel=1e-5)
    assert parts.total.item() == pytest.approx(parts.reconstruction.item() + 0.0002 * parts.entropy.item(), rel=1e-6)


def test_custom_encoder_decoder():
    encoder = torch.nn.Linear(6, 3)
    decoder = torch.nn.Linear(3, 6)
    model = MemAE(encoder, MemoryModule(10, 3), decoder)
    recon, weights = model(torch.randn(5, 6))
    assert recon.shape == (5, 6) and weights.shape == (5, 10)
    plain = MemAE(encoder, None, decoder)
    assert plain(torch.randn(5, 6)).weights is None


def test_decode_slots_gives_one_image_per_slot():
    model = build_model("mnist", "memae").eval()
    images = model.decode_slots([0, 5, 7], latent_shape=(64, 4, 4))
    assert images.shape == (3, 1, 28, 28)
    per_position = build_model("mnist", "memae", flatten_latent=False).eval()
    assert per_position.memory.dim == 64
    assert per_position.decode_slots([1], latent_shape=(64, 4, 4)).shape == (1, 1, 28, 28)
    flat = build_model("digits", "memae").eval()
    assert flat.decode_slots([1, 2], latent_shape=(32, 2, 2)).shape == (2, 1, 8, 8)


def test_wrong_input_shape_and_channels_are_clear_errors():
    model = build_model("mnist", "memae")
    with pytest.raises(DataError, match="expects 1 channel"):
        model(torch.rand(2, 3, 28, 28))
    with pytest.raises(DataError, match=r"expected \(B, 1, 28, 28\)"):
        model(torch.rand(2, 1, 32, 32))
    with pytest.raises(DataError, match="expected"):
        build_model("kdd")(torch.rand(2, 119))


def test_unknown_names_and_options():
    with pytest.raises(UnknownNameError, match="mnist"):
        build_model("resnet")
    with pytest.raises(UnknownNameError, match="memae-nonspar"):
        build_model("mnist", "memae-big")
    with pytest.raises(ConfigError, match="num_slots"):
        build_model("mnist", num_slotz=3)
    with pytest.raises(ConfigError, match="num_slots"):
        build_model("mnist", num_slots=0)
    with pytest.raises(ConfigError, match=r"\[0, 1\)"):
        build_model("mnist", shrink_threshold=1.5)
    with pytest.raises(ConfigError, match="in_features"):
        build_model("mlp")


def test_registry_lists():
    assert set(list_architectures()) >= {"mnist", "cifar10", "video", "kdd"}
    assert list_variants() == ["ae", "ae-l1", "memae-nonspar", "memae-noshrink", "memae-noentropy", "memae"]
    assert all(arch.description for arch in ARCHITECTURES.values())
