"""The wheel installs cleanly: built from exactly what the Dockerfile copies, it holds only ``cloudoptima*``
top-level packages (nothing generic such as ``tools`` or ``tests`` lands in site-packages), every file of those
packages (migrations, runbooks, eval data included), and the eval data loads from an installed copy.

All of it runs offline: the build uses the venv's setuptools (``--no-build-isolation``) and the install reads
only the built wheel (``--no-index --no-deps``).
"""

from __future__ import annotations

import configparser
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
APP_LAYERS = {
    "cloudoptima",
    "cloudoptima_tools",
    "cloudoptima_mcp",
    "cloudoptima_agents",
    "cloudoptima_workflows",
    "cloudoptima_gateway",
    "cloudoptima_evals",
}
"""The packages docs/packaging.md names; others may be added, always under a ``cloudoptima`` name."""


def _docker_copies() -> list[str]:
    """The sources of the final stage's ``COPY`` lines after the lock files: the image's build context (an
    earlier stage, such as the web console's build, is not the Python package's)."""
    sources: list[str] = []
    for line in (ROOT / "Dockerfile").read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if parts[:1] == ["FROM"]:
            sources = []
        if parts[:1] == ["COPY"] and not any(p.startswith("--") for p in parts[1:]):
            sources.extend(parts[1:-1])
    return [s for s in sources if s != "requirements"]


def _repo_packages() -> set[str]:
    """Top-level importable packages of the repository named ``cloudoptima*``."""
    return {p.parent.name for p in ROOT.glob("cloudoptima*/__init__.py")}


def _files_under(root: Path, tops: set[str]) -> set[str]:
    """Every file of the packages ``tops`` under ``root``, as wheel-style relative paths (no bytecode)."""
    return {
        path.relative_to(root).as_posix()
        for top in tops
        for path in (root / top).rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, set[str]]:
    """(wheel, the build context copied as the Dockerfile copies it, the package names in that context)."""
    work = tmp_path_factory.mktemp("wheel")
    context = work / "context"
    context.mkdir()
    for source in _docker_copies():
        origin = ROOT / source
        if origin.is_dir():
            shutil.copytree(origin, context / source, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(origin, context / source)
    packages = {p.parent.name for p in context.glob("*/__init__.py")}
    dist = work / "dist"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            str(context),
            "-w",
            str(dist),
        ],
        check=True,
        cwd=work,
    )
    (wheel,) = dist.glob("cloudoptima-*.whl")
    return wheel, context, packages


def test_the_image_copies_every_package_and_no_tests() -> None:
    copies = _docker_copies()
    assert "tests" not in copies
    assert {"pyproject.toml", "README.md"} <= set(copies)
    assert {c for c in copies if c.startswith("cloudoptima")} == _repo_packages()
    assert _repo_packages() >= APP_LAYERS


def test_the_wheel_holds_only_cloudoptima_packages(built: tuple[Path, Path, set[str]]) -> None:
    wheel, _, packages = built
    with zipfile.ZipFile(wheel) as archive:
        tops = {name.split("/", 1)[0] for name in archive.namelist()}
    dist_info = {t for t in tops if t.endswith(".dist-info")}
    assert len(dist_info) == 1
    assert tops - dist_info == packages
    assert all(top.startswith("cloudoptima") for top in tops - dist_info)
    assert tops >= APP_LAYERS


def test_the_wheel_holds_every_file_of_its_packages(built: tuple[Path, Path, set[str]]) -> None:
    """Modules, migrations, runbooks and eval data: what is in the source packages is in the wheel."""
    wheel, context, packages = built
    with zipfile.ZipFile(wheel) as archive:
        shipped = {name for name in archive.namelist() if not name.split("/", 1)[0].endswith(".dist-info")}
    assert shipped == _files_under(context, packages)
    # the files the running product reads besides modules, named so that a glob change cannot hide them
    assert "cloudoptima/storage/migrations/script.py.mako" in shipped
    assert "cloudoptima/storage/migrations/versions/0001_initial.py" in shipped
    assert (
        len([n for n in shipped if n.startswith("cloudoptima_agents/runbook/") and n.endswith(".md")]) >= 14
    )
    assert "cloudoptima_evals/data/nab_dev/windows.json" in shipped
    assert "cloudoptima_evals/data/nab_dev/LICENSE.txt" in shipped
    assert (
        len([n for n in shipped if n.startswith("cloudoptima_evals/data/nab_dev/") and n.endswith(".csv")])
        == 28
    )
    assert "cloudoptima_evals/data/m4_weekly/Weekly-train.csv" in shipped
    assert "cloudoptima_evals/data/prophet/LICENSE" in shipped


def test_the_console_script_points_into_the_wheel(built: tuple[Path, Path, set[str]]) -> None:
    wheel, _, packages = built
    with zipfile.ZipFile(wheel) as archive:
        (entry_points,) = [n for n in archive.namelist() if n.endswith(".dist-info/entry_points.txt")]
        parser = configparser.ConfigParser()
        parser.read_string(archive.read(entry_points).decode())
    target = parser["console_scripts"]["cloudoptima"]
    assert target.split(":", 1)[0].split(".", 1)[0] in packages


def test_the_eval_data_loads_from_an_installed_copy(
    built: tuple[Path, Path, set[str]], tmp_path: Path
) -> None:
    """Installed with ``--target`` and imported with no source tree and no editable finder on the path."""
    wheel, _, _ = built
    target = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-index",
            "--no-deps",
            "--target",
            str(target),
            str(wheel),
        ],
        check=True,
    )
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    # -S: no site module, so the venv's .pth files (the editable install's finder) never run; -I: no PYTHONPATH
    # and no script directory. The path is the installed copy, then the venv's third-party libraries.
    script = (
        "import sys; sys.path[:0] = sys.argv[1:3];"
        "import cloudoptima_evals.data as data, cloudoptima_evals.nab as nab;"
        "corpus = nab.load_corpus(data.nab_dev());"
        "print(data.__file__); print(data.nab_dev()); print(len(corpus)); print(sum(len(s.values) for s in corpus))"
    )
    result = subprocess.run(
        [sys.executable, "-I", "-S", "-c", script, str(target), sysconfig.get_paths()["purelib"]],
        cwd=elsewhere,
        check=True,
        capture_output=True,
        text=True,
    )
    module, nab_dir, series, points = result.stdout.split()
    assert Path(module).is_relative_to(target)
    assert Path(nab_dir) == target / "cloudoptima_evals" / "data" / "nab_dev"
    assert int(series) == 28
    assert int(points) > 28 * 1000
