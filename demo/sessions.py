"""Gradio's per-session state without its per-session copy of the whole page's config.

Gradio 6.31 builds, for every new session, the config of every block on the page (`SessionState.__init__` calls
`config_for_block`, so `get_config()` with its `inspect.signature`, for each of them). That copy is read in one
place only, the deep-link route, and Gradio already fills a missing entry where it writes one
(`_update_value_in_config`). With 233 blocks it cost this app about 28 ms of CPU per session: a REST call
without a `session_hash` is a session of its own, so it cost more than drawing a 10x10 grid (2-4 ms), and every
one of the 10,000 sessions Gradio keeps held 233 config dicts. `LazySessionState` builds an entry when it is
first written or read, and the whole copy, in page order, only when the deep-link route asks for it.
"""

import os
from collections.abc import Iterator
from copy import copy
from typing import Any

from gradio import mcp, route_utils, state_holder

__all__ = ["LazyConfigValues", "LazySessionState", "install"]
PATCHED_MODULES = (state_holder, route_utils, mcp)  # each binds the name SessionState for itself
GRADIO_SESSION_STATE = state_holder.SessionState


class LazyConfigValues(dict):
    """`SessionState.config_values`: block id -> config dict, each entry built from the session's block the first
    time it is looked up. Iterating (the deep-link route) yields every block's entry, in page order."""

    def __init__(self, session: "LazySessionState", ids: set[int]):
        super().__init__()
        self._session, self._ids = session, ids

    def _build(self, key: int) -> dict:
        blocks_config = self._session.blocks_config
        value = blocks_config.config_for_block(key, [], blocks_config.blocks[key])
        super().__setitem__(key, value)
        return value

    def __missing__(self, key: int) -> dict:
        if key not in self._ids or key not in self._session.blocks_config.blocks:
            raise KeyError(key)
        return self._build(key)

    def __contains__(self, key: object) -> bool:
        return super().__contains__(key) or (key in self._ids and key in self._session.blocks_config.blocks)

    def complete(self) -> None:
        """Build every entry not built yet, and put them all in the order of the session's blocks, as Gradio's
        eager copy has them (entries for blocks added later keep their place after those)."""
        blocks = self._session.blocks_config.blocks
        built = dict(super().items())
        ordered = {key: built[key] if key in built else None for key in blocks if key in self._ids}
        ordered.update(built)
        super().clear()
        for key, value in ordered.items():
            if value is None:
                self._build(key)
            else:
                super().__setitem__(key, value)

    def items(self):
        self.complete()
        return super().items()

    def values(self):
        self.complete()
        return super().values()

    def keys(self):
        self.complete()
        return super().keys()

    def __iter__(self) -> Iterator[int]:
        self.complete()
        return super().__iter__()

    def __len__(self) -> int:
        self.complete()
        return super().__len__()


class LazySessionState(GRADIO_SESSION_STATE):
    """Gradio's SessionState with its `config_values` built on demand (LazyConfigValues); the rest of its
    `__init__` as Gradio's (a test compares a fresh instance of each, attribute by attribute)."""

    def __init__(self, blocks: Any):
        self.blocks_config = copy(blocks.default_config)
        self.config_values = LazyConfigValues(self, set(blocks.blocks))
        self.state_data: dict[int, Any] = {}
        self._state_ttl = {}
        self.is_closed = False
        self.STATE_TTL_WHEN_CLOSED = 1 if os.getenv("GRADIO_IS_E2E_TEST", None) else 3600


def install() -> None:
    """Make every new Gradio session in this process a LazySessionState (idempotent)."""
    for module in PATCHED_MODULES:
        if getattr(module, "SessionState", None) in (GRADIO_SESSION_STATE, LazySessionState):
            module.SessionState = LazySessionState
