"""``mlarena-sync completion bash|zsh|fish``: scripts written from the real parser tree.

The bash script is sourced in a real bash and its function called as bash's completion would
(COMP_WORDS / COMP_CWORD set, COMPREPLY read); zsh and fish are parsed (``-n``) when installed.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from helpers.cli import run_cli

from mlarena_sync.cli.main import COMMANDS, build_parser
from mlarena_sync.commands.completion import describe
from mlarena_sync.commands.completion_scripts import SCRIPTS

BASH = shutil.which("bash")


def script(shell: str) -> str:
    return SCRIPTS[shell](describe(build_parser(every_flag=True)))


def complete_in_bash(words: list[str], cwd: Path | None = None) -> list[str]:
    """COMPREPLY after completing the last of ``words`` (``""``: a new word) in bash."""
    assert BASH is not None
    quoted = " ".join(f"'{w}'" for w in words)
    probe = (
        f"source /dev/stdin; COMP_WORDS=({quoted}); COMP_CWORD={len(words) - 1}; "
        '_mlarena_sync; printf "%s\\n" "${COMPREPLY[@]}"'
    )
    proc = subprocess.run(
        [BASH, "--norc", "--noprofile", "-c", probe],
        input=script("bash"),
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=30,
        check=True,
    )
    assert proc.stderr == ""
    return [line for line in proc.stdout.splitlines() if line]


def test_the_tree_has_every_command_with_its_own_flags() -> None:
    tree = describe(build_parser(every_flag=True))
    by_name = {c.name: c for c in tree.commands}
    assert list(by_name) == list(COMMANDS)
    push_flags = {f for o in by_name["push"].options for f in o.flags}
    assert {"--wait", "--no-deploy", "--json", "--no-color", "--api"} <= push_flags
    assert by_name["completion"].words == ("bash", "zsh", "fish")
    kinds = {f: o.value for o in tree.options for f in o.flags}
    assert kinds["--config"] == kinds["--api-key-file"] == "file"
    assert kinds["-C"] == "dir"
    assert kinds["--api"] == "choice" and kinds["--json"] == "none"


@pytest.mark.skipif(BASH is None, reason="no bash")
def test_the_bash_script_parses() -> None:
    assert BASH is not None
    subprocess.run([BASH, "-n"], input=script("bash"), text=True, check=True, timeout=30)


@pytest.mark.skipif(BASH is None, reason="no bash")
@pytest.mark.parametrize(
    ("words", "expected"),
    [
        (["mlarena-sync", "pu"], ["push", "pull"]),
        (["mlarena-sync", ""], list(COMMANDS)),
        (["mlarena-sync", "--api", ""], ["auto", "v0", "v4.6"]),
        (["mlarena-sync", "push", "--wa"], ["--wait"]),
        (["mlarena-sync", "fake-arena", "--api", "v"], ["v4.6", "v0"]),
        (["mlarena-sync", "completion", ""], ["bash", "zsh", "fish"]),
        # a flag's value is not the command: `--target push` then `completion`
        (["mlarena-sync", "--target", "push", "completion", "f"], ["fish"]),
    ],
    ids=lambda v: " ".join(v) if isinstance(v, list) else None,
)
def test_bash_completes_commands_flags_and_choices(words: list[str], expected: list[str]) -> None:
    assert complete_in_bash(words) == expected


@pytest.mark.skipif(BASH is None, reason="no bash")
@pytest.mark.parametrize("flag", ["--config", "--api-key-file", "-C"])
def test_bash_completes_file_names_after_file_flags(flag: str, tmp_path: Path) -> None:
    (tmp_path / "mlarena.yaml").write_text("x: 1\n")
    (tmp_path / "mlarena-keys").mkdir()
    offered = complete_in_bash(["mlarena-sync", "push", flag, "mlarena"], cwd=tmp_path)
    if flag == "-C":
        assert offered == ["mlarena-keys"]
    else:
        assert sorted(offered) == ["mlarena-keys", "mlarena.yaml"]


@pytest.mark.parametrize("shell", ["zsh", "fish"])
def test_zsh_and_fish_scripts_name_every_command_and_parse(shell: str) -> None:
    text = script(shell)
    for command in COMMANDS:
        assert f"'{command}:" in text if shell == "zsh" else f"-a {command} " in text, command
    assert "(auto v0 v4.6)" in text if shell == "zsh" else "-a 'auto v0 v4.6'" in text
    binary = shutil.which(shell)
    if binary is not None:  # not installed here: the content checks above still run
        subprocess.run([binary, "-n"], input=text, text=True, check=True, timeout=30)


def test_the_command_prints_the_script_and_says_how_to_install_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    res = run_cli(capsys, "completion", "bash")
    assert res.code == 0, res.err
    assert res.out == script("bash")
    assert "complete -F _mlarena_sync mlarena-sync" in res.out
    shown = run_cli(capsys, "completion", "--help")
    assert shown.code == 0
    help_text = shown.out
    assert 'eval "$(mlarena-sync completion bash)"' in help_text
    assert "mlarena-sync completion fish | source" in help_text


def test_the_command_with_json_prints_one_object(capsys: pytest.CaptureFixture[str]) -> None:
    res = run_cli(capsys, "--json", "completion", "zsh")
    assert res.code == 0, res.err
    (line,) = res.json_lines()
    assert line["event"] == "completion" and line["shell"] == "zsh" and "timestamp" in line
    assert line["script"] == script("zsh")


def test_an_unknown_shell_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    res = run_cli(capsys, "completion", "bsh")
    assert res.code == 2
    assert "did you mean 'bash'?" in res.err
