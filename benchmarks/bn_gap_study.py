"""BatchNorm evaluation gap, per epoch, on MNIST development data (official training images only; no test image).

For one normal class: the validation error in eval mode (running statistics), with batch statistics (as training
sees it) and after recalibration (train.bn_recalibration), the development-test AUC of each, and the addressing
sparsity.  Usage: python benchmarks/bn_gap_study.py CLASS VARIANT [OPTIONS_JSON] [EPOCHS] [LR] [SEED]
The run itself trains with bn_recalibration off, so all three columns describe the same weights.
"""
import copy, json, os, sys, time
from pathlib import Path
import numpy as np, torch
from torch import nn
from memae.data.images import load_image_dataset
from memae.data.one_class import one_class_split
from memae.models import build_model
from memae.config import TrainConfig
from memae.training import train
from memae.functional import addressing_stats
from sklearn.metrics import roc_auc_score

torch.set_num_threads(1)
cls = int(sys.argv[1]); variant = sys.argv[2]; opts = json.loads(sys.argv[3]) if len(sys.argv) > 3 else {}
epochs = int(sys.argv[4]) if len(sys.argv) > 4 else 15
lr = float(sys.argv[5]) if len(sys.argv) > 5 else 1e-3
seed = int(sys.argv[6]) if len(sys.argv) > 6 else 0
imgs = load_image_dataset("mnist", os.environ.get("MEMAE_DATASETS", str(Path(__file__).resolve().parents[2] / "shared" / "datasets")) + "/mnist", "train")
x = imgs.images.astype(np.float32) / 255.0
sp = one_class_split(imgs.labels, cls, seed)
tr, va, te, y = x[sp.train_idx], x[sp.val_idx], x[sp.test_idx], sp.test_is_anomaly
model = build_model("mnist", variant, **opts)

def errs(m, data, bs=256):
    out = []
    with torch.no_grad():
        for i in range(0, len(data), bs):
            xb = torch.from_numpy(data[i:i+bs]); r, w = m(xb)
            out.append(((r - xb) ** 2).flatten(1).mean(1))
    return torch.cat(out).numpy()

def batchstat_errs(m, data, bs=128):
    m2 = copy.deepcopy(m); m2.train()
    return errs(m2, data, bs)

def recal(m, data, bs=256):
    m2 = copy.deepcopy(m)
    for mod in m2.modules():
        if isinstance(mod, nn.modules.batchnorm._BatchNorm):
            mod.reset_running_stats(); mod.momentum = None
    m2.train()
    with torch.no_grad():
        for i in range(0, len(data), bs):
            m2(torch.from_numpy(data[i:i+bs]))
    m2.eval(); return m2

rows = []
def on_epoch(rec):
    m = model; m.eval()
    ev = errs(m, va); bsv = batchstat_errs(m, va); rc = recal(m, tr); rcv = errs(rc, va)
    auc_e = roc_auc_score(y, errs(m, te)); auc_b = roc_auc_score(y, batchstat_errs(m, te)); auc_r = roc_auc_score(y, errs(rc, te))
    st = {}
    if m.memory is not None:
        with torch.no_grad():
            w = m(torch.from_numpy(va))[1]
        flat = w.movedim(1, -1).reshape(-1, w.shape[1])
        nz = (flat > 0).sum(1).float()
        st = dict(ent=float(addressing_stats(w)["mean_entropy"]), nz_mean=float(nz.mean()), nz_p90=float(nz.quantile(0.9)))
    r = dict(ep=rec["epoch"]+1, train=rec["train_rec"], val_eval=float(ev.mean()), val_batch=float(bsv.mean()), val_recal=float(rcv.mean()),
             auc_eval=auc_e, auc_batch=auc_b, auc_recal=auc_r, **st)
    rows.append(r); print(json.dumps({k: round(v, 4) if isinstance(v, float) else v for k, v in r.items()}), flush=True)

cfg = TrainConfig(epochs=epochs, batch_size=128, lr=lr, seed=seed, progress=False, bn_recalibration=False)
t = time.time(); train(model, tr, va, cfg, on_epoch=on_epoch); print("seconds", time.time() - t)
