"""Two numbers, two words (review M3, both API generations): ``history``'s ``#N`` is this
folder's ledger count, the server's ``deployment N`` is what ``status`` shows; both name them
distinctly, and ``diff``/``restore`` take a deployment id too (``d6``; a bare number that is no
ledger number but a deployment's id)."""

from __future__ import annotations

from helpers.cli import Cli, in_project
from helpers.project import Project

from mlarena_sync.arena import FakeArena
from mlarena_sync.store.ledger import Ledger


def test_ledger_numbers_and_deployment_ids_are_told_apart(
    arena: FakeArena, cli: Cli, project: Project
) -> None:
    assert cli(*in_project(project, "push", "--wait")).code == 0
    (project.state_dir / "ledger.jsonl").unlink()  # a deploy this ledger does not hold
    assert cli(*in_project(project, "push", "--deploy", "--wait")).code == 0
    project.write("notes.txt", "third\n")
    assert cli(*in_project(project, "push", "--wait")).code == 0
    first, second = Ledger(project.state_dir).records()
    assert (first.id, second.id) == (1, 2)
    assert first.deployment_id is not None and second.deployment_id is not None
    assert second.deployment_id > 2, "the server's ids run ahead of the ledger's numbers"

    status = cli(*in_project(project, "status"))
    assert "last deploy: deploy #2 in history, succeeded" in status.out, status.out
    history = cli(*in_project(project, "history")).out
    row = next(line for line in history.splitlines() if line.startswith("#2 "))
    assert row.split()[:2] == ["#2", f"d{second.deployment_id}"], history
    assert history.splitlines()[0].split()[:2] == ["#", "server"], history  # a header
    assert all(len(line) <= 80 for line in history.splitlines()), history  # fits a terminal

    by_id = cli(*in_project(project, "diff", f"d{first.deployment_id}"))
    by_number = cli(*in_project(project, "diff", "1"))
    assert by_id.code == by_number.code == 1 and by_id.out == by_number.out
    bare = cli(*in_project(project, "diff", str(second.deployment_id)))
    assert bare.code == 0 and "deploy #2 and the folder are equal" in bare.out, bare.text
    missing = cli(*in_project(project, "restore", "d999"))
    assert missing.code == 2, missing.text
    assert f"#2 = deployment {second.deployment_id}" in missing.err
