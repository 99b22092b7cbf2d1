"""The secrets guard: .env files, private keys and the user's own token never leave the machine."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from mlarena_sync.local import secrets
from mlarena_sync.local.scan import LocalFile
from mlarena_sync.local.secrets import SecretsGuard, find_secrets

TOKEN = "mlk_user_look1_s3cretS3cret_value"
PEM = (
    "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n"
    "-----END OPENSSH PRIVATE KEY-----\n"
)


def local(root: Path, rel: str, content: str | bytes = "x = 1\n") -> LocalFile:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    data = content.encode() if isinstance(content, str) else content
    path.write_bytes(data)
    sha = hashlib.sha256(data).hexdigest()
    return LocalFile(rel, path, len(data), 0, sha, rel.rpartition("/")[2])


@pytest.mark.parametrize(
    ("rel", "reason"),
    [
        (".env", ".env file"),
        (".env.local", ".env file"),
        ("config/.envrc", ".env file"),
        ("prod.env", ".env file"),
        ("id_rsa", "private key"),
        ("keys/id_ed25519", "private key"),
        ("server.pem", "private key"),
        ("tls.key", "private key"),
        ("cert.p12", "private key"),
        ("cert.pfx", "private key"),
    ],
)
def test_secret_file_names_are_refused(tmp_path: Path, rel: str, reason: str) -> None:
    (problem,) = find_secrets([local(tmp_path, rel)], TOKEN)
    assert problem.startswith(f"{rel}: looks like a secret")
    assert reason in problem
    assert "files.allow" in problem


@pytest.mark.parametrize("rel", ["id_rsa.pub", "environment.py", "keys.py", "agent.py"])
def test_ordinary_names_pass(tmp_path: Path, rel: str) -> None:
    assert find_secrets([local(tmp_path, rel)], TOKEN) == []


def test_private_key_content_is_refused(tmp_path: Path) -> None:
    files = [
        local(tmp_path, "creds.txt", "hello\n" + PEM),
        local(tmp_path, "rsa.bin", b"\x00\x01-----BEGIN RSA PRIVATE KEY-----\n"),
        local(tmp_path, "notes.md", "Never commit a PRIVATE KEY. BEGIN here.\n"),
    ]
    problems = find_secrets(files, None)
    assert [p.split(":")[0] for p in problems] == ["creds.txt", "rsa.bin"]
    assert all("contains a private key" in p for p in problems)


def test_the_users_token_is_found_and_never_echoed(tmp_path: Path) -> None:
    files = [
        local(tmp_path, "agent.py", f'API_KEY = "{TOKEN}"\n'),
        local(tmp_path, "weights.bin", b"\x00" * 100 + TOKEN.encode() + b"\xff"),
        local(tmp_path, "other.py", 'API_KEY = "mlk_user_someone_else"\n'),
    ]
    problems = find_secrets(files, TOKEN)
    assert [p.split(":")[0] for p in problems] == ["agent.py", "weights.bin"]
    assert all("contains your API token" in p for p in problems)
    assert not any(TOKEN in p or "s3cret" in p for p in problems)


@pytest.mark.parametrize("offset", range(0, 40, 3))
def test_a_token_straddling_chunks_is_found(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, offset: int
) -> None:
    monkeypatch.setattr(secrets, "CHUNK_SIZE", 16)
    data = b"a" * offset + TOKEN.encode() + b"b" * 50
    assert find_secrets([local(tmp_path, "big.bin", data)], TOKEN)
    assert not find_secrets([local(tmp_path, "clean.bin", b"a" * 200)], TOKEN)


def test_a_pem_marker_straddling_chunks_is_found(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(secrets, "CHUNK_SIZE", 7)
    assert find_secrets([local(tmp_path, "x.txt", "z" * 33 + PEM)], None)


def test_files_allow_lets_a_file_past_the_guard(tmp_path: Path) -> None:
    files = [
        local(tmp_path, ".env.example", "KEY=\n"),
        local(tmp_path, "fixtures/test.pem", PEM),
        local(tmp_path, "server.pem", PEM),
    ]
    problems = find_secrets(files, TOKEN, allow=[".env.example", "fixtures/"])
    assert [p.split(":")[0] for p in problems] == ["server.pem"]


def test_verdicts_are_cached_by_content_hash(tmp_path: Path) -> None:
    guard = SecretsGuard(TOKEN)
    path = tmp_path / "a.py"
    path.write_text("clean\n", encoding="utf-8")
    assert guard.content_reason(path, "sha-of-clean") is None
    path.write_text(TOKEN.split("_", 3)[3], encoding="utf-8")  # the secret part alone
    assert guard.content_reason(path, "sha-of-clean") is None  # same hash: not re-read
    assert guard.content_reason(path, "sha-of-token") == (
        "it contains the secret part of your API token"
    )
    assert SecretsGuard("mlk_user_other_token").content_reason(path, "sha-of-token") is None


def test_a_file_that_vanished_is_a_problem(tmp_path: Path) -> None:
    f = local(tmp_path, "gone.py", "unique content for this test\n")
    f.abs_path.unlink()
    (problem,) = find_secrets([f], TOKEN)
    assert problem.startswith("gone.py: cannot read it")
