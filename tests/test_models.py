"""The paper's architectures round-trip their input sizes; variants switch the right parts on and off."""

import numpy as np
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
    images = model.decode_slots([0, 5, 7], latent_shape=(64, 2, 2))
    assert images.shape == (3, 1, 28, 28)
    per_position = build_model("mnist", "memae", flatten_latent=False).eval()
    assert per_position.memory.dim == 64
    assert per_position.decode_slots([1], latent_shape=(64, 2, 2)).shape == (1, 1, 28, 28)
    coded = build_model("mnist", "memae", code_dim=16).eval()
    assert coded.decode_slots([1, 2], latent_shape=(16,)).shape == (2, 1, 28, 28)
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


# ------------------------------------------------------------------------ padding, code_dim, activations (issue 10)
@pytest.mark.parametrize(
    "architecture, options, code_numbers",
    [
        ("mnist", {}, 64 * 2 * 2),  # the paper's text: no padding, 28 -> 14 -> 6 -> 2
        ("mnist", {"padding": "same"}, 64 * 4 * 4),  # k // 2 padding: more numbers than the 784 pixels
        ("cifar10", {}, 256),  # 32 -> 15 -> 7 -> 3 -> 1
        ("mnist", {"code_dim": 32}, 32),
        ("cifar10", {"code_dim": 64}, 64),
    ],
)
def test_image_code_size_follows_padding_and_code_dim(architecture, options, code_numbers):
    for variant in ("ae", "memae"):
        model = build_model(architecture, variant, **options).eval()
        x = torch.rand(2, *model.input_shape)
        assert model.encode(x)[0].numel() == code_numbers
        assert model(x).reconstruction.shape == x.shape
    assert build_model(architecture, "memae", **options).memory.dim == code_numbers  # one query per image


def test_code_dim_is_shared_by_ae_and_memae_and_the_deep_baselines():
    from memae.baselines import make_baseline

    ae, memae = build_model("mnist", "ae", code_dim=8), build_model("mnist", "memae", code_dim=8)
    assert [p.shape for p in ae.encoder.parameters()] == [p.shape for p in memae.encoder.parameters()]
    assert [p.shape for p in ae.decoder.parameters()] == [p.shape for p in memae.decoder.parameters()]
    images = np.random.default_rng(0).random((16, 1, 28, 28), dtype=np.float32)
    vae = make_baseline("vae", epochs=1, architecture="mnist", model_options={"code_dim": 8}).fit(images)
    assert vae.module_.encoder[-1].out_features == 8  # the same linear code layer as the autoencoders
    trunk = {"code_dim": 8, "first_kernel": 3, "output_activation": "sigmoid", "padding": "same"}
    vae = make_baseline("vae", epochs=1, architecture="mnist", model_options=trunk).fit(images)
    first = next(m for m in vae.module_.encoder.modules() if isinstance(m, torch.nn.Conv2d))
    assert first.kernel_size == (3, 3) and first.padding == (1, 1)
    assert isinstance(list(vae.module_.decoder.modules())[-1], torch.nn.Sigmoid)


def test_bad_padding_code_dim_and_activation_are_config_errors():
    with pytest.raises(ConfigError, match="padding must be one of same, valid"):
        build_model("mnist", padding="full")
    for bad in (0, 2.5, "32", True):
        with pytest.raises(ConfigError, match="code_dim must be a positive integer"):
            build_model("mnist", code_dim=bad)
    for architecture in ("mnist", "video", "digits", "kdd"):
        with pytest.raises(ConfigError, match="activation 'tanhh' is not available"):
            build_model(architecture, activation="tanhh")


def test_first_kernel_sets_the_first_encoder_layer_only():
    paper, k3 = build_model("mnist", "ae"), build_model("mnist", "ae", first_kernel=3)
    convs = lambda m: [c for c in m.encoder.modules() if isinstance(c, torch.nn.Conv2d)]  # noqa: E731
    assert convs(paper)[0].kernel_size == (1, 1) and convs(k3)[0].kernel_size == (3, 3)
    assert [c.kernel_size for c in convs(paper)[1:]] == [c.kernel_size for c in convs(k3)[1:]]
    x = torch.rand(2, 1, 28, 28)
    assert k3.eval()(x).reconstruction.shape == x.shape
    # a 1x1 kernel at stride 2 reads the even rows and columns only: the odd ones cannot change the code
    odd = x.clone()
    odd[:, :, 1::2, :] = 0.0
    assert torch.allclose(paper.eval().encode(x)[0], paper.encode(odd)[0])
    assert not torch.allclose(k3.encode(x)[0], k3.encode(odd)[0])
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ConfigError, match="first_kernel must be a positive integer"):
            build_model("mnist", first_kernel=bad)
    with pytest.raises(ConfigError, match="conv networks only"):
        build_model("mlp", "ae", in_features=5, first_kernel=3)


@pytest.mark.parametrize("activation, low, high", [("sigmoid", 0.0, 1.0), ("tanh", -1.0, 1.0)])
def test_output_activation_bounds_the_reconstruction(activation, low, high):
    model = build_model("mnist", "memae", output_activation=activation).eval()
    out = model(torch.randn(4, 1, 28, 28) * 50).reconstruction
    assert out.min() >= low and out.max() <= high
    linear = build_model("mnist", "ae", output_activation="none").eval()  # (a memory would bound it by its slots)
    last = [m for m in linear.decoder.modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.ConvTranspose2d))][-1]
    with torch.no_grad():
        last.bias.fill_(5.0)  # outside [0, 1] and [-1, 1] whatever the random weights: only an activation bounds it
    assert (linear(torch.randn(4, 1, 28, 28)).reconstruction > 1).any()  # no bound without one
    with pytest.raises(ConfigError, match="output_activation must be one of"):
        build_model("mnist", output_activation="relu6")


def test_mlp_batch_norm_and_dropout_make_pyods_autoencoder_layer():
    plain = build_model("mlp", "ae", in_features=12, hidden=[8, 4])
    pyod_like = build_model("mlp", "ae", in_features=12, hidden=[8, 4], activation="relu", batch_norm=True, dropout=0.2)
    kinds = lambda seq: [type(m).__name__ for m in seq]  # noqa: E731
    assert kinds(plain.encoder) == ["Linear", "Tanh", "Linear"]  # the paper's table network: unchanged by default
    assert kinds(pyod_like.encoder) == ["Linear", "BatchNorm1d", "ReLU", "Dropout", "Linear"]  # the code stays linear
    assert kinds(pyod_like.decoder) == ["Linear", "BatchNorm1d", "ReLU", "Dropout", "Linear"]
    x = torch.randn(16, 12)
    pyod_like.eval()
    assert torch.equal(pyod_like(x).reconstruction, pyod_like(x).reconstruction)  # no dropout in eval mode
    pyod_like.train()
    assert not torch.equal(pyod_like(x).reconstruction, pyod_like(x).reconstruction)
    rebuilt = build_model(**pyod_like.config)
    assert kinds(rebuilt.encoder) == kinds(pyod_like.encoder)
    for bad in (-0.1, 1.0):
        with pytest.raises(ValueError, match="dropout must be in"):
            build_model("mlp", "ae", in_features=12, dropout=bad)
    with pytest.raises(ConfigError, match="mlp networks only"):
        build_model("mnist", "ae", batch_norm=True)
    from memae.config import config_from_dict

    with pytest.raises(ConfigError, match=r"model.options.dropout must be in \[0, 1\)"):
        config_from_dict({"model": {"architecture": "mlp", "options": {"dropout": 1.5}}})
