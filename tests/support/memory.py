"""The domain's MemoryStore as tests read it."""

from __future__ import annotations

import copy
from typing import Any

from domain.memory import MemoryStore


def snapshot(store: MemoryStore) -> tuple[Any, ...]:
    """Everything the store holds, to show that something (a refusal, a stale click) changed nothing."""
    return (
        {key: value.data for key, value in store.quotes.items()},
        copy.deepcopy(store.subs),
        len(store.events),
        copy.deepcopy(store.keys),
        copy.deepcopy(store.delegations),
    )
