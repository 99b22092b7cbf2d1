"""``mlarena-sync init``: write a commented ``mlarena.yaml``. Never overwrites a file.

With flags it asks nothing. Without ``--challenge`` it prompts on a TTY, and is a usage error
otherwise (a CI job must say what it wants).
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable
from pathlib import Path

from mlarena_sync.api.models import Runtime
from mlarena_sync.commands.invocation import Invocation
from mlarena_sync.config.model import CONFIG_NAME, DEFAULT_SERVER, render_init_yaml, validate_server
from mlarena_sync.config.overrides import read_api_key_file
from mlarena_sync.engine.challenge import ChallengeFacts, look_up
from mlarena_sync.errors import ConfigError, ServerError, TransportError

__all__ = ["add_arguments", "default_agent_name", "expectations", "run", "write_config"]


def default_agent_name(folder: Path) -> str:
    """A safe agent name from the folder's name (``my agent/`` → ``my-agent``)."""
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", folder.resolve().name).strip("-._")
    return name or "my-agent"


def _exists_error(path: Path) -> ConfigError:
    return ConfigError(
        f"{path} already exists; init never overwrites it",
        hint="edit it, or remove it first to start again",
    )


def write_config(path: Path, text: str) -> None:
    """Create ``path`` with ``text``; :class:`ConfigError` if it exists (never overwritten)."""
    try:
        with path.open("x", encoding="utf-8") as fh:
            fh.write(text)
    except FileExistsError:
        raise _exists_error(path) from None
    except OSError as exc:
        raise ConfigError(f"cannot write {path}: {exc.strerror}") from None


def _ask(prompt: Callable[[str], str], question: str, default: str | None) -> str | None:
    shown = f" [{default}]" if default else ""
    try:
        answer = prompt(f"{question}{shown}: ").strip()
    except EOFError:  # Ctrl-D, or stdin ran out
        raise ConfigError(
            "init needs answers: pass --challenge/--agent-name",
            hint="e.g. mlarena-sync init --challenge 42 --agent-name my-agent",
        ) from None
    return answer or default


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """This command's own flags (the common ones are the CLI's)."""
    parser.add_argument(
        "--challenge",
        "--competition",
        dest="competition",
        type=int,
        metavar="ID",
        help="the challenge id: the number in its URL",
    )
    parser.add_argument("--agent-name", metavar="NAME", help="submission created on first push")
    parser.add_argument("--agent-id", type=int, metavar="ID", help="bind an existing submission")
    parser.add_argument("--runtime-language", metavar="LANG", help="e.g. python")
    parser.add_argument("--runtime-framework", metavar="FW", help="e.g. gymnasium")
    parser.add_argument("--runtime-framework-version", metavar="V", help="e.g. 1.0.0")


def run(
    inv: Invocation, args: argparse.Namespace, prompt: Callable[[str], str] | None = None
) -> int:
    folder = inv.cwd
    path = (folder / args.config).absolute() if args.config else folder / CONFIG_NAME
    if path.exists():  # say so before asking anything
        raise _exists_error(path)
    competition, agent_name, server = _answers(inv, args, prompt or input)
    server = validate_server(server, source="--server")
    token = _token(inv, args)
    # The challenge is read where this folder's commands will talk: --server, else
    # MLARENA_SERVER (which overrides the file at run time), else the file's server.
    at = server if args.server else (inv.env.get("MLARENA_SERVER", "").strip() or server)
    if at != server:
        at = validate_server(at, source="MLARENA_SERVER")
    facts = _challenge(inv, at, token, competition, getattr(args, "api", None))
    entry = (facts.entry if facts is not None else None) or "agent.py"
    text = render_init_yaml(
        competition,
        agent_name,
        server,
        agent_id=args.agent_id,
        language=args.runtime_language,
        framework=args.runtime_framework,
        framework_version=args.runtime_framework_version,
        entry=entry,
    )
    write_config(path, text)
    _report(inv, path, competition, agent_name, entry, facts, has_token=token is not None)
    return 0


def _answers(
    inv: Invocation, args: argparse.Namespace, ask: Callable[[str], str]
) -> tuple[int, str | None, str]:
    """The challenge id, the agent name and the server: from the flags, else asked at a
    terminal; no challenge id off a terminal is a usage error."""
    server: str = args.server or DEFAULT_SERVER
    competition: int | None = args.competition
    agent_name: str | None = args.agent_name
    if competition is None and inv.interactive:
        while competition is None:
            raw = _ask(ask, "challenge id (the number in its URL)", None) or ""
            if raw.isdigit():
                competition = int(raw)
            elif raw:
                inv.out.text(f"{raw!r}: the challenge id must be a number (e.g. 42)")
        if agent_name is None and args.agent_id is None:
            agent_name = _ask(ask, "agent name", default_agent_name(inv.cwd))
        # --server only: MLARENA_SERVER overrides the file at run time, it is not written
        server = _ask(ask, "server", server) or server
    if competition is None:
        raise ConfigError(
            "init needs --challenge ID (it asks only on a terminal)",
            hint="e.g. mlarena-sync init --challenge 42 --agent-name my-agent",
        )
    if agent_name is None and args.agent_id is None:
        agent_name = default_agent_name(inv.cwd)
    return competition, agent_name, server


def expectations(cid: int, entry: str, facts: ChallengeFacts) -> list[str]:
    """What the challenge expects, for a person: one line each (kind and entry file, the
    agent class, the runtimes offered and how to pick one)."""
    what = "the file it scores" if facts.is_file_challenge else "the file it runs"
    kind = f", a {facts.kind_label}" if facts.kind_label else ""
    head = f"challenge {cid} ({facts.name or 'unnamed'}{kind}): "
    if facts.is_file_challenge and facts.entry is None:  # v0 does not name it
        lines = [head + "the server does not name the file it scores: set `entry:` to it"]
    else:
        lines = [head + f"{what} is {entry}"]
    if facts.contract and not facts.is_file_challenge:
        lines.append(f"  {entry} defines {facts.contract} (the challenge's template)")
    runtimes = facts.runtime_lines()
    if runtimes:
        lines.append("  runtimes offered (set `runtime: {id: N}` in mlarena.yaml to pick one):")
        lines += [f"    {line}" for line in runtimes]
    elif facts.is_file_challenge:
        lines.append("  no runtime to pick: the file is scored, not run")
    return lines


def _report(
    inv: Invocation,
    path: Path,
    cid: int,
    agent_name: str | None,
    entry: str,
    facts: ChallengeFacts | None,
    *,
    has_token: bool,
) -> None:
    next_step = (
        "next: `mlarena-sync plan`, then `mlarena-sync push`"
        if has_token
        else "next: set MLARENA_API_KEY, then `mlarena-sync plan` (it checks the challenge too)"
        ", then `mlarena-sync push`"
    )
    lines = [f"wrote {path}"]
    lines += expectations(cid, entry, facts) if facts is not None else []
    inv.out.result(
        "config_written",
        "\n".join([*lines, next_step]),
        file=str(path),
        competition=cid,
        agent_name=agent_name,
        entry=entry,
        challenge_checked=facts is not None,
        challenge_name=facts.name if facts is not None else None,
        challenge_kind=facts.kind if facts is not None else None,
        agent_class=facts.contract if facts is not None else None,
        runtimes=[_runtime_json(r) for r in facts.runtimes] if facts is not None else [],
    )


def _runtime_json(r: Runtime) -> dict[str, object]:
    return {
        "id": r.id,
        "language": r.language,
        "language_version": r.language_version,
        "framework": r.framework,
        "framework_version": r.framework_version,
    }


def _token(inv: Invocation, args: argparse.Namespace) -> str | None:
    """The API token when one is at hand (``--api-key-file`` > ``MLARENA_API_KEY``), else None:
    ``init`` works offline, it only checks the challenge when it can."""
    key_file = getattr(args, "api_key_file", None)
    if key_file:
        return read_api_key_file(inv.cwd / key_file)  # the same rule as every other command
    return inv.env.get("MLARENA_API_KEY", "").strip() or None


def _unchecked(inv: Invocation, cid: int, reason: str, text: str) -> None:
    inv.out.warning("challenge_unchecked", competition=cid, reason=reason, text=text)


def _challenge(
    inv: Invocation, server: str, token: str | None, cid: int, api: str | None
) -> ChallengeFacts | None:
    """What the challenge expects, read when a token is at hand; ``None`` without one, or when
    the server cannot be reached (said, and the file is written with the defaults). A challenge
    the server does not know stops ``init`` (exit 2): nothing is written."""
    later = "check it later with `mlarena-sync plan`"
    if token is None:
        _unchecked(
            inv,
            cid,
            "no API token",
            f"challenge {cid} not checked (no API token); writing the defaults (entry: "
            f"agent.py): {later} once MLARENA_API_KEY is set",
        )
        return None
    inv.out.add_secret(token)
    try:
        return look_up(server, token, cid, api=api or "auto")
    except (TransportError, ServerError) as exc:
        _unchecked(
            inv,
            cid,
            exc.message,
            f"could not check challenge {cid} on {server} ({exc.message}); writing the "
            f"defaults (entry: agent.py): {later}",
        )
        return None
