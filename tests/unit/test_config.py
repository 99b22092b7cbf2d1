"""mlarena.yaml: the documented format, defaults, precise errors, token lookup, overrides."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest
import yaml
from helpers import REPO
from yaml.nodes import MappingNode, Node

from mlarena_sync.config.model import (
    ALIASES,
    KNOWN_KEYS,
    AgentSpec,
    DeploySpec,
    RuntimeSpec,
    SyncSpec,
    WatchSpec,
    apply_overrides,
    find_config,
    load_config,
    render_init_yaml,
    resolve_token,
)
from mlarena_sync.errors import AuthError, ConfigError

EXAMPLE = REPO / "mlarena.yaml.example"
TOKEN = "mlk_user_ab12cd_s3cr3t_with_underscores"


def write(folder: Path, text: str) -> Path:
    path = folder / "mlarena.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def config_error(folder: Path, text: str) -> str:
    path = write(folder, text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    return str(info.value)


def dotted_keys(node: Node, prefix: str = "") -> set[str]:
    keys: set[str] = set()
    if isinstance(node, MappingNode):
        for knode, vnode in node.value:
            key = f"{prefix}.{knode.value}" if prefix else str(knode.value)
            keys.add(key)
            keys |= dotted_keys(vnode, key)
    return keys


# ------------------------------------------------------------------ the example file


def test_example_loads_with_the_documented_defaults(tmp_path: Path) -> None:
    path = tmp_path / "mlarena.yaml"
    path.write_text(EXAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    target = load_config(path).target()
    assert target.name == "default"
    assert target.server == "https://ml-arena.com"
    assert target.competition == 42
    assert target.agent == AgentSpec(name="ppo-cartpole", id=None)
    assert target.runtime is None
    assert target.files.root == tmp_path.resolve()
    assert target.files.include == ("**",)
    assert target.files.exclude == (".venv/", "tests/", "*.ipynb")
    assert target.files.gitignore is True
    assert target.files.allow == ()
    assert target.sync == SyncSpec(mode="safe", delete=True, max_delete=5)
    assert target.watch == WatchSpec(quiet=0.3, max_wait=5.0, rescan=30.0)
    assert target.deploy == DeploySpec(
        auto=True,
        settle=10.0,
        min_interval=60.0,
        reserve=1,
        check="python -m py_compile agent.py",
        check_timeout=120.0,
    )
    assert target.api_key_env == "MLARENA_API_KEY"
    assert target.entry == "agent.py"


def test_example_is_what_init_writes() -> None:
    assert EXAMPLE.read_text(encoding="utf-8") == render_init_yaml(42, "ppo-cartpole")


def test_every_key_of_the_example_is_accepted_and_every_accepted_key_is_in_it() -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    active = dotted_keys(yaml.compose(text))
    assert active <= KNOWN_KEYS
    # Commented-out examples ("  # id: 1234") count as documented; today's words (challenge:,
    # submission:) document the keys they stand for (competition:, agent:).
    uncommented = re.sub(r"(?m)^( *)# ([a-z_]+):", r"\1\2:", text)
    documented = {canonical(k) for k in dotted_keys(yaml.compose(uncommented))}
    assert documented == {canonical(k) for k in KNOWN_KEYS}


def canonical(key: str) -> str:
    head, dot, rest = key.partition(".")
    return ALIASES.get(head, head) + dot + rest


def test_a_defaults_only_file_matches_the_example(tmp_path: Path) -> None:
    minimal = load_config(write(tmp_path, "competition: 42\nagent: {name: ppo-cartpole}\n"))
    path = tmp_path / "full" / "mlarena.yaml"
    path.parent.mkdir()
    path.write_text(EXAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    full = load_config(path).target()
    one = minimal.target()
    assert (one.sync, one.watch, one.deploy, one.files.include) == (
        full.sync,
        full.watch,
        full.deploy,
        full.files.include,
    )


@pytest.mark.parametrize(
    ("kwargs", "expected_agent", "expected_runtime"),
    [
        ({"agent_id": 1234}, AgentSpec("weird: name #1", 1234), None),
        (
            {"language": "python", "framework": "gymnasium", "framework_version": "1.10"},
            AgentSpec("weird: name #1", None),
            RuntimeSpec(None, "python", "gymnasium", "1.10"),
        ),
        ({"runtime_id": 7}, AgentSpec("weird: name #1", None), RuntimeSpec(id=7)),
    ],
)
def test_init_yaml_round_trips(
    tmp_path: Path,
    kwargs: dict[str, object],
    expected_agent: AgentSpec,
    expected_runtime: RuntimeSpec | None,
) -> None:
    text = render_init_yaml(7, "weird: name #1", "http://127.0.0.1:8765", **kwargs)  # type: ignore[arg-type]
    target = load_config(write(tmp_path, text)).target()
    assert target.server == "http://127.0.0.1:8765"
    assert target.competition == 7
    assert target.agent == expected_agent
    assert target.runtime == expected_runtime


# ------------------------------------------------------------------ values


def test_files_root_is_relative_to_the_yaml_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "agent").mkdir()
    path = write(tmp_path, "competition: 1\nagent: {name: a}\nfiles: {root: agent}\n")
    monkeypatch.chdir("/")
    target = load_config(path).target()
    assert target.files.root == (tmp_path / "agent").resolve()
    assert target.config_path == path


def test_custom_entry_sets_the_default_check(tmp_path: Path) -> None:
    target = load_config(write(tmp_path, "competition: 1\nagent: {id: 5}\nentry: main.py\n"))
    assert target.target().deploy.check == "python -m py_compile main.py"
    target2 = load_config(write(tmp_path, "competition: 1\nagent: {id: 5}\ndeploy: {check: ''}\n"))
    assert target2.target().deploy.check is None


def test_a_section_with_every_key_commented_out_means_defaults(tmp_path: Path) -> None:
    text = "competition: 1\nagent: {id: 5}\nsync:\n  # mode: replica\nwatch:\n"
    target = load_config(write(tmp_path, text)).target()
    assert (target.sync, target.watch) == (SyncSpec(), WatchSpec())
    message = config_error(tmp_path, "competition: 1\nagent:\n  # name: x\n")
    assert ":2: agent: give `name:`" in message


def test_runtime_left_empty_is_the_competition_default(tmp_path: Path) -> None:
    target = load_config(write(tmp_path, "competition: 1\nagent: {id: 5}\nruntime:\n")).target()
    assert target.runtime is None


# ------------------------------------------------------------------ errors


@pytest.mark.parametrize(
    ("text", "line", "key", "words"),
    [
        ("competition: 1\nagent: {name: a}\nsnyc: {}\n", 3, "snyc", "did you mean 'sync'"),
        ("competition: 1\nagent:\n  name: a\n  colour: red\n", 4, "agent.colour", "unknown"),
        ("competition: one\nagent: {name: a}\n", 1, "competition", "whole number"),
        ("competition: 1\nagent: {name: a}\nsync:\n  mode: mirror\n", 4, "sync.mode", "safe"),
        ("competition: 1\nagent: {name: a}\nsync:\n  max_delete: -1\n", 4, "sync.max_delete", "0"),
        ("competition: 1\nagent: {name: a}\nsync: {delete: maybe}\n", 3, "sync.delete", "true"),
        ("competition: 1\nagent: {name: a}\nfiles:\n  exclude: x\n", 4, "files.exclude", "list"),
        ("competition: 1\nagent: {name: a}\nfiles:\n  include: [1]\n", 4, "include[0]", "text"),
        ("competition: 1\nagent: {name: a}\nwatch:\n  quiet: .inf\n", 4, "watch.quiet", "finite"),
        ("competition: 1\nagent: {name: a}\nwatch: {quiet: 9}\n", 3, "watch.max_wait", "quiet"),
        ("competition: 1\nagent: {name: a}\ndeploy:\n  check_timeout: 0\n", 4, "check_tim", "0"),
        ("competition: 1\nagent: {name: a}\nruntime: {framework_version: 1.0}\n", 3, "fr", "quote"),
        ("competition: 1\nagent: {name: a}\nruntime: {id: 3, language: py}\n", 3, "runtime", "or"),
        ("competition: 1\nagent: {name: a}\nentry: sub/agent.py\n", 3, "entry", "store"),
        ("competition: 1\nagent: {name: a}\napi_key_env: 'A B'\n", 3, "api_key_env", "variable"),
        ("competition: 1\nagent: {}\n", 2, "agent", "`name:`"),
        ("competition: 1\n", 1, "agent", "`name:`"),
        ("agent: {name: a}\n", 1, "competition", "missing"),
        ("competition: 1\nagent: {name: a}\nserver: ftp://x\n", 3, "server", "http"),
        ("competition: 1\nagent: {name: a}\nserver: http://ml-arena.com\n", 3, "server", "https"),
        ("competition: 1\ncompetition: 2\nagent: {name: a}\n", 2, "competition", "twice"),
        ("version: 2\ncompetition: 1\nagent: {name: a}\n", 1, "version", "version 1"),
        ("competition: 1\nagent: {name: a}\nfiles: {root: nowhere}\n", 3, "files.root", "folder"),
        ("competition: [1\n", 2, "", "not valid YAML"),
        ("- 1\n- 2\n", 1, "(top level)", "mapping"),
    ],
)
def test_errors_name_file_line_and_key(
    tmp_path: Path, text: str, line: int, key: str, words: str
) -> None:
    message = config_error(tmp_path, text)
    assert message.startswith(f"{tmp_path / 'mlarena.yaml'}:{line}: ")
    assert key in message
    assert words in message


def test_api_key_in_the_file_is_refused_with_the_reason(tmp_path: Path) -> None:
    message = config_error(tmp_path, f"competition: 1\nagent: {{name: a}}\napi_key: {TOKEN}\n")
    assert ":3: api_key: the API token never goes in mlarena.yaml" in message
    assert "MLARENA_API_KEY" in message and "--api-key-file" in message
    assert TOKEN not in message


def test_empty_file_and_missing_file(tmp_path: Path) -> None:
    assert "empty" in config_error(tmp_path, "# nothing\n")
    with pytest.raises(ConfigError, match="init"):
        load_config(tmp_path / "absent.yaml")


# ------------------------------------------------------------------ targets

TARGETS = """\
server: http://127.0.0.1:9000
competition: 1
sync: {mode: replica, max_delete: 2}
targets:
  - name: cart
    agent: {name: cart-ppo}
  - name: pend
    competition: 2
    agent: {id: 77}
    sync: {max_delete: 9}
"""


def test_targets_share_top_level_values(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, TARGETS))
    assert config.target_names == ("cart", "pend")
    cart, pend = config.target("cart"), config.target("pend")
    assert (cart.competition, cart.agent.name, cart.sync.max_delete) == (1, "cart-ppo", 2)
    assert (pend.competition, pend.agent.id, pend.sync) == (2, 77, SyncSpec("replica", True, 9))
    assert pend.server == "http://127.0.0.1:9000"


def test_choosing_a_target(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, TARGETS))
    with pytest.raises(ConfigError, match="--target"):
        config.target()
    with pytest.raises(ConfigError, match="cart, pend"):
        config.target("nope")


@pytest.mark.parametrize(
    ("text", "line", "key"),
    [
        ("competition: 1\ntargets:\n  - agent: {id: 1}\n", 3, "targets[0].name"),
        ("competition: 1\ntargets:\n  - {name: a, agent: {id: 1}}\n  - {name: a}\n", 4, "[1].name"),
        ("competition: 1\ntargets:\n  - name: a\n    agent: {id: 1}\n    color: 3\n", 5, "color"),
        ("competition: 1\ntargets:\n  - name: a\n    agent: {id: x}\n", 4, "targets[0].agent.id"),
        ("competition: 1\ntargets:\n  - name: a\n", 3, "targets[0].agent"),
        ("targets:\n  - name: a\n    agent: {id: 1}\n", 2, "targets[0].challenge"),
        ("competition: 1\ntargets: []\n", 2, "targets"),
        ("name: x\ncompetition: 1\ntargets:\n  - {name: a, agent: {id: 1}}\n", 1, "name"),
    ],
)
def test_target_errors(tmp_path: Path, text: str, line: int, key: str) -> None:
    message = config_error(tmp_path, text)
    assert f"mlarena.yaml:{line}: " in message
    assert key in message


# ------------------------------------------------------------------ find_config


def test_find_config_walks_up(tmp_path: Path) -> None:
    path = write(tmp_path, "competition: 1\nagent: {id: 1}\n")
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    assert find_config(deep) == path
    assert find_config(path) == path


def test_find_config_not_found_suggests_init(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="mlarena-sync init"):
        find_config(tmp_path)


# ------------------------------------------------------------------ token


@pytest.fixture
def target(tmp_path: Path):  # type: ignore[no-untyped-def]
    return load_config(write(tmp_path, "competition: 1\nagent: {id: 1}\n")).target()


def test_token_from_env_is_stripped(target) -> None:  # type: ignore[no-untyped-def]
    assert resolve_token(target, {"MLARENA_API_KEY": f"  {TOKEN}\n"}, None) == TOKEN


def test_token_file_wins_over_env(target, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    key_file = tmp_path / "key"
    key_file.write_text(TOKEN + "\n", encoding="utf-8")
    env = {"MLARENA_API_KEY": "mlk_user_other_token"}
    assert resolve_token(target, env, key_file) == TOKEN


def test_token_env_var_named_by_api_key_env(tmp_path: Path) -> None:
    path = write(tmp_path, "competition: 1\nagent: {id: 1}\napi_key_env: ARENA_CI_KEY\n")
    target = load_config(path).target()
    assert resolve_token(target, {"ARENA_CI_KEY": TOKEN, "MLARENA_API_KEY": "x"}, None) == TOKEN
    with pytest.raises(ConfigError, match="set ARENA_CI_KEY"):
        resolve_token(target, {"MLARENA_API_KEY": TOKEN}, None)


def test_missing_token_says_what_to_set(target, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigError, match="set MLARENA_API_KEY"):
        resolve_token(target, {"MLARENA_API_KEY": "   "}, None)
    with pytest.raises(ConfigError, match="cannot read"):
        resolve_token(target, {}, tmp_path / "absent")
    empty = tmp_path / "empty"
    empty.write_text("\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="empty"):
        resolve_token(target, {}, empty)


@pytest.mark.parametrize(
    "bad",
    ["key_id:key_pass", "mlk_user_only", "MLK_USER_a_b", "mlk_user_a_b c", "Bearer mlk_user_a_b"],
)
def test_malformed_token_is_an_auth_error_that_does_not_echo_it(target, bad: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(AuthError) as info:
        resolve_token(target, {"MLARENA_API_KEY": bad}, None)
    assert bad not in str(info.value)
    assert "malformed" in str(info.value)


# ------------------------------------------------------------------ overrides


def test_precedence_flag_over_env_over_yaml(target) -> None:  # type: ignore[no-untyped-def]
    env = {"MLARENA_SERVER": "http://localhost:7000/"}
    assert apply_overrides(target).server == "https://ml-arena.com"
    assert apply_overrides(target, env=env).server == "http://localhost:7000"
    assert apply_overrides(target, "http://127.0.0.1:1", env=env).server == "http://127.0.0.1:1"
    assert apply_overrides(target, competition=9, agent_id=3).agent.id == 3
    with pytest.raises(ConfigError, match="--server"):
        apply_overrides(target, "http://evil.example.com")
    with pytest.raises(ConfigError, match="MLARENA_SERVER"):
        apply_overrides(target, env={"MLARENA_SERVER": "nope"})
