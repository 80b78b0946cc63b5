"""Per-epoch Generator weights on the Hugging Face Hub: the repo layout is the weights folder's layout.

    python -m gan.hub push runs/mnist USER/REPO      # upload what is missing or changed
    python -m gan.hub pull USER/REPO --epochs 1 5 10 # download into the cache, print the folder
    python -m gan.hub card runs/mnist                 # write the root model card of a weights folder
    python -m gan.hub space USER/NAME                 # deploy the app as a Gradio Space (only what changed)

The token comes from HF_TOKEN or the login cache (`hf auth login`), never from a flag.
"""

import argparse
from pathlib import Path

from gan.card import write_card
from gan.hub.repo import check_layout, check_repo_id
from gan.hub.space import WEIGHTS_FOLDER, WEIGHTS_VARIABLE, deploy_space, space_payload
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
    space_parser = commands.add_parser("space", help="create or update a Gradio Space running this app")
    space_parser.add_argument("repo_id", help="USER/NAME of the Space (created if needed)")
    space_parser.add_argument("--private", action="store_true", help="create the Space private")
    space_parser.add_argument(
        "--weights-repo",
        metavar="USER/REPO",
        help=f"serve this weights repo (Space variable {WEIGHTS_VARIABLE}) instead of uploading {WEIGHTS_FOLDER}/",
    )
    space_parser.add_argument(
        "--dry-run", action="store_true", help="list the files a deploy sends, with sizes; contact nobody"
    )
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
    elif args.command == "space":
        space(args.repo_id, args.private, args.weights_repo, args.dry_run)
    else:
        if args.repo_id:
            check_repo_id(args.repo_id)
        folder = Path(args.weights_dir)
        check_layout(folder, str(folder))
        print(write_card(folder, args.repo_id, read_metrics(folder)))
    return 0


def space(repo_id: str, private: bool, weights_repo: str | None, dry_run: bool) -> None:
    """Deploy (or with `dry_run`, list what a deploy sends) and print what happened, then the Space's URL."""
    check_repo_id(repo_id)
    if weights_repo is not None:
        check_repo_id(weights_repo)
    if dry_run:
        payload = space_payload(weights_repo=weights_repo)
        for path, data in payload.items():
            print(f"{len(data):>12,}  {path}")
        total = sum(map(len, payload.values()))
        print(f"{len(payload)} files, {total:,} bytes ({total / 2**20:.1f} MiB) would go to {repo_id}")
        return
    report = deploy_space(repo_id, private=private, weights_repo=weights_repo)
    if report.commit is None and not report.deleted:
        print(f"nothing changed ({report.unchanged} files already on the Space)")
    else:
        print(
            f"uploaded {len(report.uploaded)} files, removed {len(report.deleted)} ({report.unchanged} unchanged), "
            f"commit {report.commit[:8]}"
        )
    for line in report.variables:
        print(line)
    print(report.url)
