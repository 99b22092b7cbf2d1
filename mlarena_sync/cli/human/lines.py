"""One event → one :class:`Line` a person reads: a symbol, a sentence, dim details.

:func:`format_event` picks the event's own formatter (:data:`FORMATTERS`, the common events),
else its ``text`` (a sentence written for people, tidied: relative times, no ``(s)``), else a
generic line: the name made readable and the one or two facts that matter. Never a log record.
A formatter returning None means "nothing to show" (a progress tick off a terminal, a sync that
changed nothing and is summed up by the result line after it).
"""

from __future__ import annotations

from datetime import datetime

from mlarena_sync.cli.human import fmt, words
from mlarena_sync.cli.human.banner import watching
from mlarena_sync.cli.human.line import Fields, Formatter, Line

__all__ = ["FORMATTERS", "Line", "format_event"]


def _text(fields: Fields, now: datetime) -> tuple[str, tuple[str, ...]]:
    """The event's ``text``, tidied: its first line, and the lines under it."""
    raw = str(fields.get("text") or "").rstrip()
    first, *rest = raw.splitlines() or [""]
    return fmt.tidy(first, now), tuple(rest)


def _block(value: object) -> tuple[str, ...]:
    """A multi-line value (a check's output, a traceback) as indented lines."""
    return tuple(f"  {line}" for line in str(value or "").rstrip().splitlines())


def _upload(f: Fields, now: datetime) -> Line:
    return Line(
        "up",
        str(f.get("file") or f.get("name")),
        f"{fmt.size(f.get('bytes'))}  {f.get('reason') or ''}".rstrip(),
    )


def _pulled(f: Fields, now: datetime) -> Line:
    return Line("down", str(f.get("file") or f.get("name")), fmt.size(f.get("bytes")))


def _delete(f: Fields, now: datetime) -> Line:
    reason = str(f.get("reason") or "")
    note = "deleted" if reason in ("", "deleted locally") else f"deleted: {reason}"
    return Line("delete", str(f.get("name")), note)


def _synced(f: Fields, now: datetime) -> Line | None:
    up, gone = int(f.get("uploaded") or 0), int(f.get("deleted") or 0)
    agent = f"agent {f['agent_id']}" if f.get("agent_id") is not None else "the agent"
    if up + gone == 0:
        return Line("ok", f"created {agent}") if f.get("created") else None
    text = f"synced {fmt.plural(up + gone, 'file')} to {agent}"
    note = f"{up} uploaded, {gone} deleted" if up and gone else ""
    if f.get("created"):
        text += " (new agent)"
    return Line("ok", text, note)


def _check_started(f: Fields, now: datetime) -> Line:
    return Line("detail", "running the check", str(f.get("command") or ""))


def _check_output(f: Fields, now: datetime) -> Line:
    return Line("detail", "check output:", more=_block(f.get("output")))


def _check_passed(f: Fields, now: datetime) -> Line:
    return Line("ok", "check passed")


def _validation_failed(f: Fields, now: datetime) -> Line:
    message = str(f.get("message") or "").rstrip().splitlines() or ["no reason given"]
    text = f"the server's validation failed: {message[0]}"
    return Line("warning", text, more=_block("\n".join(message[1:])))


def _api_request(f: Fields, now: datetime) -> Line:
    answer, took = f.get("status"), f.get("elapsed_ms")
    note = f"{took} ms" if took is not None else ""
    if answer is None and f.get("attempt"):
        note = f"attempt {f['attempt']}, no answer" + (f" after {note}" if note else "")
    text = f"{f.get('method')} {f.get('route')}" + (f" → {answer}" if answer is not None else "")
    return Line("debug", text, note)


def _api_retry(f: Fields, now: datetime) -> Line:
    why = f.get("error") or f.get("status")
    delay = f.get("retry_after_s") or f.get("delay_s")
    text = f"retrying {f.get('method')} {f.get('route')}" + (f" in {delay} s" if delay else "")
    return Line("debug", text, f"attempt {f.get('attempt')}: {why}" if why else "")


def _check_failed(f: Fields, now: datetime) -> Line:
    code = f.get("returncode")
    text, rest = _text(f, now)
    if not text:
        text = f"`{f.get('command')}` failed" + (f" with exit code {code}" if code else "")
    return Line("warning", text, more=rest + _block(f.get("output")))


def _deploy_requested(f: Fields, now: datetime) -> Line:
    dep = f.get("deployment_id")
    return Line("info", "deploy requested", f"deployment {dep}" if dep is not None else "")


def _deploy_recorded(f: Fields, now: datetime) -> Line:
    files = f.get("files")
    note = fmt.plural(int(files), "file") if isinstance(files, int) else ""
    return Line("detail", f"kept as deploy #{f.get('id')} in history", note)


def _agent_status(f: Fields, now: datetime) -> Line:
    """``status: queued → live · mean reward 42.3`` from the fields (the event's ``text`` says
    the server's names); a failure's message is the ``agent_error`` line after it."""
    status = f.get("status")
    if status is None:
        text, rest = _text(f, now)
        return Line("info", text or "status: unknown", more=rest)
    failed = str(status) in ("deploy_failed", "upload_failed")
    previous = f.get("previous")
    before = f"{words.status_word(previous)} → " if previous else ""
    said = words.status_phrase(status, None if failed else f.get("message"), score=f.get("score"))
    text = f"status: {before}{said}"
    return Line("info", fmt.tidy(text, now))


def _queue(f: Fields, now: datetime) -> Line:
    where = fmt.queue_place(f.get("position"), f.get("queue_position"), f.get("queue_total"))
    return Line("info", f"queued: position {where}")


def _run(f: Fields, now: datetime) -> Line:
    text, rest = _text(f, now)
    return Line("info", text, more=rest)


def _agent_error(f: Fields, now: datetime) -> Line:
    message = str(f.get("message") or "").rstrip().splitlines() or [""]
    text = f"{words.status_word(f.get('status'))}: {message[0]}".rstrip(": ")
    return Line("error", text, more=_block("\n".join(message[1:])))


#: Where a deploy requested by a push that did not wait is followed.
FOLLOW_IT = "follow it: `mlarena-sync logs --follow`"


def _push_done(f: Fields, now: datetime) -> Line:
    """push's result; ``deployed: active (Deployed: mean reward 42.3333)`` in words (``deployed:
    live · mean reward 42.3``); a deploy not waited for says where to follow it."""
    status, message = f.get("status"), f.get("message")
    raw = str(f.get("text") or "").rstrip()
    for said in (f"{status} ({message})", f"{status}") if status else ():
        if raw.endswith(f" {said}"):  # "deployed: active (...)", "the one in flight ended active"
            raw = raw.removesuffix(said) + words.status_phrase(status, message)
            break
    text, rest = _text({"text": raw}, now)
    failed = str(status or "") in ("deploy_failed", "upload_failed")
    note = FOLLOW_IT if f.get("deployed") and status is None else ""
    return Line("error" if failed else "result", text, note, more=rest)


def _deploy_waiting(f: Fields, now: datetime) -> Line:
    text, rest = _text(f, now)
    until = f.get("until")
    if isinstance(until, datetime):  # "until 15:49:05", in local time: "for 48 s"
        local = until.astimezone()
        for shape in ("%Y-%m-%d %H:%M:%S", "%H:%M:%S"):
            shown = f"until {local.strftime(shape)}"
            if shown in text:
                left = fmt.relative(until, now)
                wait = left.replace("in ", "for ", 1) if left.startswith("in ") else "a moment"
                text = text.replace(shown, wait)
                break
    if not text:
        until = f.get("until")
        when = fmt.relative(until, now) if isinstance(until, datetime) else "later"
        text = f"deploy waits ({f.get('blocker')}): next try {when}"
    return Line("warning", text, more=rest)


def _agent_created(f: Fields, now: datetime) -> Line:
    text, rest = _text(f, now)
    return Line("ok", text or f"created agent {f.get('agent_id')}", more=rest)


#: Why ``watch`` stopped, as a person knows it (the signal's name stays in ``--json``).
STOP_REASONS = {"SIGINT": "Ctrl-C", "SIGTERM": "terminated", "SIGHUP": "the terminal closed"}


def _watch_stopped(f: Fields, now: datetime) -> Line:
    """``watch stopped (Ctrl-C)``, not ``(SIGINT)``."""
    reason = str(f.get("reason") or "")
    text, rest = _text(f, now)
    said = f"watch stopped ({reason})"
    if reason in STOP_REASONS and text.startswith(said):
        text = f"watch stopped ({STOP_REASONS[reason]})" + text[len(said) :]
    return Line("info", text or "watch stopped", more=rest)


def _silent(f: Fields, now: datetime) -> None:
    return None


FORMATTERS: dict[str, Formatter] = {
    "upload": _upload,
    "upload_progress": _silent,  # a terminal shows a bar (live.py); elsewhere nothing
    "pulled": _pulled,
    "delete": _delete,
    "synced": _synced,
    "agent_created": _agent_created,
    "check_started": _check_started,
    "check_output": _check_output,
    "check_passed": _check_passed,
    "check_failed": _check_failed,
    "validation_failed": _validation_failed,
    "api_request": _api_request,
    "api_retry": _api_retry,
    "deploy_requested": _deploy_requested,
    "deploy_recorded": _deploy_recorded,
    "agent_status": _agent_status,
    "queue": _queue,
    "run": _run,
    "agent_error": _agent_error,
    "push_done": _push_done,
    "deploy_waiting": _deploy_waiting,
    "watching": watching,
    "watch_stopped": _watch_stopped,
}

#: The facts a generic line shows, in order of preference (two at most).
_FACTS = (
    "message",
    "reason",
    "file",
    "name",
    "path",
    "runtime",
    "url",
    "status",
    "folder",
    "command",
    "error",
)
_LEVEL_KIND = {"warning": "warning", "error": "error", "debug": "debug", "result": "result"}


def _generic(name: str, kind: str, f: Fields, now: datetime) -> Line:
    facts: list[str] = []
    more: tuple[str, ...] = ()
    for key in _FACTS:
        value = f.get(key)
        if value is None or value == "" or len(facts) == 2:
            continue
        text = str(value.isoformat() if isinstance(value, datetime) else value)
        head, *rest = text.rstrip().splitlines() or [""]
        facts.append(fmt.tidy(head, now))
        more += tuple(rest)
    title = fmt.readable_name(name)
    return Line(kind, f"{title}: {', '.join(facts)}" if facts else title, more=more)


def format_event(name: str, level: str, fields: Fields, now: datetime) -> Line | None:
    """The line a person sees for one event (None: nothing to show)."""
    kind = _LEVEL_KIND.get(level, "info")
    formatter = FORMATTERS.get(name)
    if formatter is not None:
        line = formatter(fields, now)
        if line is not None and kind in ("warning", "error") and line.kind not in ("error",):
            line = Line(kind, line.text, line.note, line.more)
        return line
    if isinstance(fields.get("text"), str) and str(fields["text"]).strip():
        text, rest = _text(fields, now)
        return Line(kind, text, more=rest)
    return _generic(name, kind, fields, now)
