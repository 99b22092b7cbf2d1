"""`init` writes a loadable, commented mlarena.yaml and never overwrites one."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from helpers.arena import hits, routes
from helpers.cli import Cli, Result, run_cli
from helpers.project import AGENT_PY

from mlarena_sync.arena import FakeArena
from mlarena_sync.cli.main import main
from mlarena_sync.config.model import load_config


def test_init_with_flags_asks_nothing_and_writes_a_loadable_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_cli(
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
    code, _, err = run_cli(capsys, "-C", str(tmp_path), "init", "--competition", "3")
    assert code == 2
    assert "already exists" in err and "never overwrites" in err
    assert path.read_text() == "# mine, hand written\n"


def test_init_without_competition_off_a_tty_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    code, _, err = run_cli(capsys, "-C", str(tmp_path), "init")
    assert code == 2
    assert "--challenge" in err
    assert not (tmp_path / "mlarena.yaml").exists()


def test_init_default_agent_name_is_the_folder_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "Cart Pole!"
    folder.mkdir()
    code, _, err = run_cli(capsys, "-C", str(folder), "init", "--competition", "1")
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
    code, _, err = run_cli(capsys, "-C", str(tmp_path), "init")
    assert code == 0, err
    target = load_config(tmp_path / "mlarena.yaml").target()
    assert target.competition == 2
    assert target.agent.name  # the default offered: the folder's name
    assert target.server == "http://127.0.0.1:8765"
    assert len(asked) == 4  # "abc" is not an id: asked again


def test_init_writes_the_default_server_even_with_mlarena_server_exported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLARENA_SERVER", "http://127.0.0.1:41859")
    code, _, err = run_cli(capsys, "-C", str(tmp_path), "init", "--competition", "1")
    assert code == 0, err
    text = (tmp_path / "mlarena.yaml").read_text()
    assert "127.0.0.1:41859" not in text
    assert load_config(tmp_path / "mlarena.yaml").target().server == "https://ml-arena.com"


def test_ctrl_d_at_a_prompt_is_a_usage_error_without_a_crash_log(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import tempfile

    answers = iter(["x1", "1"])
    asked: list[str] = []

    def fake_input(question: str) -> str:
        asked.append(question)
        try:
            return next(answers)
        except StopIteration:
            raise EOFError from None

    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    monkeypatch.setattr("builtins.input", fake_input)
    code, out, err = run_cli(capsys, "-C", str(tmp_path), "init")
    assert code == 2
    assert "'x1': the challenge id must be a number" in out
    assert "init needs answers: pass --challenge/--agent-name" in err
    assert "unexpected" not in err
    assert not list(Path(tempfile.gettempdir()).glob("mlarena-sync-crash-*"))
    assert not (tmp_path / "mlarena.yaml").exists()


@pytest.mark.parametrize("token_set", [False, True])
def test_init_says_what_to_do_next(
    arena: FakeArena,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    token_set: bool,
) -> None:
    # With a token, init reads the challenge: at the session's fake arena, not the real server.
    server = ["--server", arena.url] if token_set else []
    if token_set:
        monkeypatch.setenv("MLARENA_API_KEY", arena.user_token)
    code, out, err = run_cli(capsys, "-C", str(tmp_path), "init", *server, "--competition", "1")
    assert code == 0, err
    if token_set:
        assert "next: `mlarena-sync plan`, then `mlarena-sync push`" in out
        assert "set MLARENA_API_KEY" not in out
    else:
        assert "next: set MLARENA_API_KEY, then `mlarena-sync plan`" in out


def test_init_has_one_folder_flag(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["init", "--help"]) == 0
    help_text = capsys.readouterr().out
    assert "-C DIR" in help_text and "--dir" not in help_text


def test_init_checks_the_challenge_and_writes_the_file_it_expects(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Challenge 2 of the fake arena is a file challenge scored on submission.csv (v4.6 says so).
    with FakeArena(api="v4.6") as server:
        monkeypatch.setenv("MLARENA_API_KEY", server.user_token)
        code, out, err = run_cli(
            capsys, "-C", str(tmp_path), "init", "--server", server.url, "--challenge", "2"
        )
    assert code == 0, err
    assert "the file it scores is submission.csv" in out
    target = load_config(tmp_path / "mlarena.yaml").target()
    assert (target.competition, target.entry, target.deploy.check) == (2, "submission.csv", None)


def test_init_refuses_a_challenge_that_does_not_exist_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeArena(api="v4.6") as server:
        monkeypatch.setenv("MLARENA_API_KEY", server.user_token)
        code, _, err = run_cli(
            capsys, "-C", str(tmp_path), "init", "--server", server.url, "--challenge", "999"
        )
    assert code == 2
    assert "challenge 999 was not found" in err
    assert not (tmp_path / "mlarena.yaml").exists()


def test_init_checks_the_challenge_where_mlarena_server_points(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The token must go to the server the folder's commands will use, never to the default one.
    with FakeArena(api="v4.6") as server:
        monkeypatch.setenv("MLARENA_API_KEY", server.user_token)
        monkeypatch.setenv("MLARENA_SERVER", server.url)
        code, out, err = run_cli(capsys, "-C", str(tmp_path), "init", "--challenge", "2")
        reads = sum(n for route, n in server.counters.items() if "/challenges/" in route)
    assert code == 0, err
    assert "submission.csv" in out
    assert reads >= 1
    assert "server: https://ml-arena.com" in (tmp_path / "mlarena.yaml").read_text()


def test_init_reads_api_key_file_by_the_rule_every_command_uses(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    token = FakeArena.user_token
    code, out, err = run_cli(
        capsys, "-C", str(tmp_path), "init", "--challenge", "1", "--api-key-file", token
    )
    assert code == 2
    assert "looks like an API token, not the path of a file" in err
    assert token not in out + err
    assert not (tmp_path / "mlarena.yaml").exists()


def _init(cli: Cli, folder: Path, *args: str) -> Result:
    return cli("-C", str(folder), "init", *args)


def test_init_says_what_the_challenge_expects(
    arena: FakeArena, token: str, cli: Cli, tmp_path: Path
) -> None:
    res = _init(cli, tmp_path, "--server", arena.url, "--challenge", "1")
    assert res.code == 0, res.text
    assert "challenge 1 (CartPole Balance, a code challenge on gymnasium" in res.out
    assert "the file it runs is agent.py" in res.out
    assert "agent.py defines class Agent with predict(observation)" in res.out
    assert "set `runtime: {id: N}` in mlarena.yaml" in res.out
    assert "id 1: python 3.11 / gymnasium 1.0.0 (default)" in res.out
    assert "id 2: python 3.11 / torch 2.3.1" in res.out
    assert "pettingzoo" not in res.out  # another engine's runtime is not offered
    (tmp_path / "mlarena.yaml").unlink()
    res = _init(cli, tmp_path, "--json", "--server", arena.url, "--challenge", "1")
    (written,) = [e for e in res.json_lines() if e["event"] == "config_written"]
    assert written["challenge_checked"] is True
    assert written["agent_class"] == "class Agent with predict(observation)"
    assert [r["id"] for r in written["runtimes"]] == [1, 2]
    assert written["runtimes"][0]["framework"] == "gymnasium"


def test_init_refuses_an_unknown_challenge_and_lists_the_server_s(
    arena: FakeArena, token: str, cli: Cli, tmp_path: Path
) -> None:
    res = _init(cli, tmp_path, "--server", arena.url, "--challenge", "999")
    assert res.code == 2
    assert f"challenge 999 was not found on {arena.url}" in res.err
    assert f"challenges on {arena.url}: 1 (CartPole Balance), 2 (Parity Predictions)" in res.err
    assert "Hidden" not in res.err  # carol's hidden challenge is not alice's to see
    assert not (tmp_path / "mlarena.yaml").exists()


def test_init_without_a_token_writes_the_file_and_says_it_did_not_check(
    arena: FakeArena, cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MLARENA_API_KEY")  # the folder's `cli` runs as alice: not this one
    res = _init(cli, tmp_path, "--server", arena.url, "--challenge", "999")
    assert res.code == 0, res.text
    assert "challenge 999 not checked (no API token)" in res.text
    assert "check it later with `mlarena-sync plan`" in res.text
    assert load_config(tmp_path / "mlarena.yaml").target().competition == 999
    assert not arena.counters  # no token: init asked the server nothing
    # The check it points at: `plan`, once the token is set, with or without a file to send.
    monkeypatch.setenv("MLARENA_API_KEY", arena.user_token)
    empty = cli("-C", str(tmp_path), "plan")
    assert (empty.code, "999 was not found" in empty.err) == (2, True), empty.text
    (tmp_path / "agent.py").write_text(AGENT_PY)
    checked = cli("-C", str(tmp_path), "plan")
    assert checked.code == 2
    assert "999 was not found" in checked.err


def test_init_with_no_server_answering_writes_the_file_and_says_how_to_check(
    token: str, cli: Cli, tmp_path: Path
) -> None:
    with socket.socket() as sock:  # a port nothing listens on once this closes
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    res = _init(cli, tmp_path, "--server", url, "--challenge", "1")
    assert res.code == 0, res.text
    assert f"could not check challenge 1 on {url}" in res.text
    assert "check it later with `mlarena-sync plan`" in res.text
    assert load_config(tmp_path / "mlarena.yaml").target().entry == "agent.py"


def test_the_first_push_pins_the_agent_in_the_file_init_wrote_keeping_every_comment(
    arena: FakeArena, token: str, cli: Cli, tmp_path: Path
) -> None:
    assert _init(cli, tmp_path, "--server", arena.url, "--challenge", "1").code == 0
    (tmp_path / "agent.py").write_text(AGENT_PY)
    before = (tmp_path / "mlarena.yaml").read_text()
    res = cli("-C", str(tmp_path), "push", "--no-deploy")
    assert res.code == 0, res.text
    after = (tmp_path / "mlarena.yaml").read_text()
    target = load_config(tmp_path / "mlarena.yaml").target()
    assert target.agent.id is not None and target.agent.id >= 101
    # Every line (comments, blank lines, order) is still there; one line was added: the id.
    added = list(after.splitlines())
    added.remove(f"  id: {target.agent.id}")
    assert added == before.splitlines()
    assert sum(line.lstrip().startswith("#") for line in before.splitlines()) > 10
    # A second push binds to it, creating nothing.
    arena.reset_counters()
    assert cli("-C", str(tmp_path), "push", "--no-deploy").code == 0
    assert not hits(arena.counters, routes(arena).create)
