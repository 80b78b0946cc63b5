"""Where the app runs: on your machine, on the shared Space the deploy command made, or on a duplicate of it.

The deploy (`python -m gan.hub space OWNER/NAME`) records the Space's id in the Space variable GAN_SHARED_SPACE; the
Hub starts every Space with its own id in SPACE_ID. A duplicate copies the variable but has another id.
"""

import os
from collections.abc import Mapping

from gan.hub.space import SHARED_VARIABLE

LOCAL, SHARED, DUPLICATE = "local", "shared", "duplicate"
SHARED_MAX_EPOCHS = 15  # the longest live run the shared Space lets a visitor start (everyone waits for it)


def mode(environ: Mapping[str, str] | None = None) -> str:
    """'local' off a Space, 'shared' on the Space the deploy recorded, 'duplicate' on any other Space."""
    environ = os.environ if environ is None else environ
    space_id = environ.get("SPACE_ID", "")
    if not space_id:
        return LOCAL
    return SHARED if environ.get(SHARED_VARIABLE, "") == space_id else DUPLICATE


def on_space(environ: Mapping[str, str] | None = None) -> bool:
    return mode(environ) != LOCAL
