"""The check registry: every numbered check as data (number, name, severity, kind, summary, fix, gating, docs).

A check is a function ``(ctx) -> Iterable[Finding]`` decorated with ``@check(...)``; the
decorator only attaches a ``CheckSpec``. ``pixie_validate.checks`` builds the registry
from an explicit list of modules, so import order never matters.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, TypeAlias

from pixie_validate.findings import Finding, Severity

if TYPE_CHECKING:
    from pixie_validate.context import CheckContext

__all__ = ["CheckFn", "CheckSpec", "Registry", "check"]

CheckFn: TypeAlias = Callable[["CheckContext"], Iterable[Finding]]
Kind = Literal["static", "runtime"]
_NAME = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")


@dataclass(frozen=True, slots=True)
class CheckSpec:
    """One check's identity and documentation."""

    number: int
    name: str
    severity: Severity
    kind: Kind
    summary: str
    fix: str
    requires: tuple[int, ...] = ()
    """Checks that must have passed (or warned) first; otherwise this one is skipped with the reason."""
    opt_in: bool = False
    """Runs only when asked for (the fuzz check)."""
    runs_last: bool = False
    """Runs after every other check (the shutdown check: it stops the tool)."""
    fn: CheckFn | None = field(default=None, compare=False, repr=False)

    @property
    def slug(self) -> str:
        """``07-schema-drift``: the form used in test ids and docs anchors."""
        return f"{self.number:02d}-{self.name}"

    @property
    def docs(self) -> str:
        """The long explanation: the check function's docstring."""
        return inspect.cleandoc(self.fn.__doc__ or "") if self.fn else ""

    @property
    def url(self) -> str:
        """Where the docs entry lives."""
        return f"docs/checks.md#{self.slug}"


def check(
    number: int,
    name: str,
    *,
    severity: Severity,
    kind: Kind,
    summary: str,
    fix: str,
    requires: Sequence[int] = (),
    opt_in: bool = False,
    runs_last: bool = False,
) -> Callable[[CheckFn], CheckFn]:
    """Attach a ``CheckSpec`` to a check function (the function itself is returned unchanged)."""
    if not _NAME.match(name):
        raise ValueError(f"check name {name!r} must be kebab-case")
    if not fix[:1].isupper():
        raise ValueError(f"check {number} fix hint must start with a capitalised verb: {fix!r}")

    def attach(fn: CheckFn) -> CheckFn:
        spec = CheckSpec(number, name, severity, kind, summary, fix, tuple(requires), opt_in, runs_last, fn)
        fn.__pixie_check__ = spec  # type: ignore[attr-defined]
        return fn

    return attach


class Registry:
    """All checks by number, with selection by number, name or prefix."""

    def __init__(self, specs: Iterable[CheckSpec]) -> None:
        self._by_number: dict[int, CheckSpec] = {}
        for spec in specs:
            if spec.number in self._by_number:
                raise ValueError(f"check number {spec.number} registered twice")
            if any(s.name == spec.name for s in self._by_number.values()):
                raise ValueError(f"check name {spec.name!r} registered twice")
            self._by_number[spec.number] = spec

    @classmethod
    def from_modules(cls, modules: Iterable[object]) -> Registry:
        """Collect every ``@check`` function of the given modules."""
        specs = []
        for module in modules:
            for value in vars(module).values():
                spec = getattr(value, "__pixie_check__", None)
                if isinstance(spec, CheckSpec):
                    specs.append(spec)
        return cls(specs)

    def __iter__(self) -> Iterator[CheckSpec]:
        return iter(sorted(self._by_number.values(), key=lambda s: s.number))

    def __len__(self) -> int:
        return len(self._by_number)

    def get(self, number: int) -> CheckSpec:
        return self._by_number[number]

    def resolve(self, token: str) -> list[CheckSpec]:
        """Checks matching one ``--select``/``--ignore`` token: a number (``7``, ``07``), a name, a slug or a prefix.

        Raises:
            KeyError: nothing matches; the message lists close names.
        """
        token = token.strip().lower()
        if token.isdigit():
            spec = self._by_number.get(int(token))
            if spec is None:
                raise KeyError(f"no check number {token}; checks are numbered 1 to {max(self._by_number)}")
            return [spec]
        exact = [s for s in self if token in (s.name, s.slug)]
        if exact:
            return exact
        prefixed = [s for s in self if s.name.startswith(token) or s.slug.startswith(token)]
        if prefixed:
            return prefixed
        import difflib

        close = difflib.get_close_matches(token, [s.name for s in self], n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else "; see --list-checks"
        raise KeyError(f"no check called {token!r}{hint}")

    def select(
        self, select: Sequence[str] = (), ignore: Sequence[str] = (), *, opt_in: Sequence[int] = ()
    ) -> list[CheckSpec]:
        """The checks to run, in number order: ``select`` (default all but opt-in ones) minus ``ignore``."""
        chosen = {s.number for tok in select for s in self.resolve(tok)} if select else {
            s.number for s in self if not s.opt_in or s.number in opt_in
        }  # fmt: skip
        dropped = {s.number for tok in ignore for s in self.resolve(tok)}
        return [self._by_number[n] for n in sorted(chosen - dropped)]
