"""Fixtures for the DNS engine's tests: a real BIND per xdist worker.

moto (for Route 53) is in tests/conftest.py.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path


def _load(name: str, file: str):
    # Test dirs are not packages (--import-mode=importlib): load helpers by path, once.
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name(file))
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


bind = _load("zones_bind_server", "bind_server.py")
bind_server = bind.bind_server
bind_zone = bind.bind_zone
# Loaded here so test modules can `from zones_test_helpers import ...`.
_load("zones_test_helpers", "helpers.py")
