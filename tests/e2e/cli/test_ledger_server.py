"""The deploy ledger records what the server deployed, not only the folder (on both API
generations): a file edited in the browser and left in place by the sync is recorded as the
server's version, so ``diff live`` shows it against the folder and ``restore live`` puts the
deployed bytes back."""

from __future__ import annotations

from helpers.cli import Cli, in_project
from helpers.project import Project

from mlarena_sync.arena import FakeArena
from mlarena_sync.store.ledger import Ledger
from mlarena_sync.store.objects import ObjectStore

BROWSER = "SIDE = 2  # edited in the browser\n"


def test_a_browser_edit_left_in_place_is_recorded_as_deployed(
    arena: FakeArena, cli: Cli, project: Project
) -> None:
    assert cli(*in_project(project, "push", "--wait")).code == 0
    aid = project.agent_id()
    assert aid is not None
    arena.browser_edit(aid, "helper.py", BROWSER)
    project.write("notes.txt", "edited here\n")
    pushed = cli(*in_project(project, "push", "--wait"))
    assert pushed.code == 0, pushed.text
    assert "left in place" in pushed.text

    record = Ledger(project.state_dir).records()[-1]
    entry = record.files["helper.py"]
    assert entry.server and entry.path == "lib/helper.py"
    assert ObjectStore(project.state_dir).read(entry.sha256) == BROWSER.encode()

    diff = cli(*in_project(project, "diff", "live"))
    assert diff.code == 1, diff.text
    assert "+SIDE = 1" in diff.out and "-SIDE = 2" in diff.out, diff.out
    assert "the server's version" in diff.out

    restored = cli(*in_project(project, "restore", "live"))
    assert restored.code == 0, restored.text
    assert (project.root / "lib/helper.py").read_text() == BROWSER
    assert (project.root / "notes.txt").read_text() == "edited here\n"
    assert cli(*in_project(project, "diff", "live")).code == 0


def test_a_server_version_never_read_is_not_restored_from_the_folder(
    arena: FakeArena, cli: Cli, project: Project
) -> None:
    assert cli(*in_project(project, "push", "--wait")).code == 0
    aid = project.agent_id()
    assert aid is not None
    arena.browser_edit(aid, "helper.py", BROWSER)
    project.write("notes.txt", "edited here\n")
    assert cli(*in_project(project, "push", "--wait")).code == 0
    ledger = Ledger(project.state_dir)
    entry = ledger.records()[-1].files["helper.py"]
    ObjectStore(project.state_dir).path(entry.sha256).unlink()
    _forget_bytes(ledger)  # as when the server's bytes could not be read back
    diff = cli(*in_project(project, "diff", "live"))
    assert diff.code == 1 and "bytes were not read" in diff.out, diff.text
    project.write("lib/helper.py", "SIDE = 3\n")
    assert cli(*in_project(project, "push", "--force")).code == 0
    restored = cli(*in_project(project, "--json", "restore", "1"))
    assert restored.code == 0, restored.text
    back = cli(*in_project(project, "--json", "restore", "2", "--force"))
    assert back.code == 0, back.text
    event = next(e for e in back.json_lines() if e["event"] == "restored")
    assert event["unknown"] == ["lib/helper.py"]
    assert "lib/helper.py" not in event["written"]
    assert (project.root / "lib/helper.py").read_text() == "SIDE = 1\n", "deploy 1's, untouched"


def _forget_bytes(ledger: Ledger) -> None:
    text = ledger.path.read_text()
    rec = ledger.records()[-1]
    ledger.path.write_text(text.replace(rec.files["helper.py"].sha256, ""))
