"""Per-epoch Generator weights on the Hugging Face Hub: the repo layout is the weights folder's layout.

    python -m gan.hub push runs/mnist USER/REPO      # upload what is missing or changed
    python -m gan.hub pull USER/REPO --epochs 1 5 10 # download into the cache, print the folder
    python -m gan.hub card runs/mnist                 # write the root model card of a weights folder

The token comes from HF_TOKEN or the login cache (`hf auth login`), never from a flag.
"""

import argparse
from pathlib import Path

from gan.card import write_card
from gan.hub.repo import check_layout, check_repo_id
from gan.hub.upload import pull, push
from gan.layout import CARD, METRICS, SAMPLES, read_metrics


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gan.hub", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    push_parser = commands.add_parser("push", help="upload a weights folder (only files missing or changed on the Hub)")
    push_parser.add_argument("weights_dir", help=f"folder with epoch-NNN/, {SAMPLES}/, {METRICS} (a training --out)")
    push_parser.add_argument("repo_id", help="USER/REPO (created if needed)")
    pull_parser = commands.add_parser("pull", help="download a weights repo into the cache and print its folder")
    pull_parser.add_argument("repo_id", help="USER/REPO")
    pull_parser.add_argument("--epochs", type=int, nargs="+", help="only these epochs (default: all)")
    card_parser = commands.add_parser("card", help=f"write the root model card {CARD} of a weights folder")
    card_parser.add_argument("weights_dir")
    card_parser.add_argument("--repo-id", help="USER/REPO shown in the loading example (default: a placeholder)")
    args = parser.parse_args(argv)

    if args.command == "push":
        report = push(args.weights_dir, args.repo_id)
        if report.commit is None:
            print(f"{args.repo_id} is up to date ({report.unchanged} files unchanged)")
        else:
            print(
                f"pushed {len(report.uploaded)} files to {args.repo_id} ({report.unchanged} unchanged), "
                f"commit {report.commit[:8]}"
            )
    elif args.command == "pull":
        print(pull(args.repo_id, args.epochs))
    else:
        if args.repo_id:
            check_repo_id(args.repo_id)
        folder = Path(args.weights_dir)
        check_layout(folder, str(folder))
        print(write_card(folder, args.repo_id, read_metrics(folder)))
    return 0
