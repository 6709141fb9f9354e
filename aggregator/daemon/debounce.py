"""The publish debounce: when the daemon publishes after rounds that changed something.
Pure: no clock read, no waiting; must NOT publish or touch the event loop.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Debouncer"]


@dataclass(slots=True)
class Debouncer:
    """When to publish, from the times changes were reported. Pure: every `now` (a
    monotonic time, in seconds) is passed in; it never reads a clock or waits.

    Changes close together make one publish `delay` after the last of them; a steady
    trickle still publishes no later than `max_delay` after the first change it holds. A
    request `immediately` is due at once.
    """

    delay: float
    max_delay: float
    at: float | None = None  # when the publish is due; None: nothing to publish
    first_change: float | None = None  # of the changes the next publish holds

    def request(self, now: float, *, immediately: bool = False) -> None:
        if immediately:
            self.at = now
            return
        if self.first_change is None:
            self.first_change = now
        at = min(now + self.delay, self.first_change + self.max_delay)
        self.at = at if self.at is None else max(self.at, at)

    def remaining(self, now: float) -> float | None:
        """Seconds until the publish is due (0 or less: it is); None: none is asked for."""
        return None if self.at is None else self.at - now

    def fired(self) -> None:
        """The publish asked for is starting: what comes later asks for the next one."""
        self.at = self.first_change = None
