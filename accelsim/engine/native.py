"""The event loop compiled from C (engine/_loop.c) with the machine's C compiler, through ctypes.

A fresh process pays about 0.6 s to start numba even with its cache warm, and the Python loop
a few microseconds per event (0.3 s for ResNet-18's 154,000). The C loop loads in about a
millisecond and runs that program in a few. It is built once per machine and source: the first
program that asks for it compiles `_loop.c` (0.2-1 s with gcc) into the per-user cache
folder beside numba's ($XDG_CACHE_HOME/accelsim/native, else ~/.cache/accelsim/native; never
into the installed package, for the reason given in accelsim/_jit.py), under a name that
hashes the source, the compiler and the platform. Later processes load it from there.
Building a new one removes the folder's libraries that nothing has rebuilt for a week (those
of earlier sources; another environment that still uses one rebuilds it on its next run).

No compiler (or one that fails) is not an error: `available()` is False, says why in
`unavailable_reason()`, and Program.run falls back to numba's or the Python loop, which give
the same results. A failed build leaves a `.failed` file beside the library's name, so that
later processes fall back at once; deleting it tries again. $CC names the compiler
(default: Python's own build compiler when found, else cc); $ACCELSIM_ENGINE=native insists
on this loop and fails with the reason when it cannot be built.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import platform
import shlex
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

import numpy as np

SOURCE = Path(__file__).with_name("_loop.c")
FLAGS = ("-O2", "-std=c99", "-shared", "-fPIC")

_library: ctypes.CDLL | None = None
_reason: str | None = None       # why the loop is unavailable, once a build failed
compile_seconds = 0.0            # spent building in this process (0 when loaded from cache)

_I64 = ctypes.c_int64
_P64 = ctypes.POINTER(ctypes.c_int64)


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "accelsim" / "native"


def _compiler() -> list[str] | None:
    """The C compiler's command: $CC, else Python's build compiler, else cc/gcc/clang."""
    for candidate in (os.environ.get("CC"), sysconfig.get_config_var("CC"), "cc", "gcc",
                      "clang"):
        if not candidate:
            continue
        words = shlex.split(candidate)
        if words and shutil.which(words[0]):
            return words
    return None


def _library_path(compiler: list[str]) -> Path:
    key = hashlib.sha1()
    key.update(SOURCE.read_bytes())
    key.update(" ".join([*compiler, *FLAGS]).encode())
    key.update(f"{sys.platform} {platform.machine()} {ctypes.sizeof(ctypes.c_void_p)}".encode())
    suffix = ".dll" if os.name == "nt" else ".dylib" if sys.platform == "darwin" else ".so"
    return cache_dir() / f"loop-{key.hexdigest()[:16]}{suffix}"


def _build(compiler: list[str], target: Path) -> None:
    """Compile into a temporary file beside the target, then rename it into place, so that
    processes building at the same time never load half a file."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, partial = tempfile.mkstemp(dir=target.parent, suffix=target.suffix)
    os.close(handle)
    try:
        done = subprocess.run([*compiler, *FLAGS, "-o", partial, str(SOURCE)],
                              capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise OSError(f"{' '.join(compiler)} failed: "
                          f"{(done.stderr or done.stdout).strip()[:300]}")
        os.replace(partial, target)
    finally:
        if os.path.exists(partial):
            os.unlink(partial)
    _forget_stale(target)


# Libraries (and failure markers) of other sources or compilers are removed when a new one is
# built, once nothing has written them for this long: another environment on the machine that
# still uses its own rebuilds it on its next run (a fraction of a second).
STALE_SECONDS = 7 * 24 * 3600


def _forget_stale(kept: Path) -> None:
    now = time.time()
    for path in kept.parent.glob("loop-*"):
        if path == kept or not path.is_file():
            continue
        try:
            if now - path.stat().st_mtime > STALE_SECONDS:
                path.unlink()
        except OSError:          # removed by another process meanwhile, or not ours to remove
            pass


def _load() -> ctypes.CDLL | None:
    global _library, _reason, compile_seconds
    if _library is not None or _reason is not None:
        return _library
    if os.name == "nt":
        _reason = "the C event loop is not built on Windows"
        return None
    compiler = _compiler()
    if compiler is None:
        _reason = "no C compiler found ($CC, cc, gcc or clang)"
        return None
    path = _library_path(compiler)
    failed = path.with_name(path.name + ".failed")
    if failed.exists():
        _reason = (f"an earlier attempt to build the C event loop failed (the reason is in "
                   f"{failed}; delete that file to try again)")
        return None
    try:
        try:
            library = ctypes.CDLL(str(path))
        except OSError:
            # not built yet, or a file that does not load (cut short by a full disk, say):
            # build it afresh
            began = time.perf_counter()
            _build(compiler, path)
            compile_seconds = time.perf_counter() - began
            library = ctypes.CDLL(str(path))
    except (OSError, subprocess.SubprocessError) as error:
        _reason = f"the C event loop could not be built or loaded: {error}"
        # Remembered, so that later processes do not pay for a failing build each time (a
        # broken compiler, or a cache folder where libraries cannot be loaded from).
        try:
            failed.write_text(_reason + "\n")
        except OSError:
            pass
        return None
    library.accelsim_run_tasks.restype = _I64
    library.accelsim_run_tasks.argtypes = [
        _I64, _P64, _P64, _P64, _P64, _P64, _I64, _P64, _P64, _P64, _I64, _P64, _I64, _I64,
        _P64, _P64, _P64, _P64, _P64]
    library.accelsim_summarize_groups.restype = None
    library.accelsim_summarize_groups.argtypes = [_I64, *[_P64] * 9]
    _library = library
    return library


def loaded() -> bool:
    """Whether the C loop is loaded in this process (without trying to build it)."""
    return _library is not None


def take_compile_seconds() -> float:
    """Seconds this process spent building the C loop, reported once (then 0)."""
    global compile_seconds
    seconds, compile_seconds = compile_seconds, 0.0
    return seconds


def available() -> bool:
    """Whether the C loop is built (or can be, now) and loaded."""
    return _load() is not None


def unavailable_reason() -> str | None:
    """Why the C loop cannot be used, or None when it can."""
    _load()
    return _reason


def _pointer(array: np.ndarray, writable: bool = False) -> ctypes._Pointer:
    if (array.dtype != np.int64 or not array.flags.c_contiguous
            or (writable and not array.flags.writeable)):
        raise TypeError("the C event loop takes C-contiguous int64 arrays"
                        + (" it can write" if writable else ""))
    return array.ctypes.data_as(_P64)


def run_tasks_native(resource: np.ndarray, occupancy: np.ndarray, latency: np.ndarray,
                     priority: np.ndarray, labels: np.ndarray, indegree: np.ndarray,
                     successor_ptr: np.ndarray, successor_index: np.ndarray, n_resources: int,
                     resource_group: np.ndarray, ready: np.ndarray, start: np.ndarray,
                     finish: np.ndarray, queued: np.ndarray, group_busy: np.ndarray) -> int:
    """run_tasks (accelsim.engine.des), same arguments and results, in C."""
    library = _load()
    if library is None:
        raise RuntimeError(_reason)
    n = int(resource.shape[0])
    if n == 0:
        return 0
    labels = np.ascontiguousarray(labels, dtype=np.int64).reshape(n, -1)
    inputs = [np.ascontiguousarray(a, dtype=np.int64) for a in
              (resource, occupancy, latency, priority)]
    graph = [np.ascontiguousarray(a, dtype=np.int64) for a in
             (indegree, successor_ptr, successor_index, resource_group)]
    for array in (*inputs, graph[0]):
        if array.shape[0] < n:
            raise ValueError("every per-task array needs one entry per task")
    # numba's loop does not check its indices either, but a wrong one here would write
    # outside the arrays; these checks are a few milliseconds for a whole network.
    if ((resource.size and int(resource.max()) >= n_resources)
            or graph[3].shape[0] < n_resources
            or (n_resources and int(graph[3][:n_resources].max()) >= queued.shape[0])
            or (labels.size and int(labels.max()) >= group_busy.shape[0])
            or graph[1].shape[0] < n + 1 or int(graph[1][0]) != 0
            or (n and bool((np.diff(graph[1][:n + 1]) < 0).any()))
            or int(graph[1][n]) > graph[2].shape[0]
            or (graph[2].size and (int(graph[2].min()) < 0 or int(graph[2].max()) >= n))):
        raise ValueError("a resource, group, label or successor is outside its array")
    events = library.accelsim_run_tasks(
        n, *(_pointer(a) for a in inputs), _pointer(labels), labels.shape[1],
        *(_pointer(a) for a in graph[:3]), n_resources, _pointer(graph[3]), queued.shape[0],
        group_busy.shape[0], *(_pointer(a, True) for a in (ready, start, finish, queued,
                                                             group_busy)))
    if events == -1:
        raise RuntimeError("dependency cycle: some tasks never became ready")
    if events < 0:
        raise MemoryError("the C event loop could not allocate its queues")
    return int(events)


def summarize_groups_native(group: np.ndarray, occupancy: np.ndarray, ready: np.ndarray,
                            start: np.ndarray, finish: np.ndarray, busy: np.ndarray,
                            waited: np.ndarray, first: np.ndarray, last: np.ndarray) -> None:
    """summarize_groups (accelsim.engine.des), same arguments and results, in C."""
    library = _load()
    if library is None:
        raise RuntimeError(_reason)
    inputs = [np.ascontiguousarray(a, dtype=np.int64) for a in
              (group, occupancy, ready, start, finish)]
    size = busy.shape[0]
    if inputs[0].size and int(inputs[0].max()) >= size:
        raise ValueError("a group is outside the summary arrays")
    library.accelsim_summarize_groups(inputs[0].shape[0], *(_pointer(a) for a in inputs),
                                      *(_pointer(a, True) for a in (busy, waited, first, last)))
