"""The training loop: Adam on eq. 10, validation on held-out training normals, best/last checkpoints, resume, DDP.

It trains any network with a ``loss(x)`` method (a :class:`memae.MemAE`, whose loss is eq. 10, or a baseline
network of :mod:`memae.baselines`).  Validation averages the per-sample reconstruction MSE, or the network's own
``sample_errors(x)`` where it defines one (the baselines, whose objective is not a reconstruction).

The loop order is fixed: (shuffle seeded by epoch) -> forward/backward/step per batch -> validation ->
checkpoint.  Shuffling depends only on ``(seed, epoch)``, so a resumed run ends exactly where an uninterrupted one
would.  Under ``torchrun`` each process trains on its shard (DistributedSampler) and rank 0 alone writes files and
shows progress.
"""

from __future__ import annotations

import contextlib
import csv
import logging
import math
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import torch
import torch.distributed
from torch import Tensor, nn
from torch.utils.data import DataLoader, Dataset, DistributedSampler, Subset, TensorDataset
from tqdm.auto import tqdm

from ..config import TrainConfig
from ..console import show_progress
from ..errors import CheckpointError, ConfigError, DataError, DivergenceError
from ..functional import entropy_loss, reconstruction_error
from ..io import write_csv
from ..memory import MemoryModule
from ..models.memae import LossBreakdown
from .checkpoint import load_checkpoint, save_checkpoint
from .selection import separation
from .distributed import DistInfo, all_reduce_sum, init_distributed, resolve_device, shard_indices

__all__ = ["TrainConfig", "TrainResult", "train", "drawing_from", "seeded_generator", "use_determinism", "as_dataset",
           "shrink_warmup", "shrink_warmup_factor", "recalibrate_batch_norm", "read_history", "DivergenceError"]

logger = logging.getLogger(__name__)
_BatchNorm = nn.modules.batchnorm._BatchNorm


@dataclass
class TrainResult:
    history: list[dict[str, float]] = field(default_factory=list)
    best_val: float | None = None
    best_epoch: int | None = None
    best_path: Path | None = None
    last_path: Path | None = None
    seconds: float = 0.0
    best_state: dict[str, Tensor] | None = None  # weights of the best epoch (CPU copy), also without a run_dir
    stopped_early: bool = False  # train.patience ended the run before train.epochs

    @property
    def still_improving(self) -> bool:
        """The kept epoch is the last of a run that was not stopped early: more epochs would likely help."""
        return (not self.stopped_early and len(self.history) > 1 and self.best_epoch is not None
                and self.best_epoch == int(self.history[-1]["epoch"]))


class _Objective(nn.Module):
    """Wraps ``model.loss`` as a forward so that DDP sees (and synchronises) the whole computation.

    A loss that is a plain scalar (the baselines') counts as reconstruction term, with no entropy term.
    """

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: Tensor):
        losses = self.model.loss(x)
        if isinstance(losses, Tensor):
            return LossBreakdown(losses, losses, losses.new_zeros(()), losses.new_zeros(()))
        return losses


def _sample_errors(model: nn.Module, x: Tensor) -> tuple[Tensor, Tensor | None]:
    """Per-sample validation errors ``(B,)`` and the memory weights (None without memory) of one batch."""
    if hasattr(model, "sample_errors"):
        return model.sample_errors(x).detach().float(), None
    reconstruction, weights = model(x)
    return reconstruction_error(reconstruction, x), weights


def _eval_grad(model: nn.Module):
    """No autograd for validation, unless the network differentiates with respect to its input (DSEBM)."""
    return torch.set_grad_enabled(bool(getattr(model, "needs_input_grad", False)))


def use_determinism(deterministic: bool) -> None:
    """Deterministic algorithms on or off (``train.deterministic``); cuDNN autotuning only when off."""
    torch.use_deterministic_algorithms(deterministic, warn_only=True)
    if torch.backends.cudnn.is_available():
        torch.backends.cudnn.benchmark = not deterministic
        torch.backends.cudnn.deterministic = deterministic


@contextlib.contextmanager
def drawing_from(generator: torch.Generator) -> Iterator[torch.Generator]:
    """Inside the block, torch's global random stream on ``generator``'s device is ``generator``'s.

    For code that cannot be handed a generator: module initialisation (``reset_parameters``), ``nn.Dropout``,
    ``torch.randn_like`` in a sampling network's forward, a ``DataLoader`` drawing its base seed.  On exit
    ``generator`` holds the advanced state and the global streams (CPU and that device) are as they were.

    >>> g = torch.Generator().manual_seed(0)
    >>> before = torch.get_rng_state()
    >>> with drawing_from(g):
    ...     a = torch.rand(2)
    >>> torch.equal(a, torch.rand(2, generator=torch.Generator().manual_seed(0)))
    True
    >>> torch.equal(before, torch.get_rng_state())
    True
    """
    device = generator.device
    cuda = device.type == "cuda"
    index = (device.index if device.index is not None else torch.cuda.current_device()) if cuda else None
    with torch.random.fork_rng(devices=[index] if cuda else []):
        if cuda:
            torch.cuda.set_rng_state(generator.get_state(), index)
        else:
            torch.set_rng_state(generator.get_state())
        try:
            yield generator
        finally:
            generator.set_state(torch.cuda.get_rng_state(index) if cuda else torch.get_rng_state())


def seeded_generator(seed: int, device: torch.device | str = "cpu") -> torch.Generator:
    """A generator on ``device`` (its type and index) seeded with ``seed``: the stream ``torch.manual_seed(seed)``
    starts there."""
    device = torch.device(device)
    if device.type == "cuda" and device.index is None:
        device = torch.device("cuda", torch.cuda.current_device())
    return torch.Generator(device=device if device.type in ("cuda", "cpu") else "cpu").manual_seed(seed)


def as_dataset(data: Dataset | Tensor | np.ndarray, what: str = "data") -> Dataset:
    """Wrap arrays/tensors as a Dataset, refusing NaN/inf (they would silently poison the weights)."""
    if isinstance(data, np.ndarray):
        data = torch.from_numpy(np.ascontiguousarray(data)).float()
    if isinstance(data, Tensor):
        bad = ~torch.isfinite(data)
        if bad.any():
            row = int(bad.reshape(len(data), -1).any(1).nonzero()[0])
            raise DataError(f"{what} has {int(bad.sum())} NaN/inf value(s), first in sample {row}; clean or impute it")
        return TensorDataset(data)
    return data


def _first(batch: Any) -> Tensor:
    return batch[0] if isinstance(batch, (tuple, list)) else batch


def train(
    model: nn.Module,
    train_data: Dataset | Tensor | np.ndarray,
    val_data: Dataset | Tensor | np.ndarray | None = None,
    config: TrainConfig | None = None,
    run_dir: str | Path | None = None,
    *,
    resume: bool = False,
    run_config: dict[str, Any] | None = None,
    on_epoch: Callable[[dict[str, float]], None] | None = None,
    restore_best: bool = True,
    select_data: Dataset | Tensor | np.ndarray | None = None,
    generator: torch.Generator | None = None,
) -> TrainResult:
    """Train ``model`` (a :class:`memae.MemAE`) on normal data only.

    Args:
        train_data: training normals (a Dataset whose items are ``x`` or ``(x, ...)``, or a tensor/array).
        val_data: held-out *training* normals; their mean reconstruction MSE picks ``best.pt``.  Never the test set.
        config: :class:`TrainConfig`.
        run_dir: where ``last.pt`` (every epoch) and ``best.pt`` go; None writes nothing.
        resume: continue from ``run_dir/last.pt``; ends where an uninterrupted run would.
        run_config: the experiment's resolved config, stored in the checkpoints.
        on_epoch: called on the main process with each epoch's record once its checkpoints are written (logging).
        restore_best: end with the weights of the selected epoch (default) rather than the last epoch's.
        select_data: unlabelled samples for ``config.select = "separation"`` (default: ``val_data``).  The epoch is
            chosen by ``config.select``: lowest validation loss (``val_loss``), the last epoch (``last``) or the
            highest label-free score separation on ``select_data`` (``separation``, see
            :mod:`memae.training.selection`).
        generator: the random stream of the training's draws other than the batch order (a sampling network's noise,
            dropout), on the training device; advanced in place.  Default: a fresh one seeded with ``config.seed``.
            The batch order depends on ``(config.seed, epoch)`` alone.  The global random states (Python's,
            NumPy's, torch's) are left as they were.

    Returns:
        :class:`TrainResult`, with per-epoch ``monitor`` (the value selection minimises), ``train_loss``, ``train_rec``, ``train_entropy``, ``val_loss``,
        ``seconds`` and, with a memory, the collapse diagnostics on the validation set ``val_zero_queries``
        (fraction of queries whose weights all shrank to zero) and ``val_used_slots``.  On Ctrl-C the last completed epoch's checkpoint stays in place and the interrupt propagates.
    """
    config = config or TrainConfig()
    config.validate()
    start = time.perf_counter()
    device = resolve_device(config.device, int(os.environ.get("LOCAL_RANK", "0")))
    info = init_distributed(device)
    use_determinism(config.deterministic)
    if generator is None:
        generator = seeded_generator(config.seed, device)
    elif generator.device.type != device.type:
        raise ConfigError(f"the generator is on {generator.device}, the training on {device}: "
                          f"make it with torch.Generator(device={str(device)!r})")
    with drawing_from(generator):
        return _train(model, train_data, val_data, config, run_dir, device, info, resume=resume, run_config=run_config,
                      on_epoch=on_epoch, restore_best=restore_best, select_data=select_data, start=start)


def _train(model, train_data, val_data, config: TrainConfig, run_dir, device, info: DistInfo, *, resume, run_config,
           on_epoch, restore_best, select_data, start) -> TrainResult:
    model.to(device)
    objective: nn.Module = _Objective(model)
    if info.enabled:
        objective = nn.parallel.DistributedDataParallel(objective, device_ids=[device.index] if device.type == "cuda" else None)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)

    train_set = as_dataset(train_data, "training data")
    val_set = as_dataset(val_data, "validation data") if val_data is not None else None
    if len(train_set) == 0:
        raise ConfigError("the training set is empty; check the data section of the config")
    select_set = None
    if config.select == "separation":
        select_set = as_dataset(select_data, "selection data") if select_data is not None else val_set
        if select_set is None or len(select_set) < 2:
            raise ConfigError("train.select=separation needs unlabelled selection data: give validation data "
                              "(data.val_fraction > 0) or choose train.select=val_loss")
    run_dir = Path(run_dir) if run_dir is not None else None
    result = TrainResult()
    stored = {**(run_config or {}), "train": asdict(config)}
    start_epoch = 0
    if resume:
        start_epoch = _restore(run_dir, model, optimizer, result, device)

    sampler = DistributedSampler(train_set, info.world_size, info.rank, shuffle=True, seed=config.seed) if info.enabled else None
    board = _tensorboard(run_dir) if config.log == "tensorboard" and run_dir is not None and info.is_main else None
    for epoch in range(start_epoch, config.epochs):
        if config.patience and result.best_epoch is not None and epoch - 1 - result.best_epoch >= config.patience:
            result.stopped_early = True
            logger.info("early stop after epoch %d: no improvement for %d epochs (train.patience)", epoch,
                        config.patience)
            break
        tic = time.perf_counter()
        loader = _train_loader(train_set, config, epoch, sampler)
        factor = shrink_warmup_factor(epoch, config.shrink_warmup_epochs)
        with shrink_warmup(model, factor):
            train_stats = _train_epoch(objective, optimizer, loader, config, epoch, info, device)
        if config.shrink_warmup_epochs and any(m.shrink_threshold > 0 for m in _memories(model)):
            train_stats["shrink_factor"] = factor
        # One process: the validation pass also gives the per-sample errors that separation reads.  Under DDP each
        # process validates its shard, in other batches than one process would, and float32 errors depend on the
        # batch at the last bit: every process scores the whole selection set separately instead (as one process
        # would), so DDP keeps the same numbers.
        reuse = select_set is val_set and not info.enabled
        val_stats, val_errors = {"val_loss": math.nan}, None
        if config.bn_recalibration and (val_set is not None or select_set is not None):
            recalibrate_batch_norm(model, train_set, config, device)
        if val_set is not None:
            val_stats, val_errors = _validation(model, val_set, config, info, device, per_sample=reuse)
        if select_set is not None:
            errors = val_errors if reuse else _errors(model, select_set, config, device)
            val_stats["separation"] = separation(errors, config.select_share)
        monitored = _monitored(config.select, epoch, val_stats, train_stats, val_set is not None)
        record = {"epoch": epoch, **train_stats, **val_stats, "monitor": monitored, "seconds": time.perf_counter() - tic}
        result.history.append(record)
        improved = result.best_val is None or monitored < result.best_val
        if improved:
            result.best_val, result.best_epoch = monitored, epoch
            result.best_state = {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}
        if run_dir is not None and info.is_main:
            # The epoch log lives in history.csv only (written first), so a checkpoint's size does not grow with the
            # epoch count; resume reads the log back up to the checkpoint's epoch.
            write_history(run_dir / "history.csv", result.history)
            common = dict(epoch=epoch, best_val=result.best_val, config=stored)
            if improved:
                result.best_path = save_checkpoint(run_dir / "best.pt", model, None, **common)
            result.last_path = save_checkpoint(run_dir / "last.pt", model, optimizer, **common)
        if board is not None:
            for key, value in record.items():
                if key != "epoch" and isinstance(value, (int, float)) and math.isfinite(value):
                    board.add_scalar(key, value, epoch + 1)
            board.flush()
        if on_epoch is not None and info.is_main:
            on_epoch(record)
    if board is not None:
        board.close()
    if info.enabled:
        torch.distributed.barrier()  # other ranks may read best.pt next: wait until rank 0 has written it
    if run_dir is not None:
        result.best_path = result.best_path or (run_dir / "best.pt")
        result.last_path = result.last_path or (run_dir / "last.pt")
    if result.best_state is None and result.best_path is not None and Path(result.best_path).is_file():
        result.best_state = load_checkpoint(result.best_path, map_location="cpu")["model"]  # resumed, nothing new
    if restore_best and result.best_state is not None:
        model.load_state_dict(result.best_state)
    result.seconds = time.perf_counter() - start
    model.eval()
    return result


def _tensorboard(run_dir: Path):
    """A TensorBoard writer for ``run_dir/tensorboard`` (epochs numbered from 1, like history.csv)."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        raise ConfigError("train.log=tensorboard needs the tensorboard package: pip install 'memae[tensorboard]', "
                          "or use train.log=csv") from None
    return SummaryWriter(log_dir=str(run_dir / "tensorboard"))


def write_history(path: Path, history: list[dict[str, float]]) -> Path:
    """``history.csv``, one row per finished epoch, epochs numbered from 1 as the progress bar shows them."""
    return write_csv(path, [{**r, "epoch": int(r["epoch"]) + 1} for r in history])


def read_history(path: Path, up_to_epoch: int | None = None) -> list[dict[str, float]]:
    """The records of :func:`write_history` back (0-based epochs, floats exactly as written), up to ``up_to_epoch``."""
    records = []
    with open(path, newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            record: dict[str, float] = {k: float(v) for k, v in row.items() if k != "epoch" and v not in ("", None)}
            record = {"epoch": int(row["epoch"]) - 1, **record}
            if up_to_epoch is None or record["epoch"] <= up_to_epoch:
                records.append(record)
    return records


def _batch_norms(model: nn.Module) -> list[_BatchNorm]:
    return [m for m in model.modules() if isinstance(m, _BatchNorm) and m.track_running_stats]


def recalibrate_batch_norm(model: nn.Module, data: Dataset, config: TrainConfig, device) -> None:
    """Set every BatchNorm layer's running statistics to their average over ``data`` with the current weights.

    The same computation as ``torch.optim.swa_utils.update_bn``: statistics reset, cumulative average
    (``momentum=None``) over the batches of the training batch size, in the training forward.  The global RNG state
    is left as it was (a sampling network such as the VAE draws noise in its forward), so recalibration does not
    change the batches or noise of later epochs.  Every process reads the whole of ``data``, so under DDP all ranks
    end with the same statistics.
    """
    norms = _batch_norms(model)
    if not norms:
        return
    momenta = [m.momentum for m in norms]
    was_training = model.training
    for m in norms:
        m.reset_running_stats()
        m.momentum = None
    model.train()
    devices = [device.index or 0] if getattr(device, "type", "cpu") == "cuda" else []
    seen = 0
    try:
        with torch.random.fork_rng(devices=devices), _eval_grad(model):
            for batch in DataLoader(data, config.batch_size, shuffle=False, num_workers=config.num_workers):
                x = _first(batch).to(device)
                if x.shape[0] == 1 and seen:
                    continue  # a lone last sample, skipped as in training
                model.loss(x)  # the training forward: BatchNorm sees what it saw in training
                seen += x.shape[0]
    finally:
        for m, momentum in zip(norms, momenta):
            m.momentum = momentum
        model.train(was_training)


def _monitored(select: str, epoch: int, val_stats: dict[str, float], train_stats: dict[str, float],
               has_val: bool) -> float:
    """The value the epoch choice minimises (NaN never wins; ties keep the earlier epoch)."""
    if select == "last":
        return float(-epoch)
    if select == "separation":
        value = -val_stats["separation"]
    else:
        value = val_stats["val_loss"] if has_val else train_stats["train_rec"]
    return math.inf if math.isnan(value) else value


def _errors(model: nn.Module, data: Dataset, config: TrainConfig, device) -> np.ndarray:
    """Per-sample reconstruction MSE of the whole ``data`` with the full shrinkage (eval mode), as float32 numpy, in
    the batches that :func:`_validation` uses in one process (so both give the same values)."""
    model.eval()
    out = []
    with _eval_grad(model):
        for batch in DataLoader(data, config.batch_size, shuffle=False, num_workers=config.num_workers):
            out.append(_sample_errors(model, _first(batch).to(device))[0].cpu())
    return torch.cat(out).numpy()


def shrink_warmup_factor(epoch: int, warmup_epochs: int) -> float:
    """Share of lambda used in (0-based) ``epoch``: ``epoch / warmup_epochs``, capped at 1 (always 1 without warm-up)."""
    return 1.0 if warmup_epochs <= 0 else min(1.0, epoch / warmup_epochs)


def _memories(model: nn.Module) -> list[MemoryModule]:
    return [m for m in model.modules() if isinstance(m, MemoryModule)]


@contextlib.contextmanager
def shrink_warmup(model: nn.Module, factor: float) -> Iterator[None]:
    """Scale the shrink threshold of every memory in ``model`` by ``factor`` inside the block, restore it after."""
    memories = _memories(model)
    saved = [m.shrink_threshold for m in memories]
    try:
        for m, lam in zip(memories, saved):
            m.shrink_threshold = lam * factor
        yield
    finally:
        for m, lam in zip(memories, saved):
            m.shrink_threshold = lam


def _train_loader(train_set: Dataset, config: TrainConfig, epoch: int, sampler: DistributedSampler | None) -> DataLoader:
    if sampler is not None:
        sampler.set_epoch(epoch)
        return DataLoader(train_set, config.batch_size, sampler=sampler, num_workers=config.num_workers, drop_last=False)
    generator = torch.Generator().manual_seed(config.seed * 100_003 + epoch)  # order is a function of (seed, epoch)
    return DataLoader(train_set, config.batch_size, shuffle=True, generator=generator, num_workers=config.num_workers)


def _train_epoch(objective, optimizer, loader, config, epoch, info: DistInfo, device) -> dict[str, float]:
    objective.train()
    sums = [0.0, 0.0, 0.0, 0.0]  # total, reconstruction, entropy, samples
    bar = tqdm(loader, desc=f"epoch {epoch + 1}/{config.epochs}", leave=False, disable=not show_progress(config.progress and info.is_main))
    for batch in bar:
        x = _first(batch).to(device, non_blocking=True)
        if x.shape[0] == 1 and sums[3] > 0:
            continue  # a lone last sample: BatchNorm cannot normalise one value per channel (1x1 codes, code_dim)
        losses = objective(x)
        if not torch.isfinite(losses.total):
            value = losses.total.item()
            raise DivergenceError(f"the training loss became {value} at epoch {epoch + 1}; lower train.lr (now {config.lr})",
                                  value, epoch + 1)
        optimizer.zero_grad(set_to_none=True)
        losses.total.backward()
        if config.grad_clip > 0:
            nn.utils.clip_grad_norm_(objective.parameters(), config.grad_clip)
        optimizer.step()
        n = x.shape[0]
        sums[0] += losses.total.item() * n
        sums[1] += losses.reconstruction.item() * n
        sums[2] += losses.entropy.item() * n
        sums[3] += n
        bar.set_postfix(loss=f"{sums[0] / sums[3]:.5f}")
    total, rec, ent, count = all_reduce_sum(sums, info)
    return {"train_loss": total / count, "train_rec": rec / count, "train_entropy": ent / count}


def _validation(model: nn.Module, val_set: Dataset, config: TrainConfig, info: DistInfo, device, *,
                per_sample: bool = False) -> tuple[dict[str, float], np.ndarray | None]:
    """Mean reconstruction MSE per sample, each validation sample seen by exactly one process; with a memory also
    the share of queries whose weights all shrank to zero and the share of slots used (collapse diagnostics).

    With ``per_sample`` (one process only), also every sample's reconstruction MSE (float32, in the order of
    ``val_set``) with the full shrinkage (eval mode), for the selection statistic; else None.
    """
    if per_sample and info.enabled:
        raise ValueError("per-sample validation errors are for one process; under DDP use _errors")
    model.eval()
    subset = Subset(val_set, shard_indices(len(val_set), info))
    total, count, zero_queries, queries, entropy = 0.0, 0.0, 0.0, 0.0, 0.0
    used = None
    errors: list[Tensor] = []
    active_counts: list[Tensor] = []
    loader = DataLoader(subset, config.batch_size, shuffle=False, num_workers=config.num_workers)
    for batch in loader:
        x = _first(batch).to(device)
        with _eval_grad(model):
            sample_errors, weights = _sample_errors(model, x)
        total += sample_errors.sum().item()
        if per_sample:
            errors.append(sample_errors.cpu())
        count += x.shape[0]
        if weights is not None:
            flat_weights = weights.detach().movedim(1, -1).reshape(-1, weights.shape[1]).float()  # (Q, N)
            flat = flat_weights > 0  # addressed?
            zero_queries += (~flat.any(dim=1)).sum().item()
            queries += flat.shape[0]
            entropy += entropy_loss(flat_weights, dim=1).item() * flat.shape[0]  # summed over queries
            active_counts.append(flat.sum(dim=1).cpu())
            used = flat.any(dim=0) if used is None else used | flat.any(dim=0)
    batch_total, batch_count = _batch_statistics_errors(model, loader, device)
    sums = all_reduce_sum([total, count, zero_queries, queries, entropy, batch_total, batch_count], info)
    stats = {"val_loss": sums[0] / max(sums[1], 1.0)}
    if sums[6] > 0:
        # the same error with BatchNorm on batch statistics (as in training): the eval-vs-training gap
        stats["val_loss_batch_stats"] = sums[5] / sums[6]
        stats["bn_gap"] = stats["val_loss"] / stats["val_loss_batch_stats"] - 1.0 if sums[5] > 0 else math.nan
    if used is not None:
        stats["val_zero_queries"] = sums[2] / max(sums[3], 1.0)
        stats["val_used_slots"] = used.float().mean().item()  # this process's share (rank 0 under DDP)
        counts = torch.cat(active_counts).float()
        stats["val_entropy"] = sums[4] / max(sums[3], 1.0)  # nats per query; ln(k) for k equal weights
        stats["val_active_slots"] = counts.mean().item()  # non-zero weights per query (this process's queries)
        stats["val_active_slots_p90"] = counts.quantile(0.9).item()
    if not per_sample:
        return stats, None
    return stats, torch.cat(errors).numpy() if errors else np.zeros(0, dtype=np.float32)


def _batch_statistics_errors(model: nn.Module, loader: DataLoader, device) -> tuple[float, float]:
    """Sum and count of the validation errors with every BatchNorm layer on batch statistics, all else in eval mode.

    Momentum 0 keeps the running statistics as they are.  Batches of one sample are skipped (no batch statistics).
    Returns (0, 0) for a network without BatchNorm.
    """
    norms = _batch_norms(model)
    if not norms:
        return 0.0, 0.0
    saved = [(m.momentum, m.num_batches_tracked.clone()) for m in norms]
    for m in norms:
        m.momentum = 0.0
        m.train()
    total, count = 0.0, 0.0
    try:
        for batch in loader:
            x = _first(batch).to(device)
            if x.shape[0] < 2:
                continue
            with _eval_grad(model):
                total += _sample_errors(model, x)[0].sum().item()
            count += x.shape[0]
    finally:
        for m, (momentum, tracked) in zip(norms, saved):
            m.momentum = momentum
            m.num_batches_tracked.copy_(tracked)
            m.eval()
    return total, count


def _restore(run_dir: Path | None, model: nn.Module, optimizer, result: TrainResult, device) -> int:
    if run_dir is None or not (run_dir / "last.pt").is_file():
        raise CheckpointError(f"nothing to resume: {run_dir}/last.pt does not exist; start the run without --resume")
    state = load_checkpoint(run_dir / "last.pt", map_location=device)
    try:
        model.load_state_dict(state["model"])
        if state.get("optimizer"):
            optimizer.load_state_dict(state["optimizer"])
    except (RuntimeError, ValueError, KeyError) as exc:
        raise CheckpointError(f"{run_dir / 'last.pt'} was written by another model than this one "
                              f"({str(exc).splitlines()[0][:120]}); resume with the run's own config") from None
    result.history = list(state.get("history") or [])  # checkpoints written before history.csv held the log
    if not result.history and (run_dir / "history.csv").is_file():
        result.history = read_history(run_dir / "history.csv", up_to_epoch=int(state["epoch"]))
    result.best_val = state["best_val"]
    if result.history:
        # the first record with the lowest monitored value, as in the loop; checkpoints without "monitor" (older
        # runs) selected by validation loss
        keyed = [(r.get("monitor", r["val_loss"] if not math.isnan(r["val_loss"]) else r["train_rec"]), i)
                 for i, r in enumerate(result.history)]
        result.best_epoch = int(result.history[min(keyed)[1]]["epoch"])
        if (run_dir / "best.pt").is_file():
            result.best_path = run_dir / "best.pt"
    return int(state["epoch"]) + 1
