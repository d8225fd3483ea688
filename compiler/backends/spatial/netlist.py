"""IR nodes as unrolled Amaranth logic: one piece of hardware per layer (the spatial style).

A value of the graph is a ``Tensor``: a NumPy object array of ``arith.Term`` (one per
element, same shape as the IR value) and the pipeline stage it is valid at (registers
between the network's input and it).  Each op builds its elements from its inputs'
elements, exactly as its golden function in ``neurogate.sim.golden`` computes them:

* multiply-accumulate ops (Dense, Conv2D, MatMul) and pooling reduce lists of terms in
  balanced trees, with a register after every ``levels_per_stage`` levels and one at the
  end; a constant weight is shifts and adds (``arith.constant_product``), zero weights and
  zero padding cost nothing;
* Requantize, Add, Mul and the averages round and fit their result, then register it;
* ReLU, Clip and SignBinarize are a comparison and a multiplexer, folded into the next
  register; padding, Concat, Reshape, Transpose and Slice are wiring.

A Dense or Conv2D layer may instead share its hardware over ``R`` clocks (its reuse
factor, as hls4ml's ``ReuseFactor``): its outputs are cut into slots of ``R``
consecutive outputs, and one adder tree per slot computes output ``p`` of the slot in
phase ``p`` (``shared_dot_products``).  Each tap's term is the phase's constant product
chosen by a multiplexer, or a multiplier of the phase's input and weight, whichever the
LUT estimate finds cheaper.  The network then takes a new input every ``R`` clocks (its
initiation interval) and the layer's inputs are held in registers while its phases run.

Inputs that arrive at different stages (a residual branch) are delayed to the later one,
so every element of a tensor is valid at the same stage and one valid bit per stage
follows the data.  Every register loads only when ``enable`` is high (the whole pipeline
stalls under back-pressure).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from amaranth.hdl import Const, Module, Mux, Signal, Value, signed, unsigned

from ....numerics.rounding import Rounding
from ... import ir
from . import arith
from .arith import Term

KEEP = {"keep": 1}


@dataclass(frozen=True)
class Tensor:
    terms: np.ndarray     # object array of Term, the IR value's shape
    stage: int


@dataclass
class Resources:
    """What the unrolled network costs, counted while it is built."""

    adders: int = 0          # two-input additions / subtractions
    adder_bits: int = 0      # their summed result widths
    multipliers: int = 0     # variable x variable products
    multiplier_bits: int = 0 # their summed operand-width products (a LUT array's size)
    mux_bits: int = 0        # phase multiplexers (reuse): width x (choices - 1), summed
    comparators: int = 0
    comparator_bits: int = 0
    register_bits: int = 0


def terms_array(shape, items) -> np.ndarray:
    array = np.empty(len(items), dtype=object)
    for i, item in enumerate(items):
        array[i] = item
    return array.reshape(shape)


class Netlist:
    """Builds the logic of a graph into ``module``; registers load on ``enable``."""

    def __init__(self, module: Module, enable: Value, *, levels_per_stage: int = 2,
                 parameters=None, tmr: bool = False, reuse=None):
        """``parameters``: ``None`` for weights and biases built in as constants, or a
        function ``(layer, kind, index) -> Signal`` for weights held in registers (``kind``
        "w" or "b").  ``tmr``: every pipeline register three times, read through a
        bitwise majority voter (``upsets`` lists the disagreement of each).  ``reuse``:
        layer name -> reuse factor (absent: 1, fully parallel).  ``valid_in`` (set before
        building) is high on a clock where an input enters stage 0."""
        self.m = module
        self.enable = enable
        self.levels_per_stage = levels_per_stage
        self.parameters = parameters
        self.tmr = tmr
        self.reuse = dict(reuse or {})
        self._constant_products: dict[tuple[int, int], tuple[Term, Term]] = {}
        self.valid_in: Value = Const(1)
        self._valid: list[Value] = []
        self.upsets: list[Value] = []
        self.triplicated: list[list[str]] = []     # the names of each register's copies
        self.resources = Resources()
        self._updates = []
        self._count = 0

    # --- registers --------------------------------------------------------------------
    def _reg(self, term: Term, name: str, load: Value | None = None) -> Term:
        """``term`` registered (loaded on every enabled clock, or only where ``load`` is
        high); a constant stays a constant."""
        if isinstance(term.value, Const):
            return term
        width, is_signed = arith.width_for(term.lo, term.hi)
        shape = signed(width) if is_signed else unsigned(width)
        value = self.state(f"{name}_{self._count}", shape, reset_less=True,
                            next_value=lambda held: term.value if load is None
                            else Mux(load, term.value, held))
        self._count += 1
        self.resources.register_bits += width * (3 if self.tmr else 1)
        return Term(value, term.lo, term.hi)

    def state(self, name: str, shape, next_value, *, init: int = 0,
               reset_less: bool = False) -> Value:
        """A register (three copies behind a majority voter under TMR) loaded with
        ``next_value(current)`` on every enabled clock; returns its (voted) value."""
        # TMR copies carry ``keep`` so that synthesis does not merge them into one register
        # (they compute the same function; yosys's opt_merge would).
        copies = [Signal(shape, name=name + (f"_tmr{k}" if self.tmr else ""), init=init,
                         reset_less=reset_less, attrs=KEEP if self.tmr else {})
                  for k in range(3 if self.tmr else 1)]
        if self.tmr:
            a, b, c = copies
            self.upsets.append((a != b) | (a != c))
            self.triplicated.append([reg.name for reg in copies])
            current = Signal(shape, name=f"{name}_voted")
            self.m.d.comb += current.eq((a & b) | (a & c) | (b & c))
        else:
            current = copies[0]
        self._updates += [reg.eq(next_value(current)) for reg in copies]
        return current

    def valid_at(self, stage: int) -> Value:
        """High on a clock where stage ``stage`` holds an inference (the valid bit that
        follows the data, one register per stage)."""
        if not self._valid:
            self._valid.append(self.valid_in)
        while len(self._valid) <= stage:
            previous = self._valid[-1]
            self._valid.append(self.state(f"valid_{len(self._valid)}", unsigned(1),
                                           lambda _, previous=previous: previous))
        return self._valid[stage]

    def register(self, tensor: Tensor, name: str) -> Tensor:
        regs = [self._reg(t, name) for t in tensor.terms.flat]
        return Tensor(terms_array(tensor.terms.shape, regs), tensor.stage + 1)

    def delay(self, tensor: Tensor, stage: int, name: str) -> Tensor:
        while tensor.stage < stage:
            tensor = self.register(tensor, f"{name}_delay")
        return tensor

    def finish(self) -> None:
        """Put every register update under the pipeline's enable."""
        with self.m.If(self.enable):
            self.m.d.sync += self._updates

    # --- balanced reduction trees -------------------------------------------------------
    def reduce(self, groups: list[list[Term]], combine, name: str, stage: int,
               constants: list[int] | None = None) -> tuple[list[Term], int]:
        """Each group of terms combined pairwise into one, all groups level by level,
        registered every ``levels_per_stage`` levels and at the end; ``constants[g]`` is
        added to group ``g`` before its last register.  Returns the results and their
        stage."""
        groups = [list(g) for g in groups]
        level = 0
        while any(len(g) > 1 for g in groups):
            groups = [[combine(g[i], g[i + 1]) for i in range(0, len(g) - 1, 2)]
                      + ([g[-1]] if len(g) % 2 else []) for g in groups]
            level += 1
            if level % self.levels_per_stage == 0 and any(len(g) > 1 for g in groups):
                groups = [[self._reg(t, name) for t in g] for g in groups]
                stage += 1
        results = []
        for g, group in enumerate(groups):
            total = group[0] if group else Term.const(0)
            if constants is not None and constants[g]:
                total = self._add(total, Term.const(constants[g]))
            results.append(total)
        return results, stage

    def _add(self, a: Term, b: Term) -> Term:
        total = arith.add(a, b)
        self.resources.adders += 1
        self.resources.adder_bits += len(total.value)
        return total

    def _max(self, a: Term, b: Term) -> Term:
        self.resources.comparators += 1
        self.resources.comparator_bits += max(len(a.value), len(b.value))
        return Term(Mux(a.value > b.value, a.value, b.value), max(a.lo, b.lo),
                    max(a.hi, b.hi)).narrowed()

    # --- multiply-accumulate ------------------------------------------------------------
    def coefficient(self, node, kind: str, index: tuple[int, ...], fmt) -> int | Term:
        """A weight (``kind`` "w", in ``fmt``) or bias ("b") of ``node``: its integer, or
        the register holding it."""
        array = node.weights if kind == "w" else node.bias
        if self.parameters is None:
            return int(array[index])
        return Term(self.parameters(node.name, kind, index), fmt.min, fmt.max)

    def _products(self, x: Term, w: int | Term) -> list[Term]:
        if isinstance(w, Term):
            return [self._multiply(x, w)]
        return arith.constant_product(x, w)

    def _multiply(self, x: Term, y: Term) -> Term:
        """A variable x variable product."""
        self.resources.multipliers += 1
        self.resources.multiplier_bits += len(x.value) * len(y.value)
        return arith.product(x, y)

    def dot_products(self, rows: list[list[tuple[Term, int | Term]]],
                     biases: list[int | Term], acc_width: int, name: str,
                     stage: int) -> tuple[list[Term], int]:
        """``wrap(sum x * w + bias, acc_width)`` for each row of (input, weight) pairs
        (golden ``dense``); a constant weight is shifts and adds, a register a multiplier."""
        groups = [[t for x, w in row for t in self._products(x, w)]
                  + ([bias] if isinstance(bias, Term) else [])
                  for row, bias in zip(rows, biases)]
        constants = [0 if isinstance(b, Term) else b for b in biases]
        sums, stage = self.reduce(groups, self._add, name, stage, constants=constants)
        return [arith.wrap(s, acc_width) for s in sums], stage

    def shared_dot_products(self, rows: list[list[tuple[Term, int | Term]]],
                            biases: list[int | Term], acc_width: int, name: str,
                            stage: int, reuse: int) -> tuple[list[Term], int]:
        """``dot_products`` over ``reuse`` clocks: slot ``k`` computes row
        ``k * reuse + p`` in phase ``p``.  The rows' inputs are held from the clock the
        inference reaches ``stage``; each phase's product terms are registered, then
        summed; each result is captured in its own register when its phase leaves the
        adder tree, so the results (already registered) are all valid ``reuse`` clocks
        after the tree's first."""
        phases = min(reuse, len(rows))
        valid = self.valid_at(stage)
        held: dict[int, Term] = {}

        def hold(x: Term) -> Term:
            if isinstance(x.value, Const):
                return x
            if id(x) not in held:
                held[id(x)] = self._reg(x, f"{name}_hold", load=valid)
            return held[id(x)]

        # phase runs 0 .. phases - 1 on the clocks after ``valid``, then rests at ``phases``
        phase = self.state(f"{name}_phase", unsigned(phases.bit_length()), init=phases,
                            next_value=lambda p: Mux(valid, 0, Mux(p == phases, phases, p + 1)))
        groups = []
        for k in range(0, len(rows), phases):
            slot = rows[k:k + phases]
            group = []
            for tap in range(max(len(row) for row in slot)):
                pairs = [row[tap] if tap < len(row) else None for row in slot]
                group += self._phase_product(pairs, phase, hold, name)
            bias = self._select([b if isinstance(b, Term) else Term.const(b)
                                 for b in biases[k:k + phases]], phase, f"{name}_bias")
            if bias.hi or bias.lo:
                group.append(bias)
            # registered: the multiplexers do not lengthen the tree's first stage
            groups.append([self._reg(t, f"{name}_term") for t in group])
        sums, end = self.reduce(groups, self._add, name, stage + 2)
        delayed = Term(phase, 0, phases)
        for _ in range(end - stage - 1):
            delayed = self._reg(delayed, f"{name}_phase")
        results = []
        for g, total in enumerate(sums):
            total = arith.wrap(total, acc_width)
            count = min(phases, len(rows) - g * phases)
            results += [self._reg(total, f"{name}_out", load=delayed.value == p)
                        for p in range(count)]
        return results, end + phases

    def _phase_product(self, pairs, phase: Value, hold, name: str) -> list[Term]:
        """One product term shared by the phases: phase ``p`` multiplies ``pairs[p]``
        (``(input, weight)``; ``None`` or a zero weight: nothing that phase).  Constant
        weights: each phase's constant product (shifts and adds, shared by every tap
        that needs the same input times the same weight), one chosen by the phase;
        weights in registers: a multiplier of the chosen input and weight."""
        live = [pair is not None and not (isinstance(pair[1], int) and pair[1] == 0)
                for pair in pairs]
        if not any(live):
            return []
        idle = pairs[live.index(True)][0]
        xs = [hold(pair[0] if used else idle) for pair, used in zip(pairs, live)]
        ws = [pair[1] if used else 0 for pair, used in zip(pairs, live)]
        if all(isinstance(w, int) for w in ws):
            if len(set(ws)) == 1 and all(x is xs[0] for x in xs):
                return arith.constant_product(xs[0], ws[0])
            if self._selected_products_cost(xs, ws) <= _multiplier_cost(xs, ws):
                products = [self._constant_product(x, w) for x, w in zip(xs, ws)]
                return [self._select(products, phase, f"{name}_p")]
        x = self._select(xs, phase, f"{name}_x")
        w = self._select([w if isinstance(w, Term) else Term.const(w) for w in ws], phase,
                         f"{name}_w")
        return [self._multiply(x, w)]

    def _selected_products_cost(self, xs: list[Term], ws: list[int]) -> float:
        """LUT4 estimate of the phases' constant products not built yet, and of the
        multiplexer choosing one (``SpatialCost.fpga_luts``'s weights)."""
        new = {(id(x), w): (x, w) for x, w in zip(xs, ws)
               if w and (id(x), w) not in self._constant_products}
        adder_bits = sum((len(arith.csd_digits(w)) - 1) * (len(x.value) + abs(w).bit_length())
                         for x, w in new.values())
        width = max(len(x.value) for x in xs) + max(abs(w) for w in ws).bit_length() + 1
        return 1.1 * adder_bits + width * (len({(id(x), w) for x, w in zip(xs, ws) if w}) - 1)

    def _constant_product(self, x: Term, w: int) -> Term:
        """``x * w`` as one term (its shift-and-add terms summed), built once per input and
        weight."""
        key = (id(x), w)
        if key not in self._constant_products:
            terms = arith.constant_product(x, w)
            product = terms[0] if terms else Term.const(0)
            for term in terms[1:]:
                product = self._add(product, term)
            # x is kept with its product: alive, its id cannot be reused by another term
            self._constant_products[key] = (x, product)
        return self._constant_products[key][1]

    def _select(self, terms: list[Term], phase: Value, name: str) -> Term:
        """``terms[phase]`` (a multiplexer; nothing when every phase has the same term; a
        phase whose term is the constant 0 is the multiplexer's default)."""
        if all(t is terms[0] for t in terms) or all(
                isinstance(t.value, Const) and t.lo == terms[0].lo for t in terms):
            return terms[0]
        lo, hi = min(t.lo for t in terms), max(t.hi for t in terms)
        width, is_signed = arith.width_for(lo, hi)
        chosen = Signal(signed(width) if is_signed else unsigned(width),
                        name=f"{name}_{self._count}")
        self._count += 1
        cases: dict[int, list[int]] = {}
        for p, t in enumerate(terms):
            cases.setdefault(id(t) if not isinstance(t.value, Const) else ("c", t.lo), []
                             ).append(p)
        cases.pop(("c", 0), None)       # an undriven combinational signal is 0
        self.resources.mux_bits += width * max(1, len(cases) - 1)
        with self.m.Switch(phase):
            for phases in cases.values():
                with self.m.Case(*phases):
                    self.m.d.comb += chosen.eq(terms[phases[0]].value)
        return Term(chosen, lo, hi)

    def layer_output(self, shape, rows, biases, node, stage: int) -> Tensor:
        """A Dense or Conv2D layer's registered output: its rows' dot products, shared
        over the layer's reuse factor."""
        reuse = self.reuse.get(node.name, 1)
        if reuse > 1:
            sums, stage = self.shared_dot_products(rows, biases, node.out.fmt.width,
                                                   node.name, stage, reuse)
            return Tensor(terms_array(shape, sums), stage)
        sums, stage = self.dot_products(rows, biases, node.out.fmt.width, node.name, stage)
        return self.finish_tensor(shape, sums, stage, node.name)

    def finish_tensor(self, shape, terms: list[Term], stage: int, name: str) -> Tensor:
        return self.register(Tensor(terms_array(shape, terms), stage), name)


def _multiplier_cost(xs: list[Term], ws: list[int]) -> float:
    """LUT4 estimate of one multiplier built from logic (``SpatialCost.multiplier_luts``)
    and the multiplexers choosing its input and weight."""
    x_bits = max(len(x.value) for x in xs)
    w_bits = max(abs(w) for w in ws).bit_length() + 1
    inputs = len({id(x) for x in xs}) - 1
    return 10 / 3 * x_bits * w_bits + x_bits * inputs + w_bits * (len(set(ws)) - 1)


# --- the ops ---------------------------------------------------------------------------------

def input_term(value: Value, is_signed: bool, fmt) -> Term:
    """A port field as a term: its bits read signed or not, its range the format's."""
    return Term(value.as_signed() if is_signed else value, fmt.min, fmt.max)


def dense(net: Netlist, node: ir.Dense, x: Tensor) -> Tensor:
    lead = x.terms.shape[:-1]
    flat = x.terms.reshape(-1, x.terms.shape[-1])
    weights = np.asarray(node.weights)
    rows, biases = [], []
    for vector in flat:
        for o in range(weights.shape[0]):
            rows.append([(vector[j], net.coefficient(node, "w", (o, j), node.weight_fmt))
                         for j in range(weights.shape[1])])
            biases.append(net.coefficient(node, "b", (o,), node.out.fmt))
    return net.layer_output(lead + (weights.shape[0],), rows, biases, node, x.stage)


def conv2d(net: Netlist, node: ir.Conv2D, x: Tensor) -> Tensor:
    h, w, c = x.terms.shape
    kh, kw, cin_g, cout = node.weights.shape
    ho, wo, _ = node.out.shape
    top, _, left, _ = node.padding
    cout_g = cout // node.groups
    rows, biases = [], []
    for p in range(ho):
        for q in range(wo):
            for co in range(cout):
                g = co // cout_g
                row = []
                for i in range(kh):
                    y = p * node.stride[0] - top + i * node.dilation[0]
                    if not 0 <= y < h:
                        continue
                    for j in range(kw):
                        xx = q * node.stride[1] - left + j * node.dilation[1]
                        if not 0 <= xx < w:
                            continue
                        for ci in range(cin_g):
                            row.append((x.terms[y, xx, g * cin_g + ci],
                                        net.coefficient(node, "w", (i, j, ci, co),
                                                        node.weight_fmt)))
                rows.append(row)
                biases.append(net.coefficient(node, "b", (co,), node.out.fmt))
    return net.layer_output(node.out.shape, rows, biases, node, x.stage)


def matmul(net: Netlist, node: ir.MatMul, a: Tensor, b: Tensor) -> Tensor:
    out_shape = node.out.shape
    stage = max(a.stage, b.stage)
    a, b = net.delay(a, stage, node.name), net.delay(b, stage, node.name)
    b_terms = np.swapaxes(b.terms, -1, -2) if node.transpose_b else b.terms
    groups = []
    for index in np.ndindex(*out_shape):
        *lead, i, j = index
        lead_b = tuple(lead)[len(lead) - (b_terms.ndim - 2):]
        row_a, col_b = a.terms[tuple(lead) + (i,)], b_terms[lead_b + (slice(None), j)]
        group = []
        for x, y in zip(row_a, col_b):
            group.append(net._multiply(x, y))
        groups.append(group)
    sums, stage = net.reduce(groups, net._add, node.name, stage)
    sums = [arith.wrap(s, node.out.fmt.width) for s in sums]
    return net.finish_tensor(out_shape, sums, stage, node.name)


def _windows(node, shape):
    """For every output cell (p, q): the real input cells (y, x) of its window."""
    h, w = shape[:2]
    top, _, left, _ = node.padding
    ho, wo = node.out.shape[:2]
    for p in range(ho):
        for q in range(wo):
            cells = [(p * node.stride[0] - top + i, q * node.stride[1] - left + j)
                     for i in range(node.pool[0]) for j in range(node.pool[1])]
            yield p, q, [(y, x) for y, x in cells if 0 <= y < h and 0 <= x < w]


def max_pool2d(net: Netlist, node: ir.MaxPool2D, x: Tensor) -> Tensor:
    c = x.terms.shape[2]
    groups = [[x.terms[y, xx, ch] for y, xx in cells]
              for _, _, cells in _windows(node, x.terms.shape) for ch in range(c)]
    results, stage = net.reduce(groups, net._max, node.name, x.stage)
    return net.finish_tensor(node.out.shape, results, stage, node.name)


def _average(net: Netlist, node, groups, counts, in_fmt, x_stage: int, shape) -> Tensor:
    """Golden ``pool._divide``: ``saturate(round(sum * 2**(out.frac - in.frac) / count))``."""
    sums, stage = net.reduce(groups, net._add, node.name, x_stage)
    d = node.out.fmt.frac - in_fmt.frac
    results = []
    for total, count in zip(sums, counts):
        scaled = total.shifted(max(d, 0))
        divided = arith.round_div(scaled, count << max(-d, 0), node.rounding)
        results.append(arith.clamp(divided, node.out.fmt.min, node.out.fmt.max))
    return net.finish_tensor(shape, results, stage, node.name)


def avg_pool2d(net: Netlist, node: ir.AvgPool2D, x: Tensor, in_fmt) -> Tensor:
    c = x.terms.shape[2]
    groups, counts = [], []
    for _, _, cells in _windows(node, x.terms.shape):
        for ch in range(c):
            groups.append([x.terms[y, xx, ch] for y, xx in cells])
            counts.append(len(cells))
    return _average(net, node, groups, counts, in_fmt, x.stage, node.out.shape)


def global_avg_pool(net: Netlist, node: ir.GlobalAvgPool, x: Tensor, in_fmt) -> Tensor:
    flat = x.terms.reshape(-1, x.terms.shape[-1])
    groups = [list(flat[:, ch]) for ch in range(flat.shape[1])]
    return _average(net, node, groups, [flat.shape[0]] * flat.shape[1], in_fmt, x.stage,
                    node.out.shape)


def _rescale(x: Term, from_frac: int, to_frac: int, rounding: Rounding) -> Term:
    """Golden ``ops.rescale``: an exact left shift, or a rounding right shift."""
    if to_frac >= from_frac:
        return x.shifted(to_frac - from_frac)
    return arith.round_shift(x, from_frac - to_frac, rounding)


def requantize(net: Netlist, node: ir.Requantize, x: Tensor) -> Tensor:
    terms = list(x.terms.flat)
    stage = x.stage
    if node.multiplier is not None:
        multiplier = np.broadcast_to(np.asarray(node.multiplier), x.terms.shape).reshape(-1)
        groups = [arith.constant_product(t, int(m)) for t, m in zip(terms, multiplier)]
        terms, stage = net.reduce(groups, net._add, node.name, stage)
    out = [arith.fit(arith.round_shift(t, node.shift, node.rounding), node.out.fmt,
                     node.overflow) for t in terms]
    return net.finish_tensor(node.out.shape, out, stage, node.name)


def dense_layer(net: Netlist, node: ir.DenseLayer, x: Tensor) -> Tensor:
    """Golden ``dense_layer``: dense, rounding shift, ReLU and saturation in one clamp."""
    acc = dense(net, ir.Dense(name=node.name, input=node.input, weights=node.weights,
                              bias=node.bias, weight_fmt=node.weight_fmt,
                              out=ir.TensorType(node.out.shape, node.acc_fmt)), x)
    lo = max(node.out.fmt.min, 0) if node.relu else node.out.fmt.min
    out = [arith.clamp(arith.round_shift(t, node.shift, node.rounding), lo, node.out.fmt.max)
           for t in acc.terms.flat]
    return net.finish_tensor(node.out.shape, out, acc.stage, f"{node.name}_q")


def elementwise(node, a: Tensor, b: Tensor, a_fmt, b_fmt, net: Netlist) -> Tensor:
    """Golden ``ops.add`` / ``ops.mul``: aligned exactly, rounded to ``out.frac``, fitted."""
    stage = max(a.stage, b.stage)
    a, b = net.delay(a, stage, node.name), net.delay(b, stage, node.name)
    out = []
    for x, y in zip(a.terms.flat, b.terms.flat):
        if isinstance(node, ir.Add):
            frac = max(a_fmt.frac, b_fmt.frac)
            exact = net._add(_rescale(x, a_fmt.frac, frac, Rounding.FLOOR),
                             _rescale(y, b_fmt.frac, frac, Rounding.FLOOR))
        else:
            frac = a_fmt.frac + b_fmt.frac
            exact = net._multiply(x, y)
        scaled = _rescale(exact, frac, node.out.fmt.frac, node.rounding)
        out.append(arith.fit(scaled, node.out.fmt, node.overflow))
    return net.finish_tensor(node.out.shape, out, stage, node.name)


def relu(x: Tensor) -> Tensor:
    return _map(x, lambda t: arith.clamp(t, 0, max(t.hi, 0)))


def clip(node: ir.Clip, x: Tensor) -> Tensor:
    return _map(x, lambda t: arith.clamp(t, node.lo, node.hi))


def sign_binarize(x: Tensor) -> Tensor:
    return _map(x, lambda t: Term(Mux(arith.as_signed_exact(t.value) < 0, Const(-1, signed(2)),
                                      Const(1, signed(2))), -1, 1))


def _map(x: Tensor, function) -> Tensor:
    return Tensor(terms_array(x.terms.shape, [function(t) for t in x.terms.flat]), x.stage)


# --- wiring -----------------------------------------------------------------------------------

def zero_pad2d(node: ir.ZeroPad2D, x: Tensor) -> Tensor:
    top, bottom, left, right = node.padding
    h, w, c = x.terms.shape
    out = np.empty(node.out.shape, dtype=object)
    for index in np.ndindex(*out.shape):
        out[index] = Term.const(0)
    out[top:top + h, left:left + w, :] = x.terms
    return Tensor(out, x.stage)


def concat(node: ir.Concat, parts: list[Tensor], net: Netlist) -> Tensor:
    stage = max(p.stage for p in parts)
    parts = [net.delay(p, stage, node.name) for p in parts]
    return Tensor(np.concatenate([p.terms for p in parts], axis=node.axis), stage)


def reshape(node: ir.Reshape, x: Tensor) -> Tensor:
    return Tensor(x.terms.reshape(node.out.shape), x.stage)


def transpose(node: ir.Transpose, x: Tensor) -> Tensor:
    return Tensor(np.transpose(x.terms, node.perm), x.stage)


def slice_axis(node: ir.Slice, x: Tensor) -> Tensor:
    index = [slice(None)] * x.terms.ndim
    index[node.axis] = slice(node.start, node.stop)
    return Tensor(x.terms[tuple(index)], x.stage)
