"""The real-time settlement service (``wzmedins serve``): platform-shaped HTTP/JSON calls —
pre-settle, settle, reverse, look-ups — over one ledger with one writer. Needs the ``service``
extra (FastAPI, uvicorn). See ``docs/service.md``."""

from __future__ import annotations

from .app import ServiceConfig, create_app
from .auth import Caller, KeyStore, add_key, hash_key

__all__ = ["ServiceConfig", "create_app", "Caller", "KeyStore", "add_key", "hash_key"]
