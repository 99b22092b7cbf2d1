"""Shell completion scripts (bash, zsh, fish) written from a :class:`Tree`: the commands, their
flags, and what a flag's value completes to (a file, a folder, one of its choices, or nothing).

Static scripts, generated from the real parser tree by ``mlarena-sync completion SHELL``
(:mod:`.completion`): completing costs no Python start-up, and nothing needs registering beyond
the one line the command's help shows.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal

__all__ = ["SCRIPTS", "Command", "Option", "Tree", "ValueKind"]

#: What an option's value completes to: nothing (a flag), a file, a folder, a choice, free text.
ValueKind = Literal["none", "file", "dir", "choice", "text"]

#: A word safe to write unquoted in any of the three shells (choices, commands, flags).
_PLAIN = re.compile(r"[A-Za-z0-9_.:/@+=-]+")


@dataclass(frozen=True)
class Option:
    flags: tuple[str, ...]
    help: str
    value: ValueKind = "none"
    choices: tuple[str, ...] = ()
    metavar: str = "VALUE"
    repeat: bool = False  # -v -v


@dataclass(frozen=True)
class Command:
    name: str
    help: str
    options: tuple[Option, ...]
    words: tuple[str, ...] = ()  # the choices of its positional argument, if any


@dataclass(frozen=True)
class Tree:
    prog: str
    version: str
    options: tuple[Option, ...]  # before a command
    commands: tuple[Command, ...]

    @property
    def function(self) -> str:
        return "_" + re.sub(r"\W", "_", self.prog)


def _plain(words: Iterable[str]) -> list[str]:
    return [w for w in words if _PLAIN.fullmatch(w)]


def _header(tree: Tree, shell: str, install: str) -> str:
    return (
        f"# {shell} completion for {tree.prog} {tree.version}, written by "
        f"`{tree.prog} completion {shell}`\n# install: {install}\n"
    )


# ---- bash -------------------------------------------------------------------------------------


def _bash_values(options: Iterable[Option]) -> list[str]:
    """``case "$prev"`` arms: what follows a flag that takes a value."""
    arms = []
    for opt in options:
        flags = "|".join(_plain(opt.flags))
        if opt.value == "none" or not flags:
            continue
        if opt.value in ("file", "dir"):
            gen = "-f" if opt.value == "file" else "-d"
            body = f'compopt -o filenames 2>/dev/null; COMPREPLY=( $(compgen {gen} -- "$cur") )'
        elif opt.value == "choice":
            body = f'COMPREPLY=( $(compgen -W "{" ".join(_plain(opt.choices))}" -- "$cur") )'
        else:
            body = ":"  # free text: nothing to offer
        arms.append(f"                {flags}) {body}; return 0 ;;")
    return arms


def _bash_arm(pattern: str, options: tuple[Option, ...], words: Iterable[str]) -> list[str]:
    flags = " ".join(_plain(f for opt in options for f in opt.flags))
    return [
        f"        {pattern})",
        '            case "$prev" in',
        *_bash_values(options),
        "            esac",
        '            if [[ "$cur" == -* ]]; then',
        f'                COMPREPLY=( $(compgen -W "{flags}" -- "$cur") )',
        "            else",
        f'                COMPREPLY=( $(compgen -W "{" ".join(_plain(words))}" -- "$cur") )',
        "            fi ;;",
    ]


def bash(tree: Tree) -> str:
    fn = tree.function
    takes_value = "|".join(
        f for opt in tree.options if opt.value != "none" for f in _plain(opt.flags)
    )
    lines = [
        f"{fn}() {{",
        "    local cur prev word cmd='' i skip=0",
        "    COMPREPLY=()",
        '    cur="${COMP_WORDS[COMP_CWORD]}"',
        '    prev="${COMP_WORDS[COMP_CWORD-1]}"',
        "    for (( i = 1; i < COMP_CWORD; i++ )); do",
        '        word="${COMP_WORDS[i]}"',
        "        if (( skip )); then skip=0; continue; fi",
        '        case "$word" in',
        f"            {takes_value or '--'}) skip=1 ;;",
        "            -*) ;;",
        '            *) cmd="$word"; break ;;',
        "        esac",
        "    done",
        '    case "$cmd" in',
        *_bash_arm('""', tree.options, (c.name for c in tree.commands)),
    ]
    for command in tree.commands:
        if _PLAIN.fullmatch(command.name):
            lines += _bash_arm(command.name, command.options, command.words)
    lines += ["    esac", "    return 0", "}", f"complete -F {fn} {tree.prog}"]
    install = f'eval "$({tree.prog} completion bash)" in ~/.bashrc'
    return _header(tree, "bash", install) + "\n".join(lines) + "\n"


# ---- zsh --------------------------------------------------------------------------------------


def _zsh_text(text: str) -> str:
    """Help text inside a single-quoted ``_arguments`` spec: no quote, bracket or colon."""
    text = text.replace("[", "(").replace("]", ")").replace(":", " -")
    return text.replace("'", "'\\''").replace("\n", " ")


def _zsh_specs(options: Iterable[Option]) -> list[str]:
    specs = []
    for opt in options:
        for flag in _plain(opt.flags):
            star = "*" if opt.repeat else ""
            eq = "=" if opt.value != "none" and flag.startswith("--") else ""
            spec = f"{star}{flag}{eq}[{_zsh_text(opt.help)}]"
            what = _zsh_text(opt.metavar.lower()) or "value"
            if opt.value == "file":
                spec += f":{what}:_files"
            elif opt.value == "dir":
                spec += f":{what}:_files -/"
            elif opt.value == "choice":
                spec += f":{what}:({' '.join(_plain(opt.choices))})"
            elif opt.value == "text":
                spec += f":{what}: "
            specs.append(f"'{spec}'")
    return specs


def _zsh_arguments(indent: str, specs: list[str], tail: str) -> list[str]:
    body = [f"{indent}    {spec} \\" for spec in specs]
    return [f"{indent}_arguments -C \\", *body, f"{indent}    {tail}"]


def zsh(tree: Tree) -> str:
    fn = tree.function
    described = [f"        '{c.name}:{_zsh_text(c.help)}'" for c in tree.commands]
    lines = [
        f"{fn}() {{",
        '    local curcontext="$curcontext" state line ret=1',
        "    typeset -A opt_args",
        "    local -a commands",
        "    commands=(",
        *described,
        "    )",
        *_zsh_arguments(
            "    ", [*_zsh_specs(tree.options), "'1: :->command'"], "'*:: :->args' && ret=0"
        ),
        "    case $state in",
        f"        command) _describe -t commands '{tree.prog} command' commands && ret=0 ;;",
        "        args)",
        "            case $words[1] in",
    ]
    for command in tree.commands:
        specs = _zsh_specs(command.options)
        if command.words:
            specs.append(f"'1:{command.name}:({' '.join(_plain(command.words))})'")
        lines += [f"                {command.name})"]
        lines += _zsh_arguments("                    ", specs, "&& ret=0 ;;")
    lines += ["            esac ;;", "    esac", "    return ret", "}", ""]
    lines += [
        f'if [[ "$funcstack[1]" == "_{tree.prog}" ]]; then',
        f'    {fn} "$@"',
        "else",
        f"    compdef {fn} {tree.prog}",
        "fi",
    ]
    install = (
        f'eval "$({tree.prog} completion zsh)" in ~/.zshrc, after compinit '
        f"(or save it as _{tree.prog} in a folder of $fpath)"
    )
    # `#compdef` first: zsh reads it when the script is saved as a completion function
    return f"#compdef {tree.prog}\n" + _header(tree, "zsh", install) + "\n".join(lines) + "\n"


# ---- fish -------------------------------------------------------------------------------------


def _fish_text(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'").replace("\n", " ") + "'"


def _fish_option(prefix: str, opt: Option) -> str | None:
    names = []
    for flag in _plain(opt.flags):
        if flag.startswith("--"):
            names.append(f"-l {flag[2:]}")
        elif len(flag) == 2:
            names.append(f"-s {flag[1]}")
        else:
            names.append(f"-o {flag[1:]}")
    if not names:
        return None
    value = {
        "none": "",
        "file": " -r -F",
        "dir": " -x -a '(__fish_complete_directories)'",
        "choice": f" -x -a {_fish_text(' '.join(_plain(opt.choices)))}",
        "text": " -x",
    }[opt.value]
    return f"{prefix} {' '.join(names)}{value} -d {_fish_text(opt.help)}"


def fish(tree: Tree) -> str:
    top = f"complete -c {tree.prog} -n __fish_use_subcommand"
    lines = [f"complete -c {tree.prog} -f"]
    lines += [f"{top} -a {c.name} -d {_fish_text(c.help)}" for c in tree.commands]
    lines += [line for opt in tree.options if (line := _fish_option(top, opt))]
    for command in tree.commands:
        seen = f"complete -c {tree.prog} -n '__fish_seen_subcommand_from {command.name}'"
        if command.words:
            lines.append(f"{seen} -a {_fish_text(' '.join(_plain(command.words)))}")
        lines += [line for opt in command.options if (line := _fish_option(seen, opt))]
    install = (
        f"{tree.prog} completion fish > ~/.config/fish/completions/{tree.prog}.fish "
        f"(or `{tree.prog} completion fish | source` in ~/.config/fish/config.fish)"
    )
    return _header(tree, "fish", install) + "\n".join(lines) + "\n"


#: Shell name → script writer.
SCRIPTS: dict[str, Callable[[Tree], str]] = {"bash": bash, "zsh": zsh, "fish": fish}
