"""File selection: include/exclude, .gitignore/.mlarenaignore (git semantics), built-in ignores."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlarena_sync.config.model import FilesSpec
from mlarena_sync.local.ignore import Selector


def spec(root: Path, **kwargs: object) -> FilesSpec:
    kwargs.setdefault("exclude", ())
    return FilesSpec(root=root, **kwargs)  # type: ignore[arg-type]


def touch(root: Path, *paths: str) -> None:
    for rel in paths:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x", encoding="utf-8")


@pytest.mark.parametrize(
    "path",
    [
        ".git/config",
        ".hg/store/x",
        ".svn/entries",
        ".mlarena-sync/state.json",
        "__pycache__/agent.cpython-311.pyc",
        "sub/__pycache__/m.pyc",
        "old.pyc",
        ".venv/lib/site.py",
        "venv/bin/python",
        "node_modules/a/index.js",
        ".mypy_cache/x.json",
        ".pytest_cache/v",
        ".ruff_cache/x",
        ".ipynb_checkpoints/a.ipynb",
        "agent.py.swp",
        ".agent.py.swp",
        "agent.py.swo",
        "agent.py~",
        ".#agent.py",
        "#agent.py#",
        ".DS_Store",
        "4913",
        "sub/4913",
        "save.tmp",
        ".agent.py.kate-swp",
        "mlarena.yaml",
        ".env",
        ".github/workflows/ci.yml",
    ],
)
def test_built_in_ignores(tmp_path: Path, path: str) -> None:
    assert not Selector(spec(tmp_path)).is_selected(path)


@pytest.mark.parametrize("path", ["agent.py", "models/policy.pt", "sub/mlarena.yaml", "env/x.py"])
def test_ordinary_files_are_selected(tmp_path: Path, path: str) -> None:
    touch(tmp_path, path)
    assert Selector(spec(tmp_path)).is_selected(path)


def test_a_folder_with_pyvenv_cfg_is_a_virtualenv_whatever_its_name(tmp_path: Path) -> None:
    touch(tmp_path, "env/pyvenv.cfg", "env/lib/x.py", "tools/conda-meta/history")
    selector = Selector(spec(tmp_path))
    assert selector.is_dir_ignored("env")
    assert not selector.is_selected("env/lib/x.py")
    assert selector.is_dir_ignored("tools")


def test_hard_ignores_cannot_be_re_included(tmp_path: Path) -> None:
    (tmp_path / ".mlarenaignore").write_text("!*.pyc\n!.git/\n!mlarena.yaml\n", encoding="utf-8")
    selector = Selector(spec(tmp_path, exclude=("!*.swp",)))
    assert not selector.is_selected("a.pyc")
    assert not selector.is_selected(".git/HEAD")
    assert not selector.is_selected("mlarena.yaml")
    assert not selector.is_selected("a.swp")


def test_dotfiles_can_be_brought_back_by_mlarenaignore(tmp_path: Path) -> None:
    (tmp_path / ".mlarenaignore").write_text("!.env\n", encoding="utf-8")
    selector = Selector(spec(tmp_path))
    assert selector.is_selected(".env")
    assert not selector.is_selected(".other")


def test_include_and_exclude(tmp_path: Path) -> None:
    selector = Selector(
        spec(tmp_path, include=("*.py", "models/"), exclude=("tests/", "*.ipynb", "!keep.ipynb"))
    )
    assert selector.is_selected("agent.py")
    assert selector.is_selected("models/policy.pt")
    assert not selector.is_selected("data.csv")
    assert not selector.is_selected("tests/test_agent.py")
    assert selector.is_dir_ignored("tests")
    assert not selector.is_selected("x.ipynb")
    # keep.ipynb is re-included by exclude's negation but still not matched by include.
    assert not selector.is_selected("keep.ipynb")


def test_default_excludes_from_the_config(tmp_path: Path) -> None:
    selector = Selector(FilesSpec(root=tmp_path))
    assert not selector.is_selected("tests/test_x.py")
    assert not selector.is_selected("nb.ipynb")
    assert selector.is_selected("agent.py")


def test_gitignore_root_and_nested_with_git_semantics(tmp_path: Path) -> None:
    touch(tmp_path, "build/out.py", "sub/deep/a.log", "sub/keep.log", "sub/x.py")
    (tmp_path / ".gitignore").write_text("*.log\n/build\n", encoding="utf-8")
    (tmp_path / "sub" / ".gitignore").write_text("!keep.log\n/x.py\n", encoding="utf-8")
    selector = Selector(spec(tmp_path))
    assert not selector.is_selected("a.log")
    assert not selector.is_selected("sub/deep/a.log")
    assert selector.is_selected("sub/keep.log")  # the deeper file wins
    assert not selector.is_selected("sub/x.py")  # anchored to its own folder
    assert selector.is_selected("x.py")
    assert selector.is_dir_ignored("build")
    assert not selector.is_dir_ignored("sub/build")  # "/build" is anchored at the root


def test_a_file_under_an_ignored_folder_cannot_be_re_included(tmp_path: Path) -> None:
    touch(tmp_path, "data/keep.csv")
    (tmp_path / ".gitignore").write_text("data/\n!data/keep.csv\n", encoding="utf-8")
    assert not Selector(spec(tmp_path)).is_selected("data/keep.csv")


def test_mlarenaignore_overrides_gitignore(tmp_path: Path) -> None:
    (tmp_path / ".gitignore").write_text("*.pt\n", encoding="utf-8")
    (tmp_path / ".mlarenaignore").write_text("!policy.pt\nnotes.md\n", encoding="utf-8")
    selector = Selector(spec(tmp_path))
    assert selector.is_selected("policy.pt")
    assert not selector.is_selected("other.pt")
    assert not selector.is_selected("notes.md")


def test_gitignore_false_ignores_both_ignore_files(tmp_path: Path) -> None:
    (tmp_path / ".gitignore").write_text("*.pt\n", encoding="utf-8")
    (tmp_path / ".mlarenaignore").write_text("*.md\n", encoding="utf-8")
    selector = Selector(spec(tmp_path, gitignore=False))
    assert selector.is_selected("policy.pt")
    assert selector.is_selected("notes.md")


def test_refresh_rereads_changed_ignore_files(tmp_path: Path) -> None:
    selector = Selector(spec(tmp_path))
    assert selector.is_selected("a.pt")
    assert not selector.is_dir_ignored("big")
    (tmp_path / ".gitignore").write_text("*.pt\nbig/\n", encoding="utf-8")
    assert Selector.is_ignore_file(".gitignore") and Selector.is_ignore_file("s/.mlarenaignore")
    assert not Selector.is_ignore_file("agent.py")
    selector.refresh()
    assert not selector.is_selected("a.pt")
    assert selector.is_dir_ignored("big")


def test_a_config_inside_the_root_under_another_name_is_not_synced(tmp_path: Path) -> None:
    config = tmp_path / "arena.yaml"
    selector = Selector(spec(tmp_path), config_path=config)
    assert not selector.is_selected("arena.yaml")
    assert Selector(spec(tmp_path), config_path=tmp_path.parent / "x.yaml").is_selected("x.yaml")
