"""How `up` shows its progress: a live table on a terminal, plain lines in a log or CI, JSON lines for scripts.

Modelled on `kind create cluster`: one line per step with a tick when done; while components install, one row
each with what it is doing and how many of its workloads are ready.
"""

from __future__ import annotations

import sys
import threading
import time
from dataclasses import dataclass, field
from typing import TextIO

from kfinstall.install.events import Event
from kfinstall.ui import output

_ICONS = {
    "ready": "[green]✓[/]",
    "skipped": "[green]✓[/]",
    "failed": "[red]✗[/]",
    "pending": "[dim]·[/]",
}


@dataclass
class _Row:
    phase: str = "pending"
    message: str = "waiting for dependencies"
    ready: int | None = None
    total: int | None = None
    started: float | None = None
    finished: float | None = None


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
    """Human progress on stderr: a live table on a terminal, otherwise one line per change of phase."""

    live: bool = field(default_factory=lambda: sys.stderr.isatty())
    rows: dict[str, _Row] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _live: object | None = None

    def __post_init__(self) -> None:
        self.console = output.stderr(soft_wrap=False)  # the live table fits itself to the terminal's width

    def __call__(self, event: Event) -> None:
        with self._lock:
            if event.component is None:
                self._step(event)
                return
            row = self.rows.setdefault(event.component, _Row())
            changed = event.phase != row.phase
            if row.started is None and event.phase in ("applying", "skipped"):
                row.started = time.monotonic()
            if event.phase in ("ready", "skipped", "failed"):
                row.finished = time.monotonic()
            row.phase, row.message = event.phase, event.message
            if event.total is not None:
                row.ready, row.total = event.ready, event.total
            if self._live is not None:
                self._live.update(self._table())  # type: ignore[attr-defined]
            elif (changed and event.phase not in ("waiting",)) or event.phase == "retrying":
                self.console.print(self._line(event.component, row))

    def _step(self, event: Event) -> None:
        icon = {"step": "[green]✓[/]", "note": "[yellow]![/]", "failed": "[red]✗[/]"}.get(event.phase, " ")
        target = self._live.console if self._live is not None else self.console  # type: ignore[attr-defined]
        target.print(f" {icon} {event.message}")

    def start_components(self, ids: list[str]) -> None:
        """Show one row per component from now on."""
        for component_id in ids:
            self.rows.setdefault(component_id, _Row())
        if self.live:
            from rich.live import Live

            self._live = Live(self._table(), console=self.console, refresh_per_second=8, transient=False)
            self._live.start()  # type: ignore[attr-defined]

    def stop(self) -> None:
        if self._live is not None:
            self._live.update(self._table())  # type: ignore[attr-defined]
            self._live.stop()  # type: ignore[attr-defined]
            self._live = None

    def _line(self, component: str, row: _Row) -> str:
        icon = _ICONS.get(row.phase, "[cyan]…[/]")
        count = f" {row.ready}/{row.total}" if row.total else ""
        return f" {icon} {component:<26} {row.phase}{count}  [dim]{row.message}[/]"

    def _table(self) -> object:
        from rich.table import Table

        table = Table.grid(padding=(0, 2))
        for component, row in self.rows.items():
            icon = _ICONS.get(row.phase, "[cyan]⠿[/]")
            count = f"{row.ready}/{row.total}" if row.total else ""
            took = ""
            if row.started is not None:
                took = f"{(row.finished or time.monotonic()) - row.started:.0f}s"
            table.add_row(f" {icon}", component, row.phase, count, took, f"[dim]{row.message}[/]")
        return table
