"""What a round reports: one outcome per source, and the round's totals.

Plain records: must NOT fetch, store or log.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["RoundReport", "SourceOutcome"]


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceOutcome:
    """What happened to one source in a round."""

    name: str
    # "new" | "unchanged" | "not-modified" | "error" | "disabled" | "deferred" (its host asked
    # us to wait: nothing was sent)
    status: str
    http_status: int | None = None
    new: int = 0
    updated: int = 0
    error: str | None = None
    parsed: bool = False  # the body was parsed (False for a 304 and for an unchanged body)
    moved_to: str | None = None  # the source's URL moved here (permanent redirect) this time
    # What the parsed body names for WebSub (parse.hubs): its hubs and its self URL.
    hubs: tuple[str, ...] = ()
    topic: str | None = None
    pushes: int = 0  # pushes processed as its bodies (no fetch made)


@dataclass(slots=True)
class RoundReport:
    due: int = 0
    outcomes: list[SourceOutcome] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def fetched(self) -> int:
        return sum(o.status in ("new", "unchanged") for o in self.outcomes)

    @property
    def not_modified(self) -> int:
        return sum(o.status == "not-modified" for o in self.outcomes)

    @property
    def errors(self) -> list[SourceOutcome]:
        return [o for o in self.outcomes if o.status == "error"]

    @property
    def new(self) -> int:
        return sum(o.new for o in self.outcomes)

    @property
    def updated(self) -> int:
        return sum(o.updated for o in self.outcomes)

    @property
    def changed(self) -> bool:
        return bool(self.new or self.updated)

    def summary(self) -> str:
        return (
            f"round: {self.due} due, {self.fetched} fetched, {self.not_modified} not modified, "
            f"{self.new} new, {self.updated} updated, {len(self.errors)} errors "
            f"in {self.seconds:.2f}s"
        )
