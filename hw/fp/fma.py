"""Pipelined floating-point multiply-add ``acc + a*b``, exact or with approximate normalization.

The datapath is six combinational steps; ``stages`` registers are spread over them (the
last always registers the result).  ``neurogate.sim.golden.fp.fma`` is the same
computation in NumPy, step for step, for every ``ApproxNorm`` setting:

1. decode ``a``, ``b``, ``acc``; normalize subnormal input significands (narrow
   leading-zero counts beside the decoder); exact significand product; special values;
2. normalize the product (its leading one to the top: a 1-bit decision, because step 1
   already normalized subnormal inputs); pick X, the operand with the larger exponent;
   exponent difference ``d``, clamped;
3. align Y by ``d`` (with sticky jamming unless disabled), add or subtract, magnitude;
4. leading-zero count (the whole window, or only ``lz_window`` bits) and the shift amount,
   never taking the exponent below the accumulator's smallest so subnormals come out aligned;
5. the normalization left shift;
6. round to nearest even, pack, overflow, flush.
"""

from __future__ import annotations

from amaranth.hdl import Cat, Const, Module, Mux, Shape, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from ...numerics.checks import check_int
from ...numerics.floats import EXACT, ApproxNorm, FloatFormat

STEPS = 6
MAX_ACC_MAN_BITS = 23  # keeps the golden model inside int64 (window <= 52 bits)


def leading_zeros(v):
    """Leading zeros of ``v`` (``len(v)`` when zero) as a log-depth tree."""
    width = len(v)
    size = 1
    while size < max(width, 2):
        size *= 2
    padded = Cat(Const(0, size - width), v)  # zeros below keep the count of a nonzero v

    def tree(x):
        if len(x) == 2:
            return ~(x[0] | x[1]), ~x[1]
        half = len(x) // 2
        zl, cl = tree(x[:half])
        zh, ch = tree(x[half:])
        return zl & zh, Mux(zh, Cat(cl, Const(1, 1)), Cat(ch, Const(0, 1)))

    zero, count = tree(padded)
    return Mux(zero, width, count)


class FloatMultiplyAdd(wiring.Component):
    """``result = acc + a * b`` with round-to-nearest-even, ``stages`` cycles later.

    Parameters
    ----------
    in_fmt : FloatFormat
        Format of ``a`` and ``b``.
    acc_fmt : FloatFormat
        Format of ``acc`` and ``result``; its mantissa must be at least as wide as
        ``in_fmt``'s and at most 23 bits.
    norm : ApproxNorm
        Alignment/normalization setting; ``ApproxNorm.exact()`` rounds correctly.
    stages : int
        Pipeline registers, 1 to 6 (the last one registers ``result``).

    Ports
    -----
    a, b : In, ``in_fmt.layout`` (``in_fmt.width`` bits)
    acc : In, ``acc_fmt.layout`` (``acc_fmt.width`` bits)
    valid_in : In, 1 bit, travels with the operands
    ce : In, 1 bit, init 1; 0 freezes every pipeline register (stream back-pressure)
    result : Out, ``acc_fmt.layout``, registered
    valid_out : Out, 1 bit, ``valid_in`` delayed by ``latency`` enabled cycles
    """

    def __init__(self, *, in_fmt: FloatFormat, acc_fmt: FloatFormat,
                 norm: ApproxNorm = EXACT, stages: int = 3):
        for name, fmt in (("in_fmt", in_fmt), ("acc_fmt", acc_fmt)):
            if not isinstance(fmt, FloatFormat):
                raise TypeError(f"{name} must be a FloatFormat, not {fmt!r}")
        check_int("accumulator mantissa bits", acc_fmt.man_bits, low=in_fmt.man_bits,
                  high=MAX_ACC_MAN_BITS)
        if not isinstance(norm, ApproxNorm):
            raise TypeError(f"norm must be an ApproxNorm, not {norm!r}")
        check_int("pipeline stages", stages, low=1, high=STEPS)
        self.in_fmt, self.acc_fmt, self.norm, self._stages = in_fmt, acc_fmt, norm, stages
        self.n = max(2 * in_fmt.precision, acc_fmt.precision)
        self.w = self.n + norm.guard_bits + 1
        super().__init__({
            "a": In(in_fmt.layout), "b": In(in_fmt.layout), "acc": In(acc_fmt.layout),
            "valid_in": In(1), "ce": In(1, init=1),
            "result": Out(acc_fmt.layout), "valid_out": Out(1),
        })

    @property
    def latency(self) -> int:
        """Cycles (with ``ce`` high) from operands at the inputs to ``result``."""
        return self._stages

    @property
    def cuts(self) -> tuple[int, ...]:
        """Steps (1..6) after which a register sits; spread evenly, the last is step 6."""
        return tuple(sorted({max(1, round((i + 1) * STEPS / self._stages))
                             for i in range(self._stages)}))

    # --- the six steps ----------------------------------------------------------------------
    def _decode(self, raw, fmt: FloatFormat):
        m, e = fmt.man_bits, fmt.exp_bits
        frac, field, sign = raw[:m], raw[m:m + e], raw[m + e]
        special = field == fmt.exp_all_ones
        if fmt.inf_nan == "ieee":
            nan, inf = special & (frac != 0), special & (frac == 0)
        else:
            nan, inf = special & (frac == (1 << m) - 1), Const(0, 1)
        normal = field != 0
        if not fmt.subnormals:
            frac = Mux(normal, frac, 0)  # denormals-are-zero
        sig = Cat(frac, normal)
        exp = Mux(normal, field, 1) - fmt.bias
        return {"sign": sign, "sig": sig, "exp": exp, "nan": nan, "inf": inf,
                "zero": (sig == 0) & ~nan & ~inf}

    @property
    def _prenormalize(self) -> bool:
        """Whether inputs may be subnormal and the product is normalized fully: then the
        inputs are normalized before the multiplier, so the product lies in [1, 4)."""
        return self.in_fmt.subnormals and self.norm.product_norm

    def _normalized(self, u):
        # Same product and exponent as normalizing the product afterwards (both exact),
        # but the leading-zero count works on the narrow inputs, off step 2's path.
        if not self._prenormalize:
            return u
        lz = leading_zeros(u["sig"])
        return {**u, "sig": (u["sig"] << lz)[:len(u["sig"])], "exp": u["exp"] - lz}

    def _step1(self, v):
        ua = self._normalized(self._decode(self.a.as_value(), self.in_fmt))
        ub = self._normalized(self._decode(self.b.as_value(), self.in_fmt))
        uc = self._decode(self.acc.as_value(), self.acc_fmt)
        p_inf = ua["inf"] | ub["inf"]
        sp = ua["sign"] ^ ub["sign"]
        nan = (ua["nan"] | ub["nan"] | uc["nan"] | (ua["inf"] & ub["zero"])
               | (ub["inf"] & ua["zero"]) | (p_inf & uc["inf"] & (sp != uc["sign"])))
        return {"p": ua["sig"] * ub["sig"], "sp": sp, "eab": ua["exp"] + ub["exp"] + 1,
                "sigc": uc["sig"], "ec": uc["exp"], "sc": uc["sign"],
                "nan": nan, "inf": p_inf | uc["inf"], "inf_sign": Mux(p_inf, sp, uc["sign"])}

    def _step2(self, v):
        pw = 2 * self.in_fmt.precision
        p = v["p"]
        if not self.norm.product_norm:
            p = Mux(p[pw - 2:] == 0, 0, p)  # below [1, 4): a zero product
        lzp = ~p[pw - 1]  # product of normalized significands lies in [1, 4): one bit decides
        pn = (p << lzp)[:pw]
        ep = v["eab"] - lzp
        xp = Cat(Const(0, self.n - pw), pn)
        xc = Cat(Const(0, self.n - self.acc_fmt.precision), v["sigc"])
        # lzp is one bit, so ep - ec and ec - ep are chosen between differences computed
        # side by side from the registered exponents, not subtracted after lzp (timing).
        eab, ec = v["eab"], v["ec"]
        ep_minus_ec = Mux(lzp, eab - 1 - ec, eab - ec)
        ec_minus_ep = Mux(lzp, ec - eab + 1, ec - eab)
        swap = (p != 0) & (ep_minus_ec > 0)
        ex = Mux(swap, ep, ec)
        diff = Mux(swap, ep_minus_ec, ec_minus_ep)
        limit = self.n + self.norm.guard_bits
        d = Mux(diff < 0, 0, Mux(diff > limit, limit, diff))
        return {"x": Mux(swap, xp, xc), "y": Mux(swap, xc, xp), "ex": ex,
                "sx": Mux(swap, v["sp"], v["sc"]), "sy": Mux(swap, v["sc"], v["sp"]),
                "d": d[:Shape.cast(range(limit + 1)).width],
                "both_zero": (p == 0) & (v["sigc"] == 0), "sp": v["sp"], "sc": v["sc"],
                "nan": v["nan"], "inf": v["inf"], "inf_sign": v["inf_sign"]}

    def _step3(self, v):
        g = self.norm.guard_bits
        yw = Cat(Const(0, g), v["y"])
        ya = yw >> v["d"]
        if self.norm.sticky:
            # bit i leaves the window iff i < d: a comparator per bit, cheaper than
            # building the mask (1 << d) - 1 with a shifter and a decrement
            gone = Cat(*(yw[i] & (v["d"] > i) for i in range(len(yw))))
            ya = Cat(ya[0] | gone.any(), ya[1:])
        xw = Cat(Const(0, g), v["x"])
        # |x - y| as a choice between x - y and y - x computed side by side: one carry
        # chain deep instead of a subtraction followed by a negation (ECP5 timing).
        x_minus_y, y_minus_x = xw - ya, ya - xw
        negative = (v["sx"] != v["sy"]) & (x_minus_y < 0)
        s = Mux(v["sx"] != v["sy"], Mux(negative, y_minus_x, x_minus_y), xw + ya)[:self.w]
        # exponent arithmetic of step 4 done here, off its critical path (ECP5 timing)
        return {"s": s, "sr": v["sx"] ^ negative, "ex1": v["ex"] + 1,
                "cap": v["ex"] + 1 - self.acc_fmt.emin,
                **{k: v[k] for k in ("both_zero", "sp", "sc", "nan", "inf", "inf_sign")}}

    def _step4(self, v):
        s, w, cap = v["s"], self.w, v["cap"]
        k = self.norm.lz_window
        if k is None:
            lz = leading_zeros(s)
            deep = Const(0, 1)
            shift = Mux(cap < lz, cap, lz)[:Shape.cast(range(w + 1)).width]
        else:
            lz = leading_zeros(s[w - k - 1:])
            deep = (lz == k + 1) & (cap > k)
            # narrow on purpose: with the shift amount at most k+1 bits wide, synthesis
            # builds a shifter of log2(k+2) levels instead of log2(w+1)
            narrow = Shape.cast(range(k + 2)).width
            shift = Mux(cap < lz, cap[:narrow], lz)[:narrow]
        # the exponent update waits for step 5, in parallel with the shifter (timing)
        return {"s": s, "shift": shift, "deep": deep, "ex1": v["ex1"],
                "flush": (s == 0) | deep, "sr": v["sr"],
                **{k: v[k] for k in ("both_zero", "sp", "sc", "nan", "inf", "inf_sign")}}

    def _step5(self, v):
        return {"sn": (v["s"] << Mux(v["deep"], 0, v["shift"]))[:self.w],
                "er": v["ex1"] - v["shift"],
                **{k: v[k] for k in ("flush", "sr", "both_zero", "sp", "sc", "nan",
                                     "inf", "inf_sign")}}

    def _step6(self, v):
        fmt = self.acc_fmt
        ma, top = fmt.man_bits, fmt.exp_bits + fmt.man_bits
        r = self.w - fmt.precision
        sn = v["sn"]
        sig, rb, st = sn[r:], sn[r - 1], sn[:r - 1].any()
        up = rb & (st | sig[0])
        mag = (((v["er"] + fmt.bias - 1) << ma) + sig + up).as_signed()
        overflow = mag > fmt.max_finite_code
        mag = Mux(v["flush"], 0, Mux(overflow, fmt.overflow_code, mag))
        if not fmt.subnormals:
            mag = Mux(mag < (1 << ma), 0, mag)
        sign = Mux(v["both_zero"], v["sp"] & v["sc"], Mux(v["flush"], 0, v["sr"]))
        nan = v["nan"]
        if fmt.inf_nan == "fn":
            sign = Mux(overflow, 0, sign)
            nan = nan | v["inf"]
        code = Cat(mag[:top], sign)
        if fmt.inf_nan == "ieee":
            code = Mux(v["inf"], Cat(Const(fmt.inf_code, top), v["inf_sign"]), code)
        return {"code": Mux(nan, fmt.nan_code, code)}

    def elaborate(self, platform):
        m = Module()
        steps = (self._step1, self._step2, self._step3, self._step4, self._step5, self._step6)
        values: dict = {}
        valid = self.valid_in
        for index, step in enumerate(steps, start=1):
            values = step(values)
            cut = index in self.cuts
            named = {}
            for key, value in values.items():
                # a named signal even where no register sits: it bounds the expression trees
                # (the simulator would otherwise inline shared subexpressions repeatedly)
                sig = Signal(value.shape(), name=f"s{index}_{key}")
                if cut:
                    with m.If(self.ce):
                        m.d.sync += sig.eq(value)
                else:
                    m.d.comb += sig.eq(value)
                named[key] = sig
            values = named
            if cut:
                reg_valid = Signal(name=f"s{index}_valid")
                with m.If(self.ce):
                    m.d.sync += reg_valid.eq(valid)
                valid = reg_valid
        m.d.comb += [self.result.eq(values["code"]), self.valid_out.eq(valid)]
        return m

