#!/usr/bin/python3
"""The PyTorch reference for experiments/bench/run-all: the same MoDE model, data, split sizes,
batch size, optimiser and loss as mode-train, written the way a researcher would in Python
(experts in an nn.ModuleList, a loop over them). Prints one JSON line with the training
throughput (training steps only, as mode-train's train_samples_per_second), the test accuracy
and the peak resident memory.

  python3 reference_mode.py DATA.csv                          tabular: features..., label
  python3 reference_mode.py --kind image FOLDER --max-rows N  IDX files (Fashion-MNIST), CNN backbone
  python3 reference_mode.py --kind text FILE.tsv              label<TAB>text, embedding-bag backbone
      [--experts 4] [--hidden 32] [--alpha 0.1] [--epochs 20] [--batch-size 64] [--lr 0.003]
      [--threads 1] [--seed 0] [--backbone-dim 64]
"""
import argparse, gzip, json, os, re, resource, time
from collections import Counter

import numpy as np
import torch
from torch import nn


class CnnBackbone(nn.Module):
    """mode's "cnn": two 3x3 convolutions (16, 32 channels) with 2x2 max pooling, a linear layer."""
    def __init__(self, side, dim):
        super().__init__()
        self.side = side
        self.conv1 = nn.Conv2d(1, 16, 3, padding=1)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1)
        self.linear = nn.Linear(32 * (side // 4) ** 2, dim)

    def forward(self, x):
        h = x.view(x.shape[0], 1, self.side, self.side)
        h = torch.max_pool2d(torch.relu(self.conv1(h)), 2)
        h = torch.max_pool2d(torch.relu(self.conv2(h)), 2)
        return torch.relu(self.linear(h.flatten(1)))


class BagBackbone(nn.Module):
    """mode's "embedding-bag": the mean of the word vectors present (id 0 pads)."""
    def __init__(self, vocabulary, dim):
        super().__init__()
        self.embedding = nn.Embedding(vocabulary, dim, padding_idx=0)

    def forward(self, ids):
        present = (ids != 0).unsqueeze(-1).float()
        return (self.embedding(ids) * present).sum(1) / present.sum(1).clamp_min(1.0)


class MoDE(nn.Module):
    def __init__(self, backbone, features, outputs, experts, hidden):
        super().__init__()
        self.backbone = backbone
        self.gate = nn.Linear(features, experts)
        self.experts = nn.ModuleList(
            nn.Sequential(nn.Linear(features, hidden), nn.ReLU(), nn.Linear(hidden, outputs)) for _ in range(experts))

    def forward(self, x):
        x = self.backbone(x)
        gate = torch.softmax(self.gate(x), dim=1)                   # [B, E]
        outs = torch.stack([e(x) for e in self.experts], dim=1)     # [B, E, C]
        return (gate.unsqueeze(-1) * outs).sum(1), outs


def split(n, rng, val_fraction=0.15, test_fraction=0.15):
    order = rng.permutation(n)
    n_test, n_val = round(test_fraction * n), round(val_fraction * n)
    return order[n_test + n_val:], order[n_test:n_test + n_val], order[:n_test]


def tabular(a, rng):
    raw = np.loadtxt(a.data, delimiter=",", skiprows=1, dtype=np.float32)
    x_all, y_all = raw[:, :-1], raw[:, -1].astype(np.int64)
    train, val, test = split(len(x_all), rng)
    mean, std = x_all[train].mean(0), x_all[train].std(0) + 1e-12
    x = torch.from_numpy((x_all - mean) / std)
    return x, torch.from_numpy(y_all), train, val, test, nn.Identity(), x.shape[1]


def read_idx(path):
    with gzip.open(path) if path.endswith(".gz") else open(path, "rb") as f:
        raw = f.read()
    dims = raw[3]
    shape = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def image(a, rng):
    f = lambda name: os.path.join(a.data, name)
    xs, ys = read_idx(f("train-images-idx3-ubyte.gz")), read_idx(f("train-labels-idx1-ubyte.gz"))
    xt, yt = read_idx(f("t10k-images-idx3-ubyte.gz")), read_idx(f("t10k-labels-idx1-ubyte.gz"))
    n_train, n_test = len(xs), len(xt)
    if a.max_rows and a.max_rows < n_train:   # as mode: the test files cut in proportion
        n_test, n_train = max(1, n_test * a.max_rows // n_train), a.max_rows
    x = np.concatenate([xs[:n_train], xt[:n_test]]).reshape(n_train + n_test, -1).astype(np.float32) / 255.0
    y = np.concatenate([ys[:n_train], yt[:n_test]]).astype(np.int64)
    n_val = min(n_train, round(0.15 * (n_train + n_test)))
    order = rng.permutation(n_train)
    side = xs.shape[1]
    return (torch.from_numpy(x), torch.from_numpy(y), order[n_val:], order[:n_val], np.arange(n_train, n_train + n_test),
            CnnBackbone(side, a.backbone_dim), a.backbone_dim)


def text(a, rng):
    labels, docs = [], []
    with open(a.data, "rb") as f:
        for line in f:
            label, _, body = line.rstrip(b"\r\n").partition(b"\t")
            words = [w.lower() for w in re.findall(rb"[A-Za-z0-9\x80-\xff]+", body)]
            if words:
                labels.append(label)
                docs.append(words)
    names = sorted(set(labels))
    y = np.array([names.index(l) for l in labels], dtype=np.int64)
    train, val, test = split(len(docs), rng)
    counts = Counter(w for r in train for w in docs[r])  # the vocabulary from the training rows only
    kept = sorted(((n, w) for w, n in counts.items() if n >= 2), key=lambda t: (-t[0], t[1]))[:20000]
    ids = {w: i + 2 for i, (_, w) in enumerate(kept)}    # 0 pads, 1 is <unk>
    x = np.zeros((len(docs), 64), dtype=np.int64)
    for r, words in enumerate(docs):
        for i, w in enumerate(words[:64]):
            x[r, i] = ids.get(w, 1)
    return torch.from_numpy(x), torch.from_numpy(y), train, val, test, BagBackbone(len(ids) + 2, a.backbone_dim), a.backbone_dim


def main():
    p = argparse.ArgumentParser()
    p.add_argument("data")
    p.add_argument("--kind", choices=["tabular", "image", "text"], default="tabular")
    p.add_argument("--experts", type=int, default=4)
    p.add_argument("--hidden", type=int, default=32)
    p.add_argument("--backbone-dim", type=int, default=64)
    p.add_argument("--alpha", type=float, default=0.1)
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=0.003)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--max-rows", type=int, default=0)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    rng = np.random.default_rng(a.seed)
    x, y, train, val, test, backbone, features = {"tabular": tabular, "image": image, "text": text}[a.kind](a, rng)
    model = MoDE(backbone, features, int(y.max()) + 1, a.experts, a.hidden)
    opt = torch.optim.Adam(model.parameters(), lr=a.lr)
    xt, yt = x[train], y[train]
    train_time, seen = 0.0, 0
    for epoch in range(a.epochs):
        model.train()
        perm = torch.randperm(len(xt))
        start = time.perf_counter()
        for b in range(0, len(xt), a.batch_size):
            idx = perm[b:b + a.batch_size]
            mix, outs = model(xt[idx])
            task = nn.functional.cross_entropy(mix, yt[idx])
            distill = (outs - outs.mean(1, keepdim=True)).pow(2).mean()
            loss = task + a.alpha * distill if a.alpha > 0 else task
            opt.zero_grad()
            loss.backward()
            opt.step()
            loss.item()  # mode-train reads each step's losses too
            seen += len(idx)
        train_time += time.perf_counter() - start
        model.eval()
        with torch.no_grad():
            val_acc = (model(x[val])[0].argmax(1) == y[val]).float().mean().item()
    with torch.no_grad():
        test_acc = (model(x[test])[0].argmax(1) == y[test]).float().mean().item()
    print(json.dumps({"train_samples_per_second": seen / train_time, "test_accuracy": test_acc, "val_accuracy": val_acc,
                      "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
                      "torch": torch.__version__}))


if __name__ == "__main__":
    main()
