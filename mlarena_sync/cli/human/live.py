"""What is redrawn in place at a terminal: upload progress bars and the live deploy line.

:class:`DeployLine` is the state of a deploy being followed (pure: fed the status events, asked
for its sentence at a time): ``queued · position 2 of 5 · 12 s``, then one result
(``live · mean reward 195.3 · took 42 s``). :class:`Board` shows it and the upload bars with
rich's ``Live`` (one display, transient: what it drew is gone when it stops, the lines printed
meanwhile stay). Only used with colour at a terminal; elsewhere nothing here runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from mlarena_sync.cli.human import fmt, words

if TYPE_CHECKING:
    from rich.console import Console, RenderableType
    from rich.live import Live
    from rich.progress import Progress, TaskID

__all__ = ["FAILED", "SETTLED", "Board", "DeployLine"]

#: A deploy followed ends in one of these.
SETTLED = frozenset({"active", "deploy_failed", "upload_failed"})
FAILED = frozenset({"deploy_failed", "upload_failed"})


def status_word(status: object) -> str:
    """A followed deploy's status in words (:mod:`.words`, the one mapping)."""
    return words.status_word(status or "deploying", following=True)


class DeployLine:
    """A deploy followed from its request (``start``, monotonic seconds) to its end."""

    def __init__(self, start: float, agent_id: object = None) -> None:
        self.start = start
        self.agent_id = agent_id
        self.status: str | None = None
        self.position: str | None = None
        self.runs: dict[int, dict[str, Any]] = {}
        self.score: float | None = None
        self.message: str | None = None  # the server's, with the status (v0: its reward)
        self.ended_at: float | None = None
        self.seen = False  # a status line of this deploy was seen

    def feed(self, name: str, fields: Mapping[str, Any], now: float) -> None:
        if name == "agent_status":
            self.status = str(fields.get("status"))
            self.score = float(fields["score"]) if fields.get("score") is not None else None
            self.message = str(fields["message"]) if fields.get("message") else None
            # The first status after a request may still be the previous deploy's verdict: a
            # settled one ends this deploy only after a transition into it.
            if self.status in SETTLED and (self.seen or fields.get("previous")):
                self.ended_at = now
            self.seen = True
        elif name == "queue":
            self.position = fmt.queue_place(
                fields.get("position"), fields.get("queue_position"), fields.get("queue_total")
            )
        elif name == "run" and isinstance(fields.get("run"), int):
            self.runs[int(fields["run"])] = dict(fields)

    def end(self, now: float) -> None:
        """The result came before a settled status line (a deploy faster than a poll)."""
        if self.ended_at is None:
            self.ended_at = now

    @property
    def ended(self) -> bool:
        return self.ended_at is not None

    @property
    def failed(self) -> bool:
        return self.status in FAILED

    def describe(self, now: float) -> str:
        """The live line: ``queued · position 2 of 5 · 12 s``."""
        parts = [status_word(self.status) if self.status else "waiting for the server"]
        if self.status in (None, "deploy_queue") and self.position:
            parts.append(f"position {self.position}")
        running = [r for r in self.runs.values() if r.get("status") not in ("finished", "done")]
        if self.runs and self.status != "deploy_queue":
            done = len(self.runs) - len(running)
            parts.append(f"runs {done}/{len(self.runs)} done")
            steps = [int(r["steps"]) for r in running if isinstance(r.get("steps"), int)]
            if steps:
                parts.append(f"{max(steps)} steps")
        parts.append(fmt.duration(int(now - self.start)))  # whole seconds: a calm line
        return " · ".join(parts)

    def mean_reward(self) -> float | None:
        rewards = [float(r["reward"]) for r in self.runs.values() if r.get("reward") is not None]
        return sum(rewards) / len(rewards) if rewards else None

    def _score(self) -> list[str]:
        """``score 195.3``, else ``mean reward 195.3 over 3 runs``, else the reward the
        server's message names (v0 sends no score), else nothing."""
        if self.score is not None and self.status == "active":
            return [f"score {self.score:.1f}".removesuffix(".0")]
        mean = self.mean_reward()
        if mean is None:
            said = words.with_reward(self.message) if self.status == "active" else None
            return [said] if said else []
        runs = len([r for r in self.runs.values() if r.get("reward") is not None])
        shown = f"{mean:.1f}".removesuffix(".0")
        return [f"mean reward {shown}" + (f" over {runs} runs" if runs > 1 else "")]

    def result(self, now: float) -> str:
        """The one line that ends a deploy followed: ``agent 101 deployed: live · took 42 s``."""
        who = f"agent {self.agent_id}" if self.agent_id is not None else "the agent"
        if self.failed:
            return f"{who}: {self.summary(now)}"
        return f"{who} deployed: {self.summary(now)}"

    def summary(self, now: float, *, said: str = "") -> str:
        """The facts of the result: ``live · mean reward 195.3 · took 42 s``; without what the
        sentence ``said`` beside it already tells (the status, a reward)."""
        word = status_word(self.status)
        parts = [] if word in said else [word]
        if "reward" not in said and "score" not in said:
            parts += self._score()
        parts.append(f"took {fmt.duration((self.ended_at or now) - self.start)}")
        return " · ".join(parts)


class _Parts:
    """The live display's content, asked again at every refresh (the elapsed time moves)."""

    def __init__(self, board: Board) -> None:
        self.board = board

    def __rich__(self) -> RenderableType:
        from rich.console import Group
        from rich.text import Text

        board = self.board
        items: list[RenderableType] = []
        if board.progress is not None and board.tasks:
            items.append(board.progress.get_renderable())
        if board.deploy is not None and board.spinner is not None:
            board.spinner.update(text=Text(board.deploy.describe(board.clock()), style="blue"))
            items.append(board.spinner)
        return Group(*items)


class Board:
    """The one rich ``Live`` display of a run: upload bars and the deploy line."""

    def __init__(self, console: Console, clock: Any) -> None:
        self.console = console
        self.clock = clock
        self.live: Live | None = None
        self.progress: Progress | None = None
        self.tasks: dict[str, TaskID] = {}
        self.deploy: DeployLine | None = None
        self.spinner: Any = None

    def _ensure(self) -> None:
        if self.live is None:
            from rich.live import Live

            self.live = Live(
                _Parts(self),
                console=self.console,
                transient=True,
                refresh_per_second=8,
                redirect_stdout=False,
                redirect_stderr=False,
            )
            self.live.start()

    def upload(self, file: str, done: int, total: int) -> None:
        """A progress tick of ``file`` (the bar appears with its first tick)."""
        if self.progress is None:
            from rich.progress import (
                BarColumn,
                DownloadColumn,
                Progress,
                TextColumn,
                TimeRemainingColumn,
                TransferSpeedColumn,
            )

            self.progress = Progress(
                TextColumn("↑ {task.description}", style="cyan"),
                BarColumn(),
                DownloadColumn(),
                TransferSpeedColumn(),
                TimeRemainingColumn(),
                console=self.console,
                auto_refresh=False,
            )
        if file not in self.tasks:
            self.tasks[file] = self.progress.add_task(file, total=total)
        self.progress.update(self.tasks[file], completed=done, total=total)
        self._ensure()

    def uploaded(self, file: str) -> None:
        """``file`` is done: its bar goes (its line is printed instead)."""
        task = self.tasks.pop(file, None)
        if task is not None and self.progress is not None:
            self.progress.remove_task(task)
        self._stop_if_idle()

    def follow(self, deploy: DeployLine) -> None:
        from rich.spinner import Spinner

        self.deploy = deploy
        self.spinner = Spinner("dots", style="blue")
        self._ensure()

    def unfollow(self) -> None:
        self.deploy = None
        self._stop_if_idle()

    def _stop_if_idle(self) -> None:
        if self.live is not None and not self.tasks and self.deploy is None:
            self.stop()

    def stop(self) -> None:
        if self.live is not None:
            live, self.live = self.live, None
            live.stop()
        self.tasks.clear()
        self.deploy = None
