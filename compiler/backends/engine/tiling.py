"""Spatial tiling: which tensors stay in the scratchpad and which live in host memory,
and the bands a step runs in when it touches one.

A tensor too large to stay on chip for its whole lifetime is *spilled*: the step that
makes it writes it band by band into a staging region and STOREs each band to the host,
and every step that reads it LOADs back the rows it needs (the host echoes the words it
received; ``program.Echo``).  A graph input may stay in host memory the same way, and a
graph output may be stored band by band as it is made.  A step that touches a spilled
tensor runs in *bands*: rows of its output (with the input rows their windows reach,
padding included) for a convolution or a pool, word ranges for an addition, the whole
image for a dense layer (which reads all of its input at once).

The plan is greedy: first-fit allocation of the on-chip tensors and of each banded
step's staging region at its smallest (one output row); while that does not fit, the
largest spillable tensor live at the fullest step is spilled.  Each staging region then
grows into the free words above it, and a step's band is the largest that fits there.
"""

from __future__ import annotations

from dataclasses import dataclass

from ....numerics.errors import NeurogateError
from .lower import AddStep, Lowered, MatmulStep, PoolStep, Step, Tensor


class EngineFitError(NeurogateError):
    """The program does not fit the engine's memories (the message gives the sizes)."""


@dataclass(frozen=True)
class Geometry:
    """The words one band of a step stages, for ``rows`` output rows (a window) or
    ``rows`` words (an addition)."""

    kind: str                     # "window", "dense" or "add"
    inputs: tuple[str, ...]       # the storages it reads from the host (distinct)
    output_off: bool              # its output is stored to the host band by band
    in_row: int = 0               # window: words per input row
    out_row: int = 0              # window: words per output row (every plane)
    out_rows: int = 1             # window: output rows; add: words
    whole_in: int = 0             # dense: words of one image's input
    whole_out: int = 0            # dense: words of one image's output (every plane)
    stride: int = 1
    reach: int = 1                # rows one output row's window spans
    in_rows: int = 1              # rows of the input image

    @property
    def banded(self) -> bool:
        return bool(self.inputs) or self.output_off

    def in_band_rows(self, rows: int) -> int:
        return min(self.in_rows, (rows - 1) * self.stride + self.reach)

    def in_words(self, rows: int) -> int:
        """Staging words of one band's input rows (they come first)."""
        if not self.inputs:
            return 0
        if self.kind == "dense":
            return self.whole_in
        if self.kind == "add":
            return rows * len(self.inputs)
        return self.in_band_rows(rows) * self.in_row

    def words(self, rows: int) -> int:
        """Staging words of one band of ``rows``."""
        if not self.output_off:
            return self.in_words(rows)
        out = {"dense": self.whole_out, "add": rows}.get(self.kind, rows * self.out_row)
        return self.in_words(rows) + out

    def largest_band(self, capacity: int) -> int:
        """The most rows (words) whose band fits ``capacity`` words (at least 1)."""
        if self.kind == "dense":
            return 1
        lo, hi = 1, self.out_rows
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if self.words(mid) <= capacity:
                lo = mid
            else:
                hi = mid - 1
        return lo


@dataclass
class Plan:
    bases: dict[str, int]                 # on-chip storage -> first word
    offchip: set[str]                     # storages in host memory
    staging: dict[int, int]               # banded step -> first word of its staging region
    bands: dict[int, int]                 # banded step -> rows (words) per band
    geometry: dict[int, Geometry]
    peak: int
    staged_out: dict[int, int]            # banded step -> first word of its output rows
    groups: dict[int, list[int]]          # a Concat's copies banded together: first -> all


def reads(step: Step) -> tuple[str, ...]:
    return (step.a, step.b) if isinstance(step, AddStep) else (step.input,)


def lifetimes(low: Lowered) -> dict[str, tuple[int, int]]:
    """Storage name -> (first step writing it, last step reading it); inputs start at -1,
    outputs end after the last step."""
    spans: dict[str, list[int]] = {}
    storage = {name: t.storage for name, t in low.tensors.items()}
    for name in low.inputs:
        spans[name] = [-1, -1]
    end = len(low.steps)
    for i, step in enumerate(low.steps):
        for r in reads(step):
            spans[storage[r]][1] = max(spans[storage[r]][1], i)
        w = storage[step.output]
        if w not in spans:
            spans[w] = [i, i]
        spans[w][1] = max(spans[w][1], i)
    for name in low.outputs:
        spans[storage[name]][1] = end
    return {k: (v[0], v[1]) for k, v in spans.items()}


def overlap(a: tuple[int, int], b: tuple[int, int]) -> bool:
    """Two closed step spans share a step."""
    return not (a[1] < b[0] or b[1] < a[0])


def storage_words(t: Tensor, batch: int) -> int:
    return t.layout.words * t.planes * batch


class _Planner:
    def __init__(self, low: Lowered, batch: int):
        self.low, self.batch = low, batch
        self.words = low.config.spad_words
        self.spans = lifetimes(low)
        self.storage = {name: t.storage for name, t in low.tensors.items()}
        self.size = {name: storage_words(low.tensors[name], batch) for name in self.spans}
        writers: dict[str, list[int]] = {}
        for i, step in enumerate(low.steps):
            writers.setdefault(self.storage[step.output], []).append(i)
        #: a Concat's copies into one tensor (first step -> all), banded together when
        #: that tensor is in host memory
        self.copies = {steps[0]: steps for steps in writers.values()
                       if len(steps) > 1 and self._concat_copies(steps)}
        self.spillable = {name for name in self.spans if name not in writers
                          or len(writers[name]) == 1 and self._bandable_writer(
                              low.steps[writers[name][0]])
                          or writers[name][0] in self.copies}

    def _concat_copies(self, steps: list[int]) -> bool:
        """Consecutive copies (POOLs over 1x1 windows) of whole images into slices."""
        if steps != list(range(steps[0], steps[0] + len(steps))):
            return False
        for i in steps:
            s = self.low.steps[i]
            if not isinstance(s, PoolStep) or s.window.kernel != (1, 1) \
                    or s.window.stride != (1, 1) or s.window.pad != (0, 0):
                return False
        return True

    def _bandable_writer(self, step: Step) -> bool:
        """The step writes the whole tensor (not a slice of its channels)."""
        if isinstance(step, PoolStep):
            x, y = self.low.tensors[step.input], self.low.tensors[step.output]
            return step.out_group == 0 and x.layout.groups == y.layout.groups
        return True

    def geometry(self, step: Step, offchip: set[str]) -> Geometry:
        t = self.low.tensors
        ins = tuple(dict.fromkeys(self.storage[r] for r in reads(step)
                                  if self.storage[r] in offchip))
        y = t[step.output]
        out_off = self.storage[step.output] in offchip
        if isinstance(step, AddStep):
            return Geometry("add", ins, out_off, out_rows=y.layout.words * self.batch)
        if isinstance(step, MatmulStep) and step.window is None:
            x = t[step.input]
            return Geometry("dense", ins, out_off,
                            whole_in=storage_words(t[self.storage[x.name]], 1),
                            whole_out=storage_words(y, 1))
        x, w = t[step.input], step.window
        planes = step.planes if isinstance(step, MatmulStep) else 1
        (ih, iw), (oh, ow) = x.layout.pixels, w.out_hw
        return Geometry("window", ins, out_off, in_row=iw * x.layout.pixel_words,
                        out_row=ow * y.layout.pixel_words * planes, out_rows=oh,
                        stride=w.stride[0], reach=(w.kernel[0] - 1) * w.dilation[0] + 1,
                        in_rows=ih)

    def members(self, i: int, offchip: set[str]) -> list[int]:
        """The steps banded together with step ``i`` (first): a Concat's copies into a
        tensor in host memory, each band of which is stored once all have written it."""
        step = self.low.steps[i]
        if i in self.copies and self.storage[step.output] in offchip:
            return self.copies[i]
        return [i]

    def first_fit(self, offchip: set[str]):
        """Bases of the on-chip storages and of each banded step's smallest staging
        region (keyed by step index), and the highest word used."""
        items = {name: (self.spans[name], self.size[name])
                 for name in self.spans if name not in offchip}
        geometry = {i: self.geometry(s, offchip) for i, s in enumerate(self.low.steps)}
        grouped = set()
        for i, g in geometry.items():
            if g.banded and i not in grouped:
                members = self.members(i, offchip)
                grouped.update(members)
                items[i] = ((i, members[-1]), max(geometry[m].words(1) for m in members))
        bases: dict = {}
        order = sorted(items, key=lambda k: (items[k][0][0], isinstance(k, int), str(k)))
        for key in order:
            span, size = items[key]
            busy = sorted((bases[o], bases[o] + items[o][1]) for o in bases
                          if overlap(items[o][0], span))
            at = 0
            for start, stop in busy:
                if at + size <= start:
                    break
                at = max(at, stop)
            bases[key] = at
        peak = max((bases[k] + items[k][1] for k in bases), default=0)
        return bases, items, geometry, peak

    def live_words(self, offchip: set[str], step: int) -> list[tuple[str, int]]:
        return [(n, self.size[n]) for n in self.spans if n not in offchip
                and self.spans[n][0] <= step <= self.spans[n][1]]

    def plan(self) -> Plan:
        offchip: set[str] = set()
        while True:
            bases, items, geometry, peak = self.first_fit(offchip)
            if peak <= self.words:
                return self._grow(bases, items, geometry, offchip, peak)
            for key, (_, size) in items.items():
                if isinstance(key, int) and size > self.words:
                    self._refuse_band(key, size, offchip)
            victim = self._victim(offchip, items)
            if victim is None:
                self._refuse(offchip, items, peak)
            offchip.add(victim)

    def _fullest_step(self, items) -> int:
        def used(i):
            return sum(size for (lo, hi), size in items.values() if lo <= i <= hi)
        return max(range(-1, len(self.low.steps) + 1), key=used)

    def _victim(self, offchip, items) -> str | None:
        worst = self._fullest_step(items)
        candidates = [n for n, _ in self.live_words(offchip, worst) if n in self.spillable]
        if not candidates:           # fragmentation elsewhere: any spillable tensor
            candidates = [n for n in self.spans if n not in offchip and n in self.spillable]
        if not candidates:
            return None
        return max(candidates, key=lambda n: (self.size[n], n))

    def _refuse_band(self, i: int, size: int, offchip):
        """A step whose smallest band alone overflows: spilling more cannot help."""
        step = self.low.steps[i]
        reads_whole = isinstance(step, MatmulStep) and step.window is None or \
            isinstance(step, PoolStep) and step.window.out_hw[0] == 1
        why = " (it reads one image's whole input at once)" if reads_whole else ""
        raise EngineFitError(
            f"layer {step.layer!r}: its smallest band needs {size} scratchpad words even "
            f"when tiled and the engine has {self.words}{why}; in host memory: "
            f"{', '.join(sorted(offchip))}; use an engine with a larger scratchpad")

    def _refuse(self, offchip, items, peak):
        worst = self._fullest_step(items)
        layer = {step.output: step.layer for step in self.low.steps}
        listed = [f"{layer.get(n, n)} ({size} words)" for n, size in
                  self.live_words(offchip, worst)]
        if 0 <= worst < len(self.low.steps) and items.get(worst):
            listed.append(f"the bands of {self.low.steps[worst].layer} "
                          f"({items[worst][1]} words)")
        spilled = f"; in host memory: {', '.join(sorted(offchip))}" if offchip else ""
        raise EngineFitError(
            f"the live tensors need {peak} scratchpad words even when tiled and the engine "
            f"has {self.words} (batch {self.batch}; live at once: {', '.join(listed)}"
            f"{spilled}); use an engine with a larger scratchpad or a smaller batch")

    def _grow(self, bases, items, geometry, offchip, peak) -> Plan:
        staging, bands, staged_out, groups = {}, {}, {}, {}
        for i in (k for k in bases if isinstance(k, int)):
            start = bases[i]
            members = self.members(i, offchip)
            above = [bases[k] for k in bases if k != i and bases[k] >= start
                     and overlap(items[k][0], items[i][0])]
            capacity = min(above + [self.words]) - start
            band = min(geometry[m].largest_band(capacity) for m in members)
            out_at = start + max(geometry[m].in_words(band) for m in members)
            for m in members:
                staging[m], bands[m], staged_out[m] = start, band, out_at
            if len(members) > 1:
                groups[i] = members
            peak = max(peak, start + max(geometry[m].words(band) for m in members))
        on_chip = {k: v for k, v in bases.items() if isinstance(k, str)}
        return Plan(on_chip, offchip, staging, bands, geometry, peak, staged_out, groups)


def plan(low: Lowered, batch: int) -> Plan:
    """The scratchpad plan of ``low`` at ``batch`` images (module docstring)."""
    return _Planner(low, batch).plan()
