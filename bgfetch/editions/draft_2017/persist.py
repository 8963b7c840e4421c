"""What a stored user agent remembers of this edition's concepts: nothing yet.

The current edition keeps its background fetches in a store and restores them after
a restart (its persist.py); this edition does not yet, and refuses a store rather
than lose what it downloads.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bgfetch.store.sqlite import StoreError

from .concepts import BackgroundFetch

if TYPE_CHECKING:
    from bgfetch.useragent import UserAgent


def restore(user_agent: UserAgent) -> list[BackgroundFetch]:
    """Every background fetch the store holds: none, as this edition keeps no store."""
    if user_agent.store.persistent:
        raise StoreError(
            f"the {user_agent.edition.NAME} edition cannot keep its background fetches in "
            "a store yet (store=None keeps them in memory)"
        )
    return []
