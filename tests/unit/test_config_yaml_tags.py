"""mlarena.yaml is plain data: YAML tags and merge keys are a config error (exit 2) naming the
file and the line, never a crash (issue 15, item 17)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlarena_sync.cli.main import main
from mlarena_sync.config.model import load_config
from mlarena_sync.errors import ConfigError

HEAD = "version: 1\nserver: http://127.0.0.1:9\ncompetition: 1\n"

CASES = [
    # id, the rest of the file, the line the error must name, words it must say
    ("python-name", "agent:\n  name: x\nsync: !!python/name:os.system\n", 6, "!!python/name"),
    (
        "python-apply",
        "agent:\n  name: !!python/object/apply:os.system [echo hi]\n",
        5,
        "!!python/object/apply",
    ),
    ("custom-tag", "agent:\n  name: !secret x\n", 5, "'!secret'"),
    ("merge-into-agent", "agent:\n  <<: {name: x}\n", 5, "merge keys (<<)"),
    (
        "merge-in-targets",
        "agent: &a\n  name: x\ntargets:\n  - <<: *a\n    name: t\n",
        7,
        "merge keys (<<)",
    ),
]


@pytest.mark.parametrize(
    ("rest", "line", "words"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_a_tag_or_merge_key_is_a_config_error_at_its_line(
    tmp_path: Path, rest: str, line: int, words: str
) -> None:
    path = tmp_path / "mlarena.yaml"
    path.write_text(HEAD + rest, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert message.startswith(f"{path}:{line}: "), message
    assert words in message, message


def test_a_tagged_config_exits_2_with_one_line_and_no_crash_log(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "mlarena.yaml").write_text(
        HEAD + "agent:\n  name: x\ndeploy:\n  check: !!python/name:os.system\n", encoding="utf-8"
    )
    assert main(["-C", str(tmp_path), "plan"]) == 2
    err = capsys.readouterr().err
    assert "mlarena.yaml:7:" in err and "!!python/name" in err, err
    assert "crash" not in err and "Traceback" not in err, err


def test_plain_anchors_and_explicit_plain_tags_still_load(tmp_path: Path) -> None:
    path = tmp_path / "mlarena.yaml"
    path.write_text(
        HEAD + "agent:\n  name: !!str 123\nfiles:\n  include: &inc ['*.py']\n  exclude: *inc\n",
        encoding="utf-8",
    )
    target = load_config(path).targets[0]
    assert target.agent.name == "123"
    assert target.files.include == ("*.py",) == target.files.exclude
