"""`init` writes a loadable, commented mlarena.yaml and never overwrites one."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlarena_sync.cli import main
from mlarena_sync.config import load_config


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_init_with_flags_asks_nothing_and_writes_a_loadable_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(
        capsys,
        "-C",
        str(tmp_path),
        "init",
        "--competition",
        "1",
        "--agent-name",
        "my-bot",
        "--server",
        "http://127.0.0.1:9",
        "--runtime-language",
        "python",
        "--runtime-framework",
        "gymnasium",
    )
    assert code == 0, err
    path = tmp_path / "mlarena.yaml"
    text = path.read_text()
    assert "#" in text  # commented
    target = load_config(path).target()
    assert target.competition == 1
    assert target.agent.name == "my-bot"
    assert target.server == "http://127.0.0.1:9"
    assert target.runtime is not None and target.runtime.framework == "gymnasium"
    assert str(path) in out


def test_init_never_overwrites(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "mlarena.yaml"
    path.write_text("# mine, hand written\n")
    code, _, err = run(capsys, "-C", str(tmp_path), "init", "--competition", "3")
    assert code == 2
    assert "already exists" in err and "never overwrites" in err
    assert path.read_text() == "# mine, hand written\n"


def test_init_without_competition_off_a_tty_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    code, _, err = run(capsys, "-C", str(tmp_path), "init")
    assert code == 2
    assert "--competition" in err
    assert not (tmp_path / "mlarena.yaml").exists()


def test_init_default_agent_name_is_the_folder_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "Cart Pole!"
    folder.mkdir()
    code, _, err = run(capsys, "-C", str(folder), "init", "--competition", "1")
    assert code == 0, err
    assert load_config(folder / "mlarena.yaml").target().agent.name == "Cart-Pole"


def test_init_prompts_on_a_tty(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    answers = iter(["abc", "2", "", "http://127.0.0.1:8765"])
    asked: list[str] = []

    def fake_input(question: str) -> str:
        asked.append(question)
        return next(answers)

    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    monkeypatch.setattr("builtins.input", fake_input)
    code, _, err = run(capsys, "-C", str(tmp_path), "init")
    assert code == 0, err
    target = load_config(tmp_path / "mlarena.yaml").target()
    assert target.competition == 2
    assert target.agent.name  # the default offered: the folder's name
    assert target.server == "http://127.0.0.1:8765"
    assert len(asked) == 4  # "abc" is not an id: asked again
