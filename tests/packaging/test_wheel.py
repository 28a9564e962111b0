"""The wheel is the whole product (issue #19).

The wheel is built from the checkout and installed into a fresh virtualenv outside it, first
without the ``app`` extra, then with it. From another directory, its commands give what the
checkout's give: ``pto-wsp-studio --headless`` prints the sample's stats, ``pto-wsp run`` runs an
installed sample, ``pto-wsp emit --target ascend_npu`` writes the checkout's tree, which passes the
syntax check against the installed stub headers, and the palette lists the kernel library. The
sdist builds a wheel with the same files.

Kept cheap: the checkout's wheel reuses the CMake build directory of the editable install
(``build/{wheel_tag}``, so nothing is recompiled); the sdist is unpacked into one lasting folder,
``build/sdist-check/``, written file by file only where its content changed, so that its own
CMake build is incremental as well (a first run compiles it all once). The virtualenv gets no pip
of its own: the checkout's pip installs into it (``pip --python``).
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SDIST_CHECK = ROOT / "build" / "sdist-check"
SAMPLE = "attention_varlen.pto.json"
CXX = shutil.which("g++")
pytestmark = pytest.mark.slow


# ---- helpers -----------------------------------------------------------------------------------


def run(
    cmd: Sequence[str | Path], cwd: Path, env: dict[str, str] | None = None, ok: bool = True
) -> subprocess.CompletedProcess[str]:
    """Run ``cmd``; with ``ok`` a non-zero exit fails the test with the command's output."""
    res = subprocess.run(
        [str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True, timeout=3600
    )
    if ok:
        assert res.returncode == 0, (
            f"{' '.join(map(str, cmd))}: exit {res.returncode}\n{res.stdout}\n{res.stderr}"
        )
    return res


@contextmanager
def locked(path: Path) -> Iterator[None]:
    """An exclusive lock shared by the pytest-xdist workers (and by concurrent suite runs)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def build_wheel(source: Path, out: Path) -> Path:
    """``pip wheel`` of ``source`` into ``out``, with the checkout's build tools (no isolation:
    the CMake build directory ``source/build/{wheel_tag}`` is reused)."""
    shutil.rmtree(out, ignore_errors=True)
    pip = [sys.executable, "-m", "pip", "wheel", "--no-build-isolation", "--no-deps", "-q"]
    run([*pip, "-w", out, source], cwd=source)
    (wheel,) = out.glob("*.whl")
    return wheel


def wheel_files(wheel: Path) -> list[str]:
    with zipfile.ZipFile(wheel) as zf:
        return sorted(zf.namelist())


def sync_tree(sdist: Path, dest: Path) -> None:
    """Make ``dest`` hold exactly the sdist's files, rewriting only those whose bytes changed
    (they get the current time, so the build in ``dest/build`` sees them as changed)."""
    dest.mkdir(parents=True, exist_ok=True)
    wanted: set[Path] = set()
    with tarfile.open(sdist) as tar:
        for member in tar.getmembers():
            if not member.isfile():
                continue
            rel = Path(*Path(member.name).parts[1:])  # drop "pto_wsp-<version>/"
            assert ".." not in rel.parts, member.name
            wanted.add(rel)
            data = tar.extractfile(member).read()  # type: ignore[union-attr]
            target = dest / rel
            if target.is_file() and target.read_bytes() == data:
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            target.chmod(member.mode & 0o777)
    for path in sorted(dest.rglob("*"), reverse=True):
        rel = path.relative_to(dest)
        if rel.parts[0] == "build":
            continue  # the incremental CMake build of the unpacked sdist
        if path.is_file() and rel not in wanted:
            path.unlink()
        elif path.is_dir() and not any(path.iterdir()):
            path.rmdir()


def clean_env(home: Path) -> dict[str, str]:
    """The environment of a user's shell: no checkout on the path, caches and settings in
    ``home``, no display (``--headless`` and the offscreen palette need none)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME", "DISPLAY", "WAYLAND_DISPLAY")
        and not k.startswith(("PTO_WSP_", "PYTEST_", "QT_"))
    }
    env["HOME"] = str(home)
    env["PTO_WSP_CACHE_DIR"] = str(home / "cache")
    env["PTO_WSP_CONFIG_DIR"] = str(home / "config")
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def checkout_env(home: Path) -> dict[str, str]:
    env = clean_env(home)
    env["PYTHONPATH"] = str(ROOT)
    return env


def deterministic(text: str) -> list[str]:
    """The lines of a headless report but those naming a temporary file or a wall time."""
    varies = ("project:", "script:", "compile_time_ms", "execute_time_ms", "trace ")
    return [ln for ln in text.splitlines() if not ln.strip().startswith(varies)]


def emitted(path: Path) -> str:
    return re.sub(r"pto-wsp-emit-[^/]+/", "pto-wsp-emit-*/", path.read_text())


# ---- the wheel built from the checkout ---------------------------------------------------------


@pytest.fixture(scope="session")
def checkout_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel of the checkout, built once per session for every xdist worker."""
    shared = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        shared = shared.parent
    out = shared / "packaging-wheel"
    with locked(shared / "packaging-wheel.lock"):
        found = sorted(out.glob("*.whl"))
        if not found:
            found = [build_wheel(ROOT, out)]
    return found[0]


def test_the_wheel_installs_two_packages_with_their_data(checkout_wheel: Path) -> None:
    files = wheel_files(checkout_wheel)
    tops = {f.split("/")[0] for f in files if not f.split("/")[0].endswith(".dist-info")}
    assert tops == {"pto_wsp", "pto_wsp_studio"}, tops  # no generic top-level `app`
    for folder, installed in (
        ("app/projects", "pto_wsp_studio/projects"),
        ("app/resources", "pto_wsp_studio/resources"),
        ("pto_wsp/backends/ascend_stubs", "pto_wsp/backends/ascend_stubs"),
    ):
        shipped = {p.relative_to(ROOT / folder).as_posix() for p in (ROOT / folder).rglob("*")}
        shipped = {s for s in shipped if (ROOT / folder / s).is_file() and "__pycache__" not in s}
        assert shipped, folder
        missing = {s for s in shipped if f"{installed}/{s}" not in files}
        assert not missing, f"{folder}: not in the wheel: {sorted(missing)}"
    assert any(f.startswith("pto_wsp/_core.") and f.endswith(".so") for f in files)


def test_installed_wheel_runs_like_the_checkout(checkout_wheel: Path, tmp_path: Path) -> None:
    venv, elsewhere, home = tmp_path / "venv", tmp_path / "elsewhere", tmp_path / "home"
    elsewhere.mkdir()
    env = clean_env(home)
    run([sys.executable, "-m", "venv", "--without-pip", venv], cwd=elsewhere)
    py, bindir = venv / "bin" / "python", venv / "bin"
    pip = [sys.executable, "-m", "pip", "--python", py, "install", "-q", "--no-compile"]

    # -- without the app extra: DSL scripts run, a project file names the extra to install
    run([*pip, checkout_wheel], cwd=elsewhere)
    where = run(
        [py, "-c", "import importlib.resources as r; print(r.files('pto_wsp_studio'))"],
        cwd=elsewhere,
        env=env,
    )
    pkg = Path(where.stdout.strip())
    assert pkg.is_relative_to(venv) and pkg.name == "pto_wsp_studio", pkg
    assert run([py, "-c", "import app"], cwd=elsewhere, env=env, ok=False).returncode != 0
    project = pkg / "projects" / SAMPLE
    res = run([bindir / "pto-wsp", "run", project], cwd=elsewhere, env=env, ok=False)
    assert res.returncode == 1, res
    assert "the 'app' extra" in res.stderr and "pip install 'pto-wsp[app]'" in res.stderr, res
    assert "Traceback" not in res.stderr, res.stderr
    script = pkg / "projects" / "samples" / "attention_varlen.py"
    res = run([bindir / "pto-wsp", "run", script], cwd=elsewhere, env=env)
    assert "total_cycles" in res.stdout, res.stdout

    # -- with it: the main job and every command, compared with the checkout's
    run([*pip, f"{checkout_wheel}[app]"], cwd=elsewhere)
    here = checkout_env(tmp_path / "checkout-home")

    installed = run([bindir / "pto-wsp-studio", "--headless"], cwd=elsewhere, env=env)
    checkout = run([sys.executable, "-m", "app", "--headless"], cwd=ROOT, env=here)
    assert f"project: {project}" in installed.stdout, installed.stdout  # the installed sample
    assert "total_cycles" in installed.stdout, installed.stdout
    assert deterministic(installed.stdout) == deterministic(checkout.stdout)

    stats_i, stats_c = tmp_path / "installed.json", tmp_path / "checkout.json"
    run([bindir / "pto-wsp", "run", project, "--stats", stats_i], cwd=elsewhere, env=env)
    local = ROOT / "app" / "projects" / SAMPLE
    run([sys.executable, "-m", "app.cli", "run", local, "--stats", stats_c], cwd=ROOT, env=here)
    got, want = json.loads(stats_i.read_text()), json.loads(stats_c.read_text())
    for key in ("task_count", "total_cycles"):
        assert got[key] == want[key], (key, got, want)

    tree_i, tree_c = tmp_path / "npu-installed", tmp_path / "npu-checkout"
    emit = ["emit", "--target", "ascend_npu", "-o"]
    run([bindir / "pto-wsp", *emit, tree_i, project], cwd=elsewhere, env=env)
    run([sys.executable, "-m", "app.cli", *emit, tree_c, local], cwd=ROOT, env=here)
    sources = sorted(p.relative_to(tree_i) for p in tree_i.rglob("*") if p.is_file())
    assert sources == sorted(p.relative_to(tree_c) for p in tree_c.rglob("*") if p.is_file())
    for rel in sources:  # byte for byte but the temporary script a kernel's comment names
        assert emitted(tree_i / rel) == emitted(tree_c / rel), rel
    stubs = run(
        [py, "-c", "from pto_wsp.backends.ascend_npu import STUB_HEADERS as s; print(s)"],
        cwd=elsewhere,
        env=env,
    ).stdout.strip()
    assert Path(stubs).is_relative_to(venv) and (Path(stubs) / "acl" / "acl.h").is_file(), stubs
    assert CXX is not None, "g++ checks the emitted sources (and builds every cpu_sim run)"
    checked = [r for r in sources if r.suffix in (".cpp", ".h")]
    assert checked, sources
    for rel in checked:  # the syntax check of the emitted tree, against the installed stubs
        check = [CXX, "-std=c++17", "-fsyntax-only", "-Wall", "-I", stubs, tree_i / rel]
        run(check, cwd=elsewhere, env=env)

    # export, validate, ir, version and the headless sweep's --list, as the checkout's
    script_i, script_c = tmp_path / "exported-installed.py", tmp_path / "exported-checkout.py"
    run([bindir / "pto-wsp", "export", project, "-o", script_i], cwd=elsewhere, env=env)
    run([sys.executable, "-m", "app.cli", "export", local, "-o", script_c], cwd=ROOT, env=here)
    assert script_i.read_text() == script_c.read_text()
    valid_i = run([bindir / "pto-wsp", "validate", project], cwd=elsewhere, env=env).stdout
    valid_c = run([sys.executable, "-m", "app.cli", "validate", local], cwd=ROOT, env=here).stdout
    assert valid_i.replace(str(project), "P") == valid_c.replace(str(local), "P"), valid_i
    ir_i = run([bindir / "pto-wsp", "ir", script_i], cwd=elsewhere, env=env).stdout
    ir_c = run([sys.executable, "-m", "app.cli", "ir", script_c], cwd=ROOT, env=here).stdout
    assert "module" in ir_i and ir_i.replace(str(script_i), "S") == ir_c.replace(str(script_c), "S")
    version = [bindir / "pto-wsp", "version"]
    assert (
        run(version, cwd=elsewhere, env=env).stdout
        == run([sys.executable, "-m", "app.cli", "version"], cwd=ROOT, env=here).stdout
    )
    listed_i = run([py, "-m", "pto_wsp_studio.sweep", project, "--list"], cwd=elsewhere, env=env)
    listed_c = run([sys.executable, "-m", "app.sweep", local, "--list"], cwd=ROOT, env=here)
    assert "dispatch" in listed_i.stdout and listed_i.stdout == listed_c.stdout

    offscreen = {**env, "QT_QPA_PLATFORM": "offscreen"}
    shown = run([py, "-c", PALETTE_KERNELS], cwd=elsewhere, env=offscreen).stdout
    palette = json.loads(shown.strip().splitlines()[-1])
    library = sorted((ROOT / "app" / "resources" / "kernel_library").glob("*.json"))
    assert library and len(palette["library"]) == len(library), palette
    assert set(palette["library"]) <= set(palette["shown"]), palette


PALETTE_KERNELS = """
import json
from PySide6.QtWidgets import QApplication
app = QApplication([])
from pto_wsp_studio.editor.palette import KERNELS_CATEGORY, TYPE_ROLE, Palette, library_entries
palette = Palette()
tree = palette.tree
tops = [tree.topLevelItem(i) for i in range(tree.topLevelItemCount())]
(kernels,) = [t for t in tops if t.text(0) == KERNELS_CATEGORY]
children = [kernels.child(i) for i in range(kernels.childCount())]
print(json.dumps({
    "library": [e.node_type for e in library_entries()],
    "shown": [c.data(0, TYPE_ROLE) for c in children],
}))
"""


# ---- the sdist ---------------------------------------------------------------------------------


def test_the_sdist_builds_a_wheel_with_the_same_files(checkout_wheel: Path, tmp_path: Path) -> None:
    with locked(SDIST_CHECK / "lock"):
        out = SDIST_CHECK / "dist"
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir(parents=True)
        made = run(
            [
                sys.executable,
                "-c",
                "import sys; from scikit_build_core.build import build_sdist; "
                "print(build_sdist(sys.argv[1]))",
                out,
            ],
            cwd=ROOT,
        )
        sdist = out / made.stdout.strip().splitlines()[-1]
        sync_tree(sdist, SDIST_CHECK / "src")
        wheel = build_wheel(SDIST_CHECK / "src", tmp_path / "from-sdist")
    assert wheel.name == checkout_wheel.name
    assert wheel_files(wheel) == wheel_files(checkout_wheel)
