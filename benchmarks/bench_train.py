"""Training speed: the tutorial's loop as written vs our trainer, side by side in one process.

    python -m benchmarks.bench_train --data-dir ../shared/data [--steps 300] [--rounds 5] [--recipe stable]
        [--step autograd]

(a) tutorial: torchvision DataLoader with ToTensor + Normalize, Sigmoid + BCELoss, batch 100, G not detached.
(b) ours: gan.train.train_epoch on the whole set held as one tensor, same math.
Rounds alternate a and b so machine noise hits both. Then three full `gan.train` epochs on real MNIST
(export, sample grid, metrics, checkpoint included) are timed against the tutorial's epoch.
What it prints also goes to benchmarks/results/bench_train.txt.
"""

import argparse
import dataclasses
import statistics
import sys
import tempfile
import time

import torch
from torch import nn

from benchmarks.bench_app import results_file
from gan.config import STEPS, TrainConfig
from gan.data import load_mnist, normalise
from gan.models import Discriminator, Generator
from gan.step import build_gan
from gan.train import pick_device, train, train_epoch


def tutorial_loop(data_dir: str, steps: int, device: torch.device) -> float:
    """The tutorial's training loop, verbatim in substance; returns images/s."""
    from torchvision import datasets, transforms

    batch_size, latent_size = 100, 100
    transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5,), (0.5,))])
    dataset = datasets.MNIST(data_dir, train=True, download=False, transform=transform)
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


def our_loop(
    data: torch.Tensor, steps: int, device: torch.device, recipe: str = "tutorial", step: str = "fast"
) -> float:
    cfg = TrainConfig(steps_per_epoch=steps, progress=False, recipe=recipe, step=step).resolved()
    gan = build_gan(cfg, device)
    start = time.perf_counter()
    record = train_epoch(gan, data, cfg, 1)
    if device.type == "cuda":
        torch.cuda.synchronize()
    return record["steps"] * cfg.batch_size / (time.perf_counter() - start)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_train", description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", default="data")
    parser.add_argument("--steps", type=int, default=300, help="steps per timed loop (default: 300)")
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds of (a) and (b) (default: 5)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument(
        "--recipe", default="tutorial", help="our trainer's recipe (stable adds the R1 penalty's extra pass through D)"
    )
    parser.add_argument("--step", default="fast", choices=STEPS, help="our trainer's step (default: fast)")
    parser.add_argument("--full-epochs", type=int, default=3, help="whole gan.train epochs to time (0 = skip)")
    args = parser.parse_args(argv)
    device = pick_device(args.device)
    print(f"{time.strftime('%Y-%m-%d %H:%M')}  python -m benchmarks.bench_train {' '.join(sys.argv[1:])}")
    print(
        f"device {device}, torch {torch.__version__}, {torch.get_num_threads()} threads, "
        f"our recipe: {args.recipe}, our step: {args.step}"
    )
    data = normalise(load_mnist(args.data_dir, train=True)[0]).to(device)
    our_loop(data, 20, device, args.recipe, args.step)  # warm-up
    tutorial, ours = [], []
    for round_ in range(args.rounds):
        tutorial.append(tutorial_loop(args.data_dir, args.steps, device))
        ours.append(our_loop(data, args.steps, device, args.recipe, args.step))
        print(
            f"round {round_ + 1}: tutorial {tutorial[-1]:,.0f} img/s, ours {ours[-1]:,.0f} img/s, "
            f"ratio {ours[-1] / tutorial[-1]:.2f}x"
        )
    t_med, o_med = statistics.median(tutorial), statistics.median(ours)
    print(
        f"training loop, median of {args.rounds}: tutorial {t_med:,.0f} img/s | ours {o_med:,.0f} img/s | "
        f"ratio {o_med / t_med:.2f}x"
    )

    if args.full_epochs:
        with tempfile.TemporaryDirectory() as out:
            cfg = dataclasses.replace(
                TrainConfig(), epochs=args.full_epochs, data_dir=args.data_dir, out=out, device=str(device),
                progress=False, recipe=args.recipe, step=args.step,
            ).resolved()  # fmt: skip
            metrics = train(cfg)
        tutorial_epoch = 60_000 / t_med
        for record in metrics["epochs"]:
            eval_seconds = record.get("eval_seconds", 0.0)
            export_seconds = record["epoch_seconds"] - record["train_seconds"] - eval_seconds
            print(
                f"gan.train epoch {record['epoch']}: {record['epoch_seconds']:.2f} s whole epoch = "
                f"{record['train_seconds']:.2f} s training + {export_seconds:.2f} s export and sample grid "
                f"+ {eval_seconds:.2f} s FID/IS"
            )
        whole = statistics.median(r["epoch_seconds"] - r.get("eval_seconds", 0.0) for r in metrics["epochs"])
        with_eval = statistics.median(r["epoch_seconds"] for r in metrics["epochs"])
        print(
            f"whole epoch after start-up (median): gan.train {whole:.2f} s ({with_eval:.2f} s with the per-epoch "
            f"FID/IS) vs the tutorial's {tutorial_epoch:.2f} s | ratio {tutorial_epoch / whole:.2f}x "
            f"({tutorial_epoch / with_eval:.2f}x with FID/IS)"
        )
    return 0


if __name__ == "__main__":
    with results_file("bench_train"):
        status = main()
    sys.exit(status)
