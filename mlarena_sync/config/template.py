"""The commented ``mlarena.yaml`` that ``mlarena-sync init`` writes.

``mlarena.yaml.example`` at the repository root is exactly
``render_init_yaml(42, "ppo-cartpole")`` (a test keeps them equal), so the example, the defaults
in :mod:`mlarena_sync.config.model` and what ``init`` writes cannot drift apart.
"""

from __future__ import annotations

import json

import yaml

__all__ = ["render_init_yaml"]

_COMMENT_COLUMN = 36


def _scalar(value: str) -> str:
    """``value`` as a YAML scalar: plain when it reads back unchanged, else double-quoted."""
    try:
        plain_ok = yaml.safe_load(value) == value and "#" not in value and value == value.strip()
    except yaml.YAMLError:
        plain_ok = False
    return value if plain_ok and value else json.dumps(value)


def _line(text: str, comment: str = "") -> str:
    if not comment:
        return text
    pad = max(_COMMENT_COLUMN - len(text), 3)
    return f"{text}{' ' * pad}# {comment}"


def _opt(indent: str, key: str, value: str | None, example: str, comment: str) -> str:
    """An active ``key: value`` line when given, else a commented-out example."""
    if value is not None:
        return _line(f"{indent}{key}: {value}", comment)
    return _line(f"{indent}# {key}: {example}", comment)


def render_init_yaml(
    competition: int,
    agent_name: str | None,
    server: str = "https://ml-arena.com",
    *,
    agent_id: int | None = None,
    runtime_id: int | None = None,
    language: str | None = None,
    framework: str | None = None,
    framework_version: str | None = None,
    entry: str = "agent.py",
) -> str:
    """A complete, commented ``mlarena.yaml``: every key with its default, one comment each.

    ``entry``: the file the challenge runs or scores (its ``entry_filename``); a Python entry
    gets a compile check, any other (a file challenge's ``submission.csv``) none."""
    check = (
        _line(f'  check: "python -m py_compile {entry}"', "local gate; non-zero = no deploy")
        if entry.endswith(".py")
        else _line("  check: null", "no local gate (a file challenge: nothing to compile)")
    )
    name = _scalar(agent_name) if agent_name is not None else None
    fv = _scalar(framework_version) if framework_version is not None else None
    lang = _scalar(language) if language is not None else None
    fw = _scalar(framework) if framework is not None else None
    lines = [
        "# mlarena.yaml: what mlarena-sync mirrors to ML Arena, and how it deploys.",
        "# Every key is shown with its default. The API token never goes in this file:",
        "# set MLARENA_API_KEY (or the variable api_key_env names), or use --api-key-file.",
        _line("version: 1", "format of this file; always 1"),
        _line(f"server: {_scalar(server)}", "or http://127.0.0.1:PORT for the fake arena"),
        _line(
            f"challenge: {competition}", "the challenge id, the number in its URL (or competition:)"
        ),
        _line("api: auto", "the server's API: auto (detected once) | v4.6 | v0"),
        _line("# name: default", "this target's name, for --target"),
        _line("api_key_env: MLARENA_API_KEY", "environment variable holding the API token"),
        _line(f"entry: {_scalar(entry)}", "the file the challenge runs or scores, uploaded last"),
        _line("submission:", "your agent on the challenge (or agent:)"),
        _opt("  ", "name", name, "ppo-cartpole", "created by the first push, unless id: is set"),
        _opt("  ", "id", str(agent_id) if agent_id else None, "1234", "or one you already have"),
        _line("runtime:", "optional; left out = the challenge's default"),
        _opt("  ", "language", lang, "python", "runtime language"),
        _opt("  ", "framework", fw, "gymnasium", "its framework"),
        _opt("  ", "framework_version", fv, '"1.0"', "quoted, so 1.10 stays 1.10"),
        _opt("  ", "id", str(runtime_id) if runtime_id else None, "7", "or one exact runtime id"),
        "files:",
        _line("  root: .", "the folder mirrored, relative to this file"),
        _line('  include: ["**"]', "gitignore-style patterns of files to sync"),
        _line('  exclude: [".venv/", "tests/", "*.ipynb"]', "gitignore-style; never synced"),
        _line("  gitignore: true", "also honour .gitignore and .mlarenaignore"),
        _line("  allow: []", "patterns let past the secrets guard (.env*, keys, token)"),
        "sync:",
        _line("  mode: safe", "safe | replica (replica: local wins, remote-only deleted)"),
        _line("  delete: true", "delete remote files removed locally"),
        _line("  max_delete: 5", "a push deleting more needs --force"),
        _line("  request_deadline: 60", "seconds one API call may take in all, retries included"),
        _line("  live: follow", "keep: watch holds edits to a live agent until a deploy follows"),
        "watch:",
        _line("  quiet: 0.3", "seconds without file changes before a sync"),
        _line("  max_wait: 5", "a never-ending stream of saves still syncs this often"),
        _line("  rescan: 30", "seconds between full rescans (missed events); 0 = never"),
        _line("  remote_every: 30", "seconds between looks at the server (browser edits); 0 = off"),
        "deploy:",
        _line("  auto: true", "watch: deploy once edits settle"),
        _line("  settle: 10", "seconds without changes before an automatic deploy"),
        _line("  min_interval: 60", "seconds between automatic deploys"),
        _line("  reserve: 1", "daily deploys that watch never spends (push may)"),
        check,
        _line("  check_timeout: 120", "seconds before the check is stopped (= failed)"),
        "history:",
        _line("  keep_bytes: 500000000", "deployed bytes kept for restore; oldest pruned first"),
        "# Several agents from one file: a list of blocks like the one above, each with a name;",
        "# keys given at the top level are shared by every target (--target NAME picks one).",
        "# targets:",
        "#   - {name: cartpole, challenge: 42, submission: {name: ppo-cartpole}}",
        "#   - {name: pendulum, challenge: 43, submission: {name: sac-pendulum}}",
    ]
    return "\n".join(lines) + "\n"
