"""spyne 2.14 works, through gateway.spyne_compat, on every Python 3.11+ on this machine.

Each interpreter gets its own virtualenv (cached in .venv-compat/) with the package
installed from this checkout; the hub's WSDL built there must equal wsdl/.
"""

from __future__ import annotations

import glob
import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
CACHE = ROOT / ".venv-compat"

CHECK = """
import warnings, sys
warnings.simplefilter("error", ImportWarning)
from gateway.settings import Settings
from gateway.soap.application import interface_document
sys.stdout.buffer.write(interface_document(Settings()))
"""


def interpreters() -> dict[str, str]:
    """One interpreter per minor version 3.11-3.13 found on PATH or under pyenv."""
    found: dict[str, str] = {}
    candidates = [shutil.which(f"python3.{minor}") for minor in (11, 12, 13)]
    candidates += sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.1[123].*/bin/python3")))
    for path in filter(None, candidates):
        try:
            version = subprocess.run(
                [path, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                capture_output=True,
                text=True,
                timeout=30,
                check=True,
            ).stdout.strip()
        except (subprocess.SubprocessError, OSError):
            continue
        found.setdefault(version, path)
    return found


INTERPRETERS = interpreters()


@pytest.mark.slow
@pytest.mark.parametrize("version", sorted(INTERPRETERS) or ["none"])
def test_the_hub_builds_its_contract_on_every_python(version, tmp_path):
    if version == "none":
        pytest.skip("no Python 3.11-3.13 interpreter found")
    venv = _venv(version, INTERPRETERS[version])
    result = subprocess.run(
        [str(venv / "bin" / "python"), "-c", CHECK],
        capture_output=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr.decode()
    assert result.stdout == (ROOT / "wsdl" / "lienthong.wsdl").read_bytes()


def test_this_interpreter_imports_spyne_without_warnings():
    result = subprocess.run(
        [
            sys.executable,
            "-W",
            "error::ImportWarning",
            "-c",
            "import gateway.soap, spyne.util.six.moves; from spyne import Application",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr


def _venv(version: str, interpreter: str) -> Path:
    """A virtualenv for ``version`` with this checkout installed (dependencies cached)."""
    venv = CACHE / f"py{version}"
    stamp = venv / ".requirements"
    wanted = hashlib.sha256((ROOT / "setup.cfg").read_bytes()).hexdigest()
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet"]
    if not stamp.exists() or stamp.read_text() != wanted:
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run([interpreter, "-m", "venv", str(venv)], check=True, timeout=120)
        subprocess.run([*pip, str(ROOT)], check=True, timeout=900, cwd=ROOT)
        stamp.write_text(wanted)
    else:
        subprocess.run(
            [*pip, "--no-deps", "--force-reinstall", str(ROOT)], check=True, timeout=300, cwd=ROOT
        )
    return venv
