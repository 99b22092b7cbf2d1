"""The local scan: selection, pruning, symlinks, problems, stat cache, chunked hashing."""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

import pytest

from mlarena_sync.config.model import FilesSpec
from mlarena_sync.errors import SelectionError
from mlarena_sync.local import scan as files_mod
from mlarena_sync.local.ignore import Selector
from mlarena_sync.local.scan import StatCache, StatEntry, hash_file, scan

OLD = time.time_ns() - 3600 * 10**9


def make(root: Path, rel: str, data: bytes = b"x = 1\n", *, old: bool = True) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    if old:
        os.utime(path, ns=(OLD, OLD))
    return path


def selector(root: Path, **kwargs: object) -> Selector:
    kwargs.setdefault("exclude", ())
    return Selector(FilesSpec(root=root, **kwargs))  # type: ignore[arg-type]


@pytest.fixture
def hash_calls(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    calls: list[Path] = []
    real = files_mod.hash_file

    def counting(path: Path) -> tuple[str, os.stat_result, bool]:
        calls.append(path)
        return real(path)

    monkeypatch.setattr(files_mod, "hash_file", counting)
    return calls


def test_scan_lists_selected_files_with_hashes(tmp_path: Path) -> None:
    make(tmp_path, "agent.py", b"print(1)\n")
    make(tmp_path, "models/policy.pt", b"\x00\x01\x02")
    make(tmp_path, "__pycache__/agent.pyc")
    make(tmp_path, "notes.tmp")
    got = scan(tmp_path, selector(tmp_path))
    assert [(f.path, f.remote_name, f.size) for f in got] == [
        ("agent.py", "agent.py", 9),
        ("models/policy.pt", "policy.pt", 3),
    ]
    assert got[0].sha256 == hashlib.sha256(b"print(1)\n").hexdigest()
    assert got[1].abs_path == tmp_path / "models" / "policy.pt"
    assert got[1].mtime_ns == OLD


def test_ignored_folders_are_never_entered(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make(tmp_path, "agent.py")
    make(tmp_path, ".venv/lib/big.py")
    make(tmp_path, "data/raw/a.csv")
    (tmp_path / ".gitignore").write_text("data/\n", encoding="utf-8")
    listed: list[str] = []
    real = os.scandir

    def recording(path: Path) -> object:
        listed.append(Path(path).relative_to(tmp_path).as_posix())
        return real(path)

    monkeypatch.setattr(files_mod.os, "scandir", recording)
    assert [f.path for f in scan(tmp_path, selector(tmp_path))] == ["agent.py"]
    assert listed == ["."]


def test_unchanged_files_are_not_hashed_again(tmp_path: Path, hash_calls: list[Path]) -> None:
    make(tmp_path, "a.py")
    make(tmp_path, "b.py")
    cache = StatCache()
    first = scan(tmp_path, selector(tmp_path), cache)
    assert len(hash_calls) == 2 and cache.dirty
    cache.dirty = False
    assert scan(tmp_path, selector(tmp_path), cache) == first
    assert len(hash_calls) == 2 and not cache.dirty

    make(tmp_path, "b.py", b"changed\n")
    again = scan(tmp_path, selector(tmp_path), cache)
    assert [p.name for p in hash_calls[2:]] == ["b.py"]
    assert again[1].sha256 == hashlib.sha256(b"changed\n").hexdigest()


def test_freshly_written_files_are_rehashed_until_they_age(
    tmp_path: Path, hash_calls: list[Path]
) -> None:
    make(tmp_path, "hot.py", old=False)
    cache = StatCache()
    scan(tmp_path, selector(tmp_path), cache)
    scan(tmp_path, selector(tmp_path), cache)
    assert len(hash_calls) == 2  # racy: a same-tick rewrite would keep size and mtime


def test_cache_survives_json_and_forgets_deleted_files(
    tmp_path: Path, hash_calls: list[Path]
) -> None:
    make(tmp_path, "a.py")
    gone = make(tmp_path, "b.py")
    cache = StatCache()
    scan(tmp_path, selector(tmp_path), cache)
    restored = StatCache.from_json(cache.to_json())
    assert restored.entries == cache.entries
    gone.unlink()
    scan(tmp_path, selector(tmp_path), restored)
    assert len(hash_calls) == 2
    assert list(restored.entries) == ["a.py"]


def test_cache_json_is_tolerant() -> None:
    data = {"ok.py": [1, 2, 3, "ab", 4], "bad.py": [1, "x"], "b2": [True, 1, 1, "a", 1], 3: []}
    assert StatCache.from_json(data).entries == {"ok.py": StatEntry(1, 2, 3, "ab", 4)}
    assert StatCache.from_json("garbage").entries == {}


def test_hashing_reads_in_chunks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = os.urandom(10_000)
    path = make(tmp_path, "w.bin", data)
    monkeypatch.setattr(files_mod, "CHUNK_SIZE", 1000)
    reads: list[int] = []
    real_open = Path.open

    def spying_open(self: Path, *args: object, **kwargs: object) -> object:
        fh = real_open(self, *args, **kwargs)  # type: ignore[call-overload]
        real_read = fh.read

        def read(size: int = -1) -> bytes:
            reads.append(size)
            return real_read(size)  # type: ignore[no-any-return]

        fh.read = read
        return fh

    monkeypatch.setattr(Path, "open", spying_open)
    sha, st, steady = hash_file(path)
    assert sha == hashlib.sha256(data).hexdigest()
    assert steady and st.st_size == 10_000
    assert reads and set(reads) == {1000}


def test_symlinked_files_inside_the_root_are_followed_folders_are_not(tmp_path: Path) -> None:
    make(tmp_path, "lib/helpers.py", b"h\n")
    (tmp_path / "helpers_link.py").symlink_to(tmp_path / "lib" / "helpers.py")
    (tmp_path / "again").symlink_to(tmp_path / "lib", target_is_directory=True)
    (tmp_path / "lib" / "loop").symlink_to(tmp_path / "lib", target_is_directory=True)
    got = scan(tmp_path, selector(tmp_path))
    paths = [f.path for f in got]
    assert paths == ["helpers_link.py", "lib/helpers.py"]  # linked folders: scanned once


def test_symlink_problems_are_collected(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    root = tmp_path / "root"
    make(outside, "secret.txt")
    make(root, "agent.py")
    (root / "leak.txt").symlink_to(outside / "secret.txt")
    (root / "leakdir").symlink_to(outside, target_is_directory=True)
    (root / "broken.py").symlink_to(root / "nowhere.py")
    (root / "ignored.tmp").symlink_to(outside / "secret.txt")  # not selected: not a problem
    problems: list[str] = []
    got = scan(root, selector(root), problems=problems)
    assert [f.path for f in got] == ["agent.py"]
    assert [p.split(":")[0] for p in problems] == ["broken.py", "leak.txt", "leakdir/"]
    assert "outside" in problems[1]
    with pytest.raises(SelectionError) as info:
        scan(root, selector(root))
    assert len(info.value.problems) == 3


def test_special_files_are_problems(tmp_path: Path) -> None:
    make(tmp_path, "agent.py")
    os.mkfifo(tmp_path / "pipe")
    problems: list[str] = []
    assert [f.path for f in scan(tmp_path, selector(tmp_path), problems=problems)] == ["agent.py"]
    assert problems == ["pipe: not a regular file; exclude it"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_unreadable_files_and_folders_are_problems(tmp_path: Path) -> None:
    make(tmp_path, "agent.py")
    locked = make(tmp_path, "locked.py")
    locked.chmod(0)
    make(tmp_path, "private/x.py")
    (tmp_path / "private").chmod(0)
    problems: list[str] = []
    try:
        got = scan(tmp_path, selector(tmp_path), problems=problems)
    finally:
        locked.chmod(0o644)
        (tmp_path / "private").chmod(0o755)
    assert [f.path for f in got] == ["agent.py"]
    assert [p.split(":")[0] for p in problems] == ["locked.py", "private/"]


def test_unreadable_file_via_failing_open(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make(tmp_path, "agent.py")
    make(tmp_path, "locked.py")

    def refuse(path: Path) -> tuple[str, os.stat_result, bool]:
        if path.name == "locked.py":
            raise PermissionError(13, "Permission denied")
        return hash_file(path)

    monkeypatch.setattr(files_mod, "hash_file", refuse)
    problems: list[str] = []
    assert [f.path for f in scan(tmp_path, selector(tmp_path), problems=problems)] == ["agent.py"]
    assert problems == [
        "locked.py: cannot read it (Permission denied); fix its permissions or exclude it"
    ]
