"""Make spyne 2.14 importable on Python 3.12 and newer.

spyne 2.14 (its last release) bundles a copy of ``six`` whose meta-path
importer only implements the PEP 302 ``find_module``/``load_module`` pair.
Python 3.12 stopped calling those, so ``import spyne`` fails with
``No module named 'spyne.util.six.moves'``. This module loads spyne's bundled
``six`` on its own (without running ``spyne/__init__``), gives its importer the
PEP 451 methods ``find_spec``, ``create_module`` and ``exec_module`` (as
upstream six 1.16 does), and leaves it in ``sys.modules`` so spyne picks it up.

Python 3.13 also removed the ``cgi`` module spyne uses; the ``legacy-cgi``
distribution (a dependency on 3.13+) provides it under the same name.

Call :func:`install` before the first ``import spyne``; it is idempotent.
"""

from __future__ import annotations

import importlib.util
import sys

_SIX_NAME = "spyne.util.six"


def _find_spec(self, fullname, path=None, target=None):
    if fullname in self.known_modules:
        return importlib.util.spec_from_loader(fullname, self)
    return None


def _create_module(self, spec):
    return self.load_module(spec.name)


def _exec_module(self, module):
    """Modules are fully created by ``create_module``."""


def install() -> None:
    """Patch spyne's bundled six importer; a no-op once spyne is imported."""
    if _SIX_NAME in sys.modules or "spyne" in sys.modules:
        return
    package = importlib.util.find_spec("spyne")
    if package is None or not package.submodule_search_locations:
        raise ImportError("spyne is not installed")
    location = package.submodule_search_locations[0]
    spec = importlib.util.spec_from_file_location(_SIX_NAME, f"{location}/util/six.py")
    six = importlib.util.module_from_spec(spec)
    sys.modules[_SIX_NAME] = six
    spec.loader.exec_module(six)
    importer = type(six._importer)
    importer.find_spec = _find_spec
    importer.create_module = _create_module
    importer.exec_module = _exec_module
