"""The memory module's math against hand-computed values, its gradients, shapes and diagnostics."""

import math

import numpy as np
import pytest
import torch

import memae
from memae import MemoryModule, entropy_loss
from memae.errors import ConfigError, DataError
from memae.functional import address_memory, addressing_stats, hard_shrink_relu, memory_similarity, safe_eps


def softmax(values):
    exps = [math.exp(v) for v in values]
    return [e / sum(exps) for e in exps]


def make_memory(rows, **kwargs):
    module = MemoryModule(len(rows), len(rows[0]), **kwargs)
    with torch.no_grad():
        module.memory.copy_(torch.tensor(rows, dtype=torch.float32))
    return module


def test_dot_similarity_matches_hand_computation():
    module = make_memory([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]], shrink_threshold=0.0)
    z = torch.tensor([[2.0, 1.0]])
    z_hat, weights = module(z)
    expected = softmax([2.0, 1.0, -2.0])  # z . m_i
    assert weights[0].tolist() == pytest.approx(expected, abs=1e-6)
    # z_hat = w M
    assert z_hat[0].tolist() == pytest.approx([expected[0] - expected[2], expected[1]], abs=1e-6)


def test_cosine_similarity_uses_normalised_vectors_and_temperature():
    module = make_memory([[1.0, 0.0], [0.0, 3.0], [-1.0, 0.0]], shrink_threshold=0.0, similarity="cosine",
                         temperature=0.5)
    z = torch.tensor([[5.0, 0.0]])
    _, weights = module(z)
    assert weights[0].tolist() == pytest.approx(softmax([2.0, 0.0, -2.0]), abs=1e-6)  # cos / 0.5


def test_hard_shrinkage_and_l1_renormalisation():
    w = torch.tensor([[0.5, 0.3, 0.2]])
    shrunk = hard_shrink_relu(w, 0.25)
    # relu(w - l) * w / (|w - l| + eps): 0.5 and 0.3 survive (unchanged up to eps), 0.2 <= 0.25 becomes 0
    assert shrunk[0].tolist() == pytest.approx([0.5, 0.3, 0.0], abs=1e-6)
    # full addressing: logits chosen so the softmax gives exactly [0.5, 0.3, 0.2]
    logits = torch.log(w)
    memory = torch.eye(3)
    out, weights = address_memory(logits, memory, shrink_threshold=0.25)  # dot with identity = logits
    assert weights[0].tolist() == pytest.approx([0.625, 0.375, 0.0], abs=1e-6)
    assert out[0].tolist() == pytest.approx([0.625, 0.375, 0.0], abs=1e-6)


def test_entropy_loss_hand_values_and_collapse():
    w = torch.tensor([[0.5, 0.5, 0.0], [1.0, 0.0, 0.0]])
    assert entropy_loss(w).item() == pytest.approx((math.log(2) + 0.0) / 2, abs=1e-6)
    zeros = torch.zeros(4, 10, requires_grad=True)  # every weight shrunk away: must stay finite
    value = entropy_loss(zeros)
    value.backward()
    assert value.item() == 0.0 and torch.isfinite(zeros.grad).all()


def test_entropy_over_feature_maps_averages_queries():
    w = torch.zeros(2, 4, 3, 3)
    w[:, 0] = 1.0  # one-hot everywhere: entropy 0
    w[0, :, 0, 0] = 0.25  # one uniform query: entropy log 4
    assert entropy_loss(w).item() == pytest.approx(math.log(4) / 18, abs=1e-6)


def test_threshold_as_multiple_of_one_over_n():
    assert MemoryModule(200, 8, shrink_threshold="2/N").shrink_threshold == pytest.approx(0.01)
    assert MemoryModule(200, 8, shrink_threshold="1/N").shrink_threshold == pytest.approx(0.005)
    assert MemoryModule(200, 8, shrink_threshold=0.0025).shrink_threshold == 0.0025


@pytest.mark.parametrize("shape", [(5, 16), (3, 16, 7), (2, 16, 4, 5), (2, 16, 2, 3, 4)])
def test_shapes_for_vectors_and_1d_2d_3d_maps(shape):
    module = MemoryModule(30, 16, shrink_threshold="1/N")
    z = torch.randn(shape)
    z_hat, weights = module(z)
    assert z_hat.shape == z.shape
    assert weights.shape == (shape[0], 30, *shape[2:])
    sums = weights.sum(dim=1)
    assert torch.all(((sums - 1).abs() < 1e-5) | (sums == 0))


def test_feature_map_positions_are_independent_queries():
    module = MemoryModule(20, 8, shrink_threshold="1/N")
    z = torch.randn(2, 8, 3, 4)
    z_hat, weights = module(z)
    single_hat, single_w = module(z[1, :, 2, 3].unsqueeze(0))
    assert torch.allclose(z_hat[1, :, 2, 3], single_hat[0], atol=1e-6)
    assert torch.allclose(weights[1, :, 2, 3], single_w[0], atol=1e-6)


def test_memory_init_uniform_in_bound():
    module = MemoryModule(500, 64)
    bound = 1 / math.sqrt(64)
    assert module.memory.abs().max().item() <= bound
    assert module.memory.abs().max().item() > 0.9 * bound  # really spread over the interval


def test_half_precision_eps_does_not_produce_nan():
    assert safe_eps(torch.float16) > 0 and torch.tensor(safe_eps(torch.float16), dtype=torch.float16).item() > 0
    w = torch.tensor([[0.25, 0.25, 0.5]], dtype=torch.float16)
    shrunk = hard_shrink_relu(w, 0.25)  # w == lambda exactly: 0 / (0 + eps) must be 0, not NaN
    assert torch.isfinite(shrunk).all()
    assert shrunk[0, 0].item() == 0.0 and shrunk[0, 2].item() == pytest.approx(0.5, abs=2e-3)


def test_unaddressed_slots_get_no_gradient_because_of_the_renormalisation():
    """Unaddressed slots get zero gradient through the read-out w_hat M.  Through the logits, the softmax normaliser
    would give them -w_j * (sum_k w_k g_k) * z (g = dL/dw); but after shrinkage the L1 re-normalisation makes w_hat
    homogeneous of degree 0 in the surviving weights, so sum_k w_k g_k = 0 and that term cancels too, up to eps.
    Without the re-normalisation the normaliser term is really there: both facts are checked."""
    torch.manual_seed(0)
    module = MemoryModule(6, 4, shrink_threshold=0.12).double()
    z = torch.randn(1, 4, dtype=torch.float64) * 3
    target = torch.randn(1, 4, dtype=torch.float64)
    z_hat, weights = module(z)
    ((z_hat - target) ** 2).sum().backward()
    grad = module.memory.grad
    dead = (weights[0] == 0).nonzero().flatten()
    live = (weights[0] > 0).nonzero().flatten()
    assert len(dead) > 0 and len(live) > 0
    assert grad[dead].norm() <= 1e-9 * grad[live].norm(dim=1).min()  # zero up to eps = 1e-12

    # Without re-normalisation: the dead slots' gradient is exactly the softmax-normaliser term.
    memory = module.memory.detach().clone().requires_grad_(True)
    soft = torch.softmax(z @ memory.t(), dim=1)
    soft_leaf = soft.detach().requires_grad_(True)
    ((hard_shrink_relu(soft_leaf, module.shrink_threshold) @ memory.detach() - target) ** 2).sum().backward()
    g, w = soft_leaf.grad[0], soft.detach()[0]
    memory.grad = None
    ((hard_shrink_relu(soft, module.shrink_threshold) @ memory - target) ** 2).sum().backward()
    for j in dead.tolist():
        expected = -w[j] * (w * g).sum() * z[0]  # dL/dlogit_j * dlogit_j/dm_j for the dot similarity
        assert torch.allclose(memory.grad[j], expected, atol=1e-12)
        assert memory.grad[j].norm() > 1e-6  # small but real

    # Through the read-out alone, unaddressed slots get exactly zero gradient.
    memory.grad = None
    (((weights.detach() @ memory) - target) ** 2).sum().backward()
    assert torch.count_nonzero(memory.grad[dead]) == 0 and torch.count_nonzero(memory.grad[live]) > 0


def test_shrinkage_off_is_plain_softmax():
    module = MemoryModule(10, 4, shrink_threshold=0.0)
    z = torch.randn(3, 4)
    _, weights = module(z)
    assert torch.allclose(weights, torch.softmax(z @ module.memory.t(), dim=1))


def test_addressing_stats_report_collapse():
    w = torch.zeros(4, 5)
    w[0, 1] = 1.0
    w[1, 1] = 0.5
    w[1, 2] = 0.5
    stats = addressing_stats(w)
    assert stats["zero_query_fraction"] == 0.5
    assert stats["used_slots"] == pytest.approx(2 / 5)
    assert stats["mean_active_slots"] == pytest.approx(3 / 4)
    assert stats["slot_usage"].tolist() == pytest.approx([0, 1.5 / 4, 0.5 / 4, 0, 0])


@pytest.mark.parametrize("kwargs, message", [
    ({"num_slots": 0, "dim": 4}, "num_slots"),
    ({"num_slots": -3, "dim": 4}, "num_slots"),
    ({"num_slots": 10, "dim": 4, "shrink_threshold": 1.0}, "[0, 1)"),
    ({"num_slots": 10, "dim": 4, "shrink_threshold": -0.1}, "[0, 1)"),
    ({"num_slots": 10, "dim": 4, "shrink_threshold": "x/N"}, "factor"),
    ({"num_slots": 10, "dim": 4, "similarity": "euclid"}, "similarity"),
])
def test_bad_memory_arguments(kwargs, message):
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace(")", r"\)")):
        MemoryModule(**kwargs)


def test_query_with_wrong_dim_is_a_clear_error():
    with pytest.raises(DataError, match="memory dim"):
        MemoryModule(10, 8)(torch.randn(2, 7))


def test_public_api_and_repr():
    module = memae.MemoryModule(2000, 256)
    assert "num_slots=2000" in repr(module) and "similarity='dot'" in repr(module)
    assert memory_similarity(torch.ones(1, 2), torch.ones(3, 2)).shape == (1, 3)


def test_cosine_default_temperature_keeps_sparse_addressing_possible():
    torch.manual_seed(0)
    module = MemoryModule(2000, 16, similarity="cosine", shrink_threshold=0.0025)
    assert module.temperature == 0.1
    z = module.memory.detach()[:8] * 5  # queries close to some slots
    _, weights = module(z)
    assert addressing_stats(weights)["zero_query_fraction"] == 0.0
    assert MemoryModule(20, 4).temperature == 1.0
    assert MemoryModule(np.int64(20), np.int64(4)).num_slots == 20
    with pytest.raises(ConfigError):
        MemoryModule(True, 4)
