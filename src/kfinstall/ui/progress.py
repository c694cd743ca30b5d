"""How `up` shows its progress: a live table on a terminal, plain lines in a log or CI, JSON lines for scripts.

Modelled on `kind create cluster`: one line per step with a tick when done; while components install, one row
each with what it is doing and how many of its workloads are ready.

On a terminal the table is a Rich `Live` whose renderable is redrawn on a clock (`refresh_per_second`), not only when
an event arrives: every long step (the clone, the builds, minikube's start, image pulls, each component's wait) has
a spinner and an elapsed time that move while nothing else happens, so a slow step never looks hung. A pod's
problem shows on its component's row as soon as the cluster reports it; a failed row ends with ✗ and its reason;
an overall line says how many components are ready and for how long `up` has run. In a short terminal the
finished rows fold into one `✓ N ready` line (and, if still too long, the pending ones into one line); the last
frame, once `up` ends, shows every row. Piped, there is one plain line per change of state and no spinner.
"""

from __future__ import annotations

import sys
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TextIO

from kfinstall.install.events import FINISHED, Event
from kfinstall.ui import output
from kfinstall.ui.words import count, duration, workloads

if TYPE_CHECKING:
    from rich.console import Console, ConsoleOptions, RenderResult

_ICONS = {
    "ready": "[green]✓[/]",
    "skipped": "[green]✓[/]",
    "failed": "[red]✗[/]",
    "pending": "[dim]·[/]",
}
#: Spinner frames (cli-spinners' `dots`, as Rich's own `dots` spinner), and ASCII ones for a terminal without UTF-8.
_FRAMES = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
_ASCII_FRAMES = "|/-\\"
#: Redraws a second: the spinner's pace (and at most this many renders of the table per second).
REFRESH_PER_SECOND = 8


@dataclass
class _Row:
    phase: str = "pending"
    message: str = "waiting for dependencies"
    ready: int | None = None
    total: int | None = None
    started: float | None = None
    finished: float | None = None
    depends_on: tuple[str, ...] = ()
    #: The current problem of one of its pods, as the cluster says it ("" when none).
    problem: str = ""


@dataclass
class _Task:
    """A long whole-run step in progress (the clone, the builds, minikube's start, image pulls)."""

    message: str
    started: float
    ready: int | None = None
    total: int | None = None


class JsonLines:
    """One JSON object per event on stdout, for scripts (`--json`)."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stdout
        self._lock = threading.Lock()

    def __call__(self, event: Event) -> None:
        with self._lock:
            output.json_line({"time": round(time.time(), 3), **event.as_dict()}, self.stream)

    def start_components(self, ids: list[str]) -> None:
        pass

    def stop(self) -> None:
        pass


class Silent:
    """No progress at all (`--quiet`): the result and an error are all `up` prints."""

    def __call__(self, event: Event) -> None:
        pass

    def start_components(self, ids: list[str]) -> None:
        pass

    def stop(self) -> None:
        pass


@dataclass
class Display:
    """Human progress on stderr: a live table on a terminal, otherwise one line per change of state.

    Thread safety: events come from many threads and Rich's refresh thread renders the table; the state is
    guarded by `_lock`, and nothing of Rich's `Live` is called while `_lock` is held (its refresh takes its own
    lock, then ours, to render).
    """

    live: bool = field(default_factory=lambda: sys.stderr.isatty())
    rows: dict[str, _Row] = field(default_factory=dict)
    tasks: dict[str, _Task] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _live: Any = None
    #: The live table was started (once: events after `stop` print plain lines, they never start it again).
    _started: bool = False
    _final: float | None = None

    def __post_init__(self) -> None:
        self.console = output.stderr(soft_wrap=False)  # the live table fits itself to the terminal's width
        encoding = (self.console.encoding or "").lower()
        self._frames = _FRAMES if encoding.startswith("utf") else _ASCII_FRAMES

    # Events ----------------------------------------------------------------------------------------------

    def __call__(self, event: Event) -> None:
        with self._lock:
            lines = self._component(event) if event.component is not None else self._whole_run(event)
            starting = self._claim_start() if self.tasks or self.rows else False
        live = self._live  # one look: `stop` may clear it from another thread
        for line in lines:  # above the live table; in a pipe or log whole, however long (one line per change)
            if live is not None:
                live.console.print(line)
            else:
                self.console.print(line, soft_wrap=not self.live)
        if starting:
            self._start_live()
        elif live is not None:
            live.refresh()

    def _whole_run(self, event: Event) -> list[str]:
        """Lines to print for an event of the whole run; a `begin` starts a task, its `step` or `failed` ends it."""
        now = time.monotonic()
        if event.phase == "begin":
            self.tasks[event.task or event.message] = _Task(event.message, now, event.ready, event.total)
            return [] if self.live else [f" [cyan]…[/] {_escape(event.message)}"]
        if event.phase == "progress":
            task = self.tasks.setdefault(event.task or "", _Task(event.message, now))
            task.message, task.ready, task.total = event.message, event.ready, event.total
            return []  # a count that moves: only the live table shows it
        if event.task is not None:
            self.tasks.pop(event.task, None)
        icon = {"step": "[green]✓[/]", "note": "[yellow]![/]", "failed": "[red]✗[/]"}.get(event.phase, " ")
        return [f" {icon} {_escape(event.message)}"]

    def _component(self, event: Event) -> list[str]:
        """Update the component's row; the plain line to print for it when not live (one per change of state)."""
        assert event.component is not None
        row = self.rows.setdefault(event.component, _Row())
        now = time.monotonic()
        if event.phase == "problem":
            changed = event.message != row.problem
            row.problem = event.message
            if self.live or not changed or not event.message:
                return []
            return [f" [red]![/] {event.component:<26} problem  [red]{_escape(event.message)}[/]"]
        if event.phase == "restarted":  # a line of its own, above the live table too; the row's state stays
            return [f" [cyan]↻[/] {event.component:<26} {_escape(event.message)}"]
        if event.phase == "pending":
            row.depends_on = event.depends_on or ()
            row.phase, row.message = "pending", event.message
            return []
        changed = event.phase != row.phase
        if row.started is None and event.phase not in ("pending", "ready", "failed"):
            row.started = now
        if event.phase in FINISHED:
            row.finished = now
            if row.started is None:
                row.started = now
        if event.phase != "failed":
            row.problem = "" if event.phase in ("ready", "skipped") else row.problem
        row.phase, row.message = event.phase, event.message
        if event.total is not None:
            row.ready, row.total = event.ready, event.total
        if self.live:
            return []
        if (changed and event.phase != "waiting") or event.phase == "retrying":
            return [self._line(event.component, row)]
        return []

    def start_components(self, ids: list[str]) -> None:
        """Show one row per component from now on."""
        with self._lock:
            for component_id in ids:
                self.rows.setdefault(component_id, _Row())
            starting = self._claim_start()
        if starting:
            self._start_live()

    def _claim_start(self) -> bool:
        """Whether this caller starts the live table (called with `_lock` held: one caller, once, never after stop)."""
        if not self.live or self._started or self._final is not None:
            return False
        self._started = True
        return True

    def _start_live(self) -> None:
        from rich.live import Live

        live = Live(self, console=self.console, refresh_per_second=REFRESH_PER_SECOND, transient=False)
        live.start()
        self._live = live
        if self._final is not None and self._live is live:  # `stop` came while it started (from another thread)
            self._live = None
            live.stop()

    def stop(self) -> None:
        """The last frame: every row as it ended (rows still in progress say `stopped`)."""
        with self._lock:
            self._final = time.monotonic()
        if self._live is not None:
            live, self._live = self._live, None
            live.stop()

    # Plain lines -----------------------------------------------------------------------------------------

    def _line(self, component: str, row: _Row) -> str:
        icon = _ICONS.get(row.phase, "[cyan]…[/]")
        counted = f" {workloads(row.ready or 0, row.total)}" if row.total else ""
        return f" {icon} {component:<26} {row.phase}{counted}  [dim]{_escape(row.message)}[/]"

    # The live table --------------------------------------------------------------------------------------

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        """The table as it is now (Rich's refresh thread calls this on its clock), one line per row, each cut to
        the terminal's width at its message (the icon, name, counts and time always show)."""
        with self._lock:
            lines = self._frame(options.size.height)
        yield from (_fit(markup, message, options.max_width) for markup, message in lines)

    def _frame(self, height: int) -> list[tuple[str, str]]:
        """The lines of the table now: (markup that always shows, markup of the message cut to fit)."""
        now = self._final or time.monotonic()
        spin = self._frames[int(now * REFRESH_PER_SECOND) % len(self._frames)]
        lines: list[tuple[str, str]] = []
        for task in self.tasks.values():
            counted = f" ({task.ready}/{task.total})" if task.total else ""
            icon = "[yellow]-[/]" if self._final else f"[cyan]{spin}[/]"
            lines.append((f" {icon} {duration(now - task.started):>5} ", _escape(task.message) + counted))
        if not self.rows:
            return lines
        rows = list(self.rows.items())
        folded: list[tuple[str, str]] = []
        budget = max(3, height - 2 - len(self.tasks) - 1)  # the overall line, and room for the cursor

        def needed(rows: list[tuple[str, _Row]]) -> int:  # a row with a problem has it on a line of its own
            return sum(1 + bool(_shown_problem(row)) for _, row in rows) + len(folded)

        if self._final is None and needed(rows) > budget:
            done = [item for item in rows if item[1].phase in ("ready", "skipped")]
            rows = [item for item in rows if item[1].phase not in ("ready", "skipped")]
            if done:
                folded.append((f" [green]✓[/] {count(len(done), 'component')} ready", ""))
            if needed(rows) > budget:
                pending = [item for item in rows if item[1].phase == "pending"]
                rows = [item for item in rows if item[1].phase != "pending"]
                if pending:
                    names = ", ".join(name for name, _ in pending)
                    folded.append((f" [dim]· {count(len(pending), 'component')} pending:[/] ", f"[dim]{names}[/]"))
        width = max(len(name) for name in self.rows)
        lines += folded
        for name, row in rows:
            lines.append(self._cells(name, row, now, spin, width))
            if problem := _shown_problem(row):  # under its row, with the whole width: the image must show
                lines.append(("     ", f"[red]{_escape(problem)}[/]"))
        lines.append((self._overall(now), ""))
        return lines

    def _cells(self, name: str, row: _Row, now: float, spin: str, width: int) -> tuple[str, str]:
        stopped = self._final is not None and row.phase not in FINISHED and row.phase != "pending"
        icon = _ICONS.get(row.phase) or ("[yellow]-[/]" if stopped else f"[cyan]{spin}[/]")
        phase = "stopped" if stopped else row.phase
        counted = workloads(row.ready or 0, row.total) if row.total else ""
        took = f"{duration((row.finished or now) - row.started)}" if row.started is not None else ""
        if row.phase == "pending":
            left = [dep for dep in row.depends_on if self.rows.get(dep, _Row("ready")).phase not in FINISHED]
            message = f"waiting for {', '.join(left)}" if left else row.message
        else:
            message = row.message
        style = "red" if row.phase == "failed" else "dim"
        message = f"[{style}]{_escape(message)}[/]"
        return f" {icon} {name:<{width}} {phase:<8} {counted:<13} [dim]{took:>5}[/] ", message

    def _overall(self, now: float) -> str:
        states = [row.phase for row in self.rows.values()]
        ready = sum(state in ("ready", "skipped") for state in states)
        parts = [f"{ready}/{len(states)} ready"]
        failed = states.count("failed")
        if failed:
            parts.append(f"[red]{failed} failed[/]")
        problems = sum(bool(row.problem) and row.phase not in FINISHED for row in self.rows.values())
        if problems:
            parts.append(f"[red]{count(problems, 'problem')}[/]")
        parts.append(duration(now - self.started))
        return " [bold]" + " · ".join(parts) + "[/]"


def _shown_problem(row: _Row) -> str:
    """The problem shown under a row: while it waits, or the one that made it fail (none once it is ready)."""
    return row.problem if row.phase not in ("ready", "skipped") else ""


def _fit(markup: str, message: str, width: int) -> Any:
    """One line: `markup`, then `message` cut with an ellipsis where the line would pass `width` columns."""
    from rich.text import Text

    line = Text.from_markup(markup)
    if message:
        line.append_text(Text.from_markup(message))
    line.no_wrap = True
    line.truncate(width, overflow="ellipsis")
    return line


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)
