"""Training throughput: fermbench's tensor pipeline vs a naive ImageFolder + PIL + DataLoader one.

Same model, optimizer, batch (256) and machine for both; only the input pipeline differs:
- ours: the split decoded once into a uint8 tensor on the training device; each epoch shuffled and
  augmented in a few large gathers (augment_epoch); per batch one normalisation;
- naive (what torchvision's ImageFolder + transforms do, written here with PIL because torchvision
  cannot be installed beside this torch): per image open the JPEG, PIL RandomHorizontalFlip,
  RandomCrop(48, padding=4, reflect) via numpy pad, ToTensor, Normalize; DataLoader collates.

Prints images/s for each, and the share of a training step that our input pipeline takes
(the issue's goal: under 5%).

    python benchmarks/bench_training.py --data ../shared/fer2013 --models shallow_cnn --steps 6
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F

from fermbench.data import folder_source
from fermbench.data.fer2013 import load_split
from fermbench.labels import NORM_MEAN, NORM_STD
from fermbench.training.augment import epoch_plan, normalize
from fermbench.training.trainer import augment_epoch, describe_device, pick_device
from fermbench.zoo import MODEL_NAMES, build_model

BATCH = 256
PADDING = 4


class NaiveImageFolder(torch.utils.data.Dataset):
    """One JPEG per __getitem__, transformed image by image, as torchvision would."""

    def __init__(self, files):
        self.files = files

    def __len__(self):
        return len(self.files)

    def __getitem__(self, i):
        from PIL import Image

        f = self.files[i]
        img = Image.open(f.path).convert("L")
        if random.random() < 0.5:  # RandomHorizontalFlip
            img = img.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        padded = Image.fromarray(np.pad(np.asarray(img), PADDING, mode="reflect"))  # RandomCrop padding
        y0, x0 = random.randint(0, 2 * PADDING), random.randint(0, 2 * PADDING)
        img = padded.crop((x0, y0, x0 + 48, y0 + 48))
        x = torch.from_numpy(np.array(img, dtype=np.uint8)).float().div(255).unsqueeze(0)  # ToTensor
        return (x - NORM_MEAN) / NORM_STD, f.label  # Normalize


def make_step(name, device, precision, channels_last):
    model = build_model(name, seed=0).to(device).train()
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    opt = torch.optim.Adam(model.parameters(), lr=1e-4, weight_decay=1e-4, fused=True)

    def step(x, y):
        if channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=precision == "bf16"):
            logits = model(x)
        loss = F.cross_entropy(logits.float(), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_value_(model.parameters(), 0.1)
        opt.step()
        return loss

    return step


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def ours_batches(images, labels, device, channels_last):
    """Endless batches exactly as the trainer makes them: each epoch augmented at its start
    (trainer.augment_epoch), then one normalisation per batch."""
    epoch = 0
    while True:
        epoch += 1
        shuffled, shuffled_labels = augment_epoch(images, labels, epoch_plan(len(labels), 0, epoch, PADDING), PADDING)
        for lo in range(0, len(labels) - BATCH + 1, BATCH):
            yield normalize(shuffled[lo : lo + BATCH], channels_last), shuffled_labels[lo : lo + BATCH]


def naive_batches(files, workers, device):
    """Endless batches through the naive pipeline; worker processes stay up between passes."""
    loader = torch.utils.data.DataLoader(
        NaiveImageFolder(files),
        batch_size=BATCH,
        shuffle=True,
        num_workers=workers,
        drop_last=True,
        persistent_workers=workers > 0,
        pin_memory=device.type == "cuda",
    )
    while True:
        for x, y in loader:
            yield x.to(device, non_blocking=True), y.to(device, non_blocking=True)


def block_seconds(batches, step, n, device) -> float:
    """Seconds for `n` steps (fetch the next batch, train on it), synchronised once at the end as
    a training loop would be; `step` None times the input pipeline alone."""
    sync(device)
    start = time.perf_counter()
    for _ in range(n):
        x, y = next(batches)
        if step:
            step(x, y)
    sync(device)
    return time.perf_counter() - start


def compare(pipelines: dict, step, rounds: int, per_round: int, device) -> dict[str, float]:
    """images/s per pipeline: the median over rounds that alternate the pipelines (so a neighbour's
    load on a shared machine hits all of them alike) of each round's throughput."""
    rates = {name: [] for name in pipelines}
    for batches in pipelines.values():
        block_seconds(batches, step, 2, device)  # warm-up: workers start, kernels get chosen
    for _ in range(rounds):
        for name, batches in pipelines.items():
            rates[name].append(per_round * BATCH / block_seconds(batches, step, per_round, device))
    return {name: statistics.median(r) for name, r in rates.items()}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="../shared/fer2013", help="FER-2013 image-folder root")
    ap.add_argument("--models", nargs="+", default=list(MODEL_NAMES))
    ap.add_argument("--steps", type=int, default=3, help="timed steps per pipeline per round")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--precision", choices=["fp32", "bf16"], default="bf16")
    ap.add_argument("--channels-last", action=argparse.BooleanOptionalAction, default=True)
    ap.add_argument("--naive-workers", type=int, nargs="+", default=[0, 2])
    ap.add_argument("--device", default="auto")
    ap.add_argument("--json", help="also write the figures to this file")
    args = ap.parse_args()

    device = pick_device(args.device)
    start = time.perf_counter()
    train = load_split(args.data, "Training")
    load_s = time.perf_counter() - start
    images, labels = train.images.to(device), train.labels.to(device)
    files = [f for f in folder_source.scan(Path(args.data)) if f.split == "Training"]
    print(
        f"device: {describe_device(device)}; torch {torch.__version__}; {args.precision}"
        f"{' channels_last' if args.channels_last else ''}; batch {BATCH}; {args.rounds}x{args.steps} timed steps per pipeline"
    )
    print(
        f"Training split: {len(train)} images, loaded in {load_s:.2f} s ({'cache' if train.from_cache else 'decoded'})"
    )

    figures = {
        "device": describe_device(device),
        "precision": args.precision,
        "channels_last": args.channels_last,
        "load_s": load_s,
        "pipeline": {},
        "models": {},
    }

    def pipelines():
        made = {"ours": ours_batches(images, labels, device, args.channels_last)}
        for w in args.naive_workers:
            made[f"naive_w{w}"] = naive_batches(files, w, device)
        return made

    # alone: a whole epoch per round, so our once-per-epoch augmentation is in every round and
    # a DataLoader's prefetched batches cannot pass for its steady rate
    alone = compare(pipelines(), None, args.rounds, len(labels) // BATCH, device)
    figures["pipeline"] = alone
    print("input pipeline alone: " + "; ".join(f"{k} {v:,.0f} img/s" for k, v in alone.items()))
    for name in args.models:
        step = make_step(name, device, args.precision, args.channels_last)
        got = compare(pipelines(), step, args.rounds, args.steps, device)
        share = got["ours"] / alone["ours"]  # our pipeline's time per image / a whole step's
        figures["models"][name] = {**got, "pipeline_share": share}
        print(
            f"{name:12} ours {got['ours']:8,.0f} img/s (input pipeline {share:.1%} of a step)"
            + "".join(f" | {k} {v:8,.0f} img/s ({got['ours'] / v:.2f}x)" for k, v in got.items() if k != "ours"),
            flush=True,
        )
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(figures, fh, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
