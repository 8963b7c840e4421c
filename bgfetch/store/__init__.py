"""Storage for background fetch bytes, behind one small interface (store.base)."""

from bgfetch.store.base import StorageFull, Store, StoredBytes
from bgfetch.store.memory import MemoryStore

__all__ = ["MemoryStore", "StorageFull", "Store", "StoredBytes"]
