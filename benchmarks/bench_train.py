"""Training speed: the tutorial's loop as written vs our trainer, side by side in one process.

    python benchmarks/bench_train.py --data-dir ../shared/data [--steps 300] [--rounds 5] [--recipe stable]

(a) tutorial: torchvision DataLoader with ToTensor + Normalize, Sigmoid + BCELoss, batch 100, G not detached.
(b) ours: gan.train.train_epoch on the whole set held as one tensor, same math.
Rounds alternate a and b so machine noise hits both. Then three full `gan.train` epochs on real MNIST
(export, sample grid, metrics, checkpoint included) are timed against the tutorial's epoch.
"""

import argparse
import dataclasses
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gan.data import load_mnist, normalise  # noqa: E402
from gan.models import Discriminator, Generator  # noqa: E402
from gan.train import TrainConfig, build_gan, pick_device, train, train_epoch  # noqa: E402


def tutorial_loop(data_dir: str, steps: int, device: torch.device) -> float:
    """The tutorial's training loop, verbatim in substance; returns images/s."""
    from torchvision import datasets, transforms

    batch_size, latent_size = 100, 100
    dataset = datasets.MNIST(data_dir, train=True, download=False,
                             transform=transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5,), (0.5,))]))  # fmt: skip
    loader = torch.utils.data.DataLoader(dataset, batch_size=batch_size, shuffle=True)
    D, G = Discriminator().to(device), Generator().to(device)  # noqa: N806 (the tutorial's names)
    criterion = nn.BCELoss()
    d_optimizer = torch.optim.Adam(D.parameters(), lr=0.0002)
    g_optimizer = torch.optim.Adam(G.parameters(), lr=0.0002)
    start, done = time.perf_counter(), 0
    for real_images, _ in loader:
        real_images = real_images.reshape(batch_size, -1).to(device)
        real_labels = torch.ones(batch_size, 1).to(device)
        fake_labels = torch.zeros(batch_size, 1).to(device)
        d_loss_real = criterion(D(real_images), real_labels)
        z = torch.randn(batch_size, latent_size).to(device)
        d_loss_fake = criterion(D(G(z)), fake_labels)
        d_loss = d_loss_real + d_loss_fake
        d_optimizer.zero_grad()
        g_optimizer.zero_grad()
        d_loss.backward()
        d_optimizer.step()
        z = torch.randn(batch_size, latent_size).to(device)
        g_loss = criterion(D(G(z)), real_labels)
        d_optimizer.zero_grad()
        g_optimizer.zero_grad()
        g_loss.backward()
        g_optimizer.step()
        done += 1
        if done == steps:
            break
    if device.type == "cuda":
        torch.cuda.synchronize()
    return done * batch_size / (time.perf_counter() - start)


def our_loop(data: torch.Tensor, steps: int, device: torch.device, recipe: str = "tutorial") -> float:
    cfg = TrainConfig(steps_per_epoch=steps, progress=False, recipe=recipe).resolved()
    gan = build_gan(cfg, device)
    start = time.perf_counter()
    record = train_epoch(gan, data, cfg, 1)
    if device.type == "cuda":
        torch.cuda.synchronize()
    return record["steps"] * cfg.batch_size / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", default="data")
    parser.add_argument("--steps", type=int, default=300, help="steps per timed loop (default: 300)")
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds of (a) and (b) (default: 5)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument(
        "--recipe", default="tutorial", help="our trainer's recipe (stable adds the R1 penalty's extra pass through D)"
    )
    parser.add_argument("--full-epochs", type=int, default=3, help="whole gan.train epochs to time (0 = skip)")
    args = parser.parse_args()
    device = pick_device(args.device)
    print(f"device {device}, torch {torch.__version__}, {torch.get_num_threads()} threads, our recipe: {args.recipe}")
    data = normalise(load_mnist(args.data_dir, train=True)[0]).to(device)
    our_loop(data, 20, device, args.recipe)  # warm-up
    tutorial, ours = [], []
    for round_ in range(args.rounds):
        tutorial.append(tutorial_loop(args.data_dir, args.steps, device))
        ours.append(our_loop(data, args.steps, device, args.recipe))
        print(
            f"round {round_ + 1}: tutorial {tutorial[-1]:,.0f} img/s, ours {ours[-1]:,.0f} img/s, ratio {ours[-1] / tutorial[-1]:.2f}x"
        )
    t_med, o_med = statistics.median(tutorial), statistics.median(ours)
    print(
        f"training loop, median of {args.rounds}: tutorial {t_med:,.0f} img/s | ours {o_med:,.0f} img/s | ratio {o_med / t_med:.2f}x"
    )

    if args.full_epochs:
        with tempfile.TemporaryDirectory() as out:
            cfg = dataclasses.replace(TrainConfig(), epochs=args.full_epochs, data_dir=args.data_dir, out=out,
                                      device=str(device), progress=False, recipe=args.recipe).resolved()  # fmt: skip
            metrics = train(cfg)
        tutorial_epoch = 60_000 / t_med
        for record in metrics["epochs"]:
            eval_seconds = record.get("eval_seconds", 0.0)
            print(f"gan.train epoch {record['epoch']}: {record['epoch_seconds']:.2f} s whole epoch = {record['train_seconds']:.2f} s training "
                  f"+ {record['epoch_seconds'] - record['train_seconds'] - eval_seconds:.2f} s export/grid/metrics/checkpoint + {eval_seconds:.2f} s FID/IS")  # fmt: skip
        whole = statistics.median(r["epoch_seconds"] - r.get("eval_seconds", 0.0) for r in metrics["epochs"])
        with_eval = statistics.median(r["epoch_seconds"] for r in metrics["epochs"])
        print(
            f"whole epoch after start-up (median): gan.train {whole:.2f} s ({with_eval:.2f} s with the per-epoch FID/IS) "
            f"vs the tutorial's {tutorial_epoch:.2f} s | ratio {tutorial_epoch / whole:.2f}x ({tutorial_epoch / with_eval:.2f}x with FID/IS)"
        )


if __name__ == "__main__":
    main()
