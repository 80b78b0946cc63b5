"""Generator weights on the Hugging Face Hub.

resolve: weights for the app (a run folder or a repo id);  upload: the background uploader, push and pull;
space: the app deployed as a Gradio Space;  cli: `python -m gan.hub`.
"""

from gan.hub.cli import main
from gan.hub.repo import REPO_ID, check_layout, check_repo_id, local_epochs
from gan.hub.resolve import WEIGHTS_PATTERNS, resolve_weights
from gan.hub.space import DeployReport, deploy_space, space_files
from gan.hub.upload import EpochUploader, PushReport, pull, push, remote_epochs

__all__ = [
    "REPO_ID",
    "WEIGHTS_PATTERNS",
    "DeployReport",
    "EpochUploader",
    "PushReport",
    "check_layout",
    "check_repo_id",
    "deploy_space",
    "local_epochs",
    "main",
    "pull",
    "push",
    "remote_epochs",
    "resolve_weights",
    "space_files",
]
