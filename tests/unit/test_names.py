"""Flat remote names: collisions, unsafe names, competition limits, all reported together."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlarena_sync.config.model import FilesSpec
from mlarena_sync.errors import SelectionError
from mlarena_sync.local.ignore import Selector
from mlarena_sync.local.names import check_names, is_safe_name, suggest_name
from mlarena_sync.local.scan import LocalFile, scan

TOKEN = "mlk_user_look1_s3cretS3cret_value"


@dataclass(frozen=True)
class Limits:  # the two fields of api.models.Competition that names.py reads
    max_upload_size_bytes: int | None = None
    max_upload_files: int | None = None


def local(root: Path, rel: str, content: bytes = b"x = 1\n") -> LocalFile:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    sha = hashlib.sha256(content).hexdigest()
    return LocalFile(rel, path, len(content), 0, sha, rel.rpartition("/")[2])


def problems_of(*args: object, **kwargs: object) -> list[str]:
    with pytest.raises(SelectionError) as info:
        check_names(*args, **kwargs)  # type: ignore[arg-type]
    return info.value.problems


def test_keyed_by_basename(tmp_path: Path) -> None:
    files = [local(tmp_path, "agent.py"), local(tmp_path, "models/policy.pt", b"\x00\x01")]
    got = check_names(files, Limits(100, 10), TOKEN)
    assert list(got) == ["agent.py", "policy.pt"]
    assert got["policy.pt"].path == "models/policy.pt"


def test_two_files_on_one_name_are_named_both(tmp_path: Path) -> None:
    files = [local(tmp_path, "a/utils.py"), local(tmp_path, "b/utils.py")]
    (problem,) = problems_of(files, None, TOKEN)
    assert problem.startswith("a/utils.py, b/utils.py: all would be stored as 'utils.py'")


@pytest.mark.parametrize(
    ("rel", "suggestion"),
    [
        ("__init__.py", "init__.py"),
        ("my agent.py", "my_agent.py"),
        ("helpers_", "helpers"),
        ("a..b.py", "a.b.py"),
        ("héllo.py", "hello.py"),
        ("-x.py", "x.py"),
        ("x" * 126 + ".py", "x" * 125 + ".py"),
    ],
)
def test_names_the_server_would_rewrite(tmp_path: Path, rel: str, suggestion: str) -> None:
    (problem,) = problems_of([local(tmp_path, rel)], None, TOKEN)
    assert problem.startswith(f"{rel}: the server would not store the name")
    assert f"e.g. to {suggestion!r}" in problem


def test_a_name_that_is_not_utf8_is_shown_printably(tmp_path: Path) -> None:
    raw = os.fsencode(str(tmp_path)) + b"/caf\xe9.py"
    with open(raw, "wb") as out:
        out.write(b"x = 1\n")
    files = scan(tmp_path, Selector(FilesSpec(root=tmp_path)))
    (problem,) = problems_of(files, None, TOKEN)
    problem.encode("utf-8")  # printable: no lone surrogates
    assert problem.startswith("caf\ufffd.py: the server would not store")
    assert "e.g. to 'caf.py'" in problem


def test_competition_limits(tmp_path: Path) -> None:
    files = [local(tmp_path, f"f{i}.py", b"x" * (i * 10)) for i in range(1, 5)]
    problems = problems_of(files, Limits(max_upload_size_bytes=25, max_upload_files=3), TOKEN)
    assert problems[0].startswith("f3.py: 30 B, over the challenge's limit of 25 B")
    assert problems[1].startswith("f4.py: 40 B")
    assert problems[2].startswith("4 files selected, but the challenge allows at most 3")
    assert check_names(files, Limits(None, None), TOKEN).keys() == {f.remote_name for f in files}


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    files = [
        local(tmp_path, ".env", b"K=v\n"),
        local(tmp_path, "agent.py", TOKEN.encode()),
        local(tmp_path, "a/x.py"),
        local(tmp_path, "b/x.py"),
        local(tmp_path, "big.bin", b"\x00" * 2000),
    ]
    problems = problems_of(
        files, Limits(1000, 100), TOKEN, problems=["link: a symlink to /etc, outside ."]
    )
    assert problems[0] == "link: a symlink to /etc, outside ."
    joined = "\n".join(problems)
    for expected in (
        ".env: looks like a secret",
        "agent.py: looks like a secret",
        "a/x.py, b/x.py",
    ):
        assert expected in joined
    assert "big.bin: 2.0 kB, over" in joined
    assert TOKEN not in joined
    assert len(problems) == 6  # .env is also an unsafe name


def test_allow_reaches_the_secrets_guard(tmp_path: Path) -> None:
    files = [local(tmp_path, "server.pem", b"-----BEGIN PRIVATE KEY-----\n")]
    assert "server.pem" in check_names(files, None, TOKEN, allow=["*.pem"])


@given(st.text(max_size=200))
def test_suggested_names_are_always_safe(name: str) -> None:
    assert is_safe_name(suggest_name(name))


@pytest.mark.parametrize("name", ["agent.py", "a", "policy-v2.pt", "A1.b_c-d", "x-"])
def test_safe_names(name: str) -> None:
    assert is_safe_name(name)
    assert suggest_name(name) == name
