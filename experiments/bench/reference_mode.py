#!/usr/bin/python3
"""The PyTorch reference for experiments/bench/run-all: the same MoDE model, data, split sizes,
batch size, optimiser and loss as mode-train, written the way a researcher would in Python
(experts in an nn.ModuleList, a loop over them). Prints one JSON line with the training
throughput (training steps only, as mode-train's train_samples_per_second) and the test accuracy.

  python3 reference_mode.py DATA.csv [--experts 4] [--hidden 32] [--alpha 0.1] [--epochs 20]
                            [--batch-size 64] [--lr 0.003] [--threads 1] [--seed 0]
"""
import argparse, json, time

import numpy as np
import torch
from torch import nn


class MoDE(nn.Module):
    def __init__(self, inputs, outputs, experts, hidden):
        super().__init__()
        self.gate = nn.Linear(inputs, experts)
        self.experts = nn.ModuleList(
            nn.Sequential(nn.Linear(inputs, hidden), nn.ReLU(), nn.Linear(hidden, outputs)) for _ in range(experts))

    def forward(self, x):
        gate = torch.softmax(self.gate(x), dim=1)                   # [B, E]
        outs = torch.stack([e(x) for e in self.experts], dim=1)     # [B, E, C]
        return (gate.unsqueeze(-1) * outs).sum(1), outs


def main():
    p = argparse.ArgumentParser()
    p.add_argument("data")
    p.add_argument("--experts", type=int, default=4)
    p.add_argument("--hidden", type=int, default=32)
    p.add_argument("--alpha", type=float, default=0.1)
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=0.003)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    raw = np.loadtxt(a.data, delimiter=",", skiprows=1, dtype=np.float32)
    x_all, y_all = raw[:, :-1], raw[:, -1].astype(np.int64)
    rng = np.random.default_rng(a.seed)
    order = rng.permutation(len(x_all))
    n_test = n_val = round(0.15 * len(x_all))
    test, val, train = order[:n_test], order[n_test:n_test + n_val], order[n_test + n_val:]
    mean, std = x_all[train].mean(0), x_all[train].std(0) + 1e-12
    x = torch.from_numpy((x_all - mean) / std)
    y = torch.from_numpy(y_all)
    model = MoDE(x.shape[1], int(y.max()) + 1, a.experts, a.hidden)
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
                      "torch": torch.__version__}))


if __name__ == "__main__":
    main()
