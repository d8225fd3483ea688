// Requantize: y = overflow(round((x * m) / 2**shift)), exactly as sim/golden/ops.py.
//
// The overflow is ap_fixed's, and so is the rounding where ap_fixed has the mode: the exact
// integer v (any width) is read as a fixed-point number with SHIFT fractional bits (same
// bits, no arithmetic), and assigned to an ap_fixed/ap_ufixed with the output's width and no
// fractional bits, whose quantization mode rounds (ng::RND_FLOOR AP_TRN, RND_HALF_UP AP_RND,
// RND_HALF_EVEN AP_RND_CONV, RND_HALF_AWAY AP_RND_INF, RND_TRUNC AP_TRN_ZERO, RND_HALF_ZERO
// AP_RND_ZERO) and whose overflow mode fits (AP_SAT clamps, AP_WRAP keeps the low bits).
// ap_fixed has no mode for RND_CEIL and RND_AWAY: those are rounded in integers
// (ng::round_shift), then fitted.  A negative SHIFT is an exact left shift (Add and Mul use
// it).
//
// ng::quant::rescale (one ap_fixed mode) and ng::quant::round_fit (any ng::rounding_mode)
// are shared by ng_eltwise.h and ng_nonlinear.h.
#ifndef NG_REQUANT_H_
#define NG_REQUANT_H_

#include "ap_fixed.h"
#include "ap_int.h"
#include "ng_common.h"

namespace ng {
namespace quant {

// Width and signedness of an ap_int / ap_uint element type.
template <class T> struct int_traits;
template <int W> struct int_traits<ap_int<W> > {
    static const int width = W;
    static const bool is_signed = true;
};
template <int W> struct int_traits<ap_uint<W> > {
    static const int width = W;
    static const bool is_signed = false;
};

template <int W, int I, bool S, ap_q_mode Q, ap_o_mode O> struct fixed_type {
    typedef ap_fixed<W, I, Q, O> type;
};
template <int W, int I, ap_q_mode Q, ap_o_mode O> struct fixed_type<W, I, false, Q, O> {
    typedef ap_ufixed<W, I, Q, O> type;
};

template <int W, bool S> struct widened { typedef ap_int<W> type; };
template <int W> struct widened<W, false> { typedef ap_uint<W> type; };

// v / 2**SHIFT (v * 2**-SHIFT when SHIFT < 0) rounded with Q, then fitted into Out with O.
template <class Out, int SHIFT, ap_q_mode Q, ap_o_mode O, class In>
inline Out rescale(const In &v) {
#pragma HLS INLINE
    typedef int_traits<In> in;
    typedef int_traits<Out> out;
    // At least one integer bit: the reference ap_fixed headers assert (reading a bit
    // beyond the MSB) when rounding a value whose integer part is negative, so a shift
    // as wide as the value first sign- (or zero-) extends it.
    static const int WX = in::width > SHIFT ? in::width : SHIFT + 1;
    typename widened<WX, in::is_signed>::type wide = v;
    typename fixed_type<WX, WX - SHIFT, in::is_signed, AP_TRN, AP_WRAP>::type f;
    f.range(WX - 1, 0) = wide.range(WX - 1, 0);
    typename fixed_type<out::width, out::width, out::is_signed, Q, O>::type r = f;
    Out y;
    y.range(out::width - 1, 0) = r.range(out::width - 1, 0);
    return y;
}

// The ap_fixed quantization mode that rounds as the ng::rounding_mode R does, if any.
template <int R> struct ap_rounding {
    static const bool exists = false;  // RND_CEIL, RND_AWAY
    static const ap_q_mode mode = AP_TRN;
};
template <> struct ap_rounding<RND_FLOOR> {
    static const bool exists = true;
    static const ap_q_mode mode = AP_TRN;
};
template <> struct ap_rounding<RND_HALF_UP> {
    static const bool exists = true;
    static const ap_q_mode mode = AP_RND;
};
template <> struct ap_rounding<RND_HALF_EVEN> {
    static const bool exists = true;
    static const ap_q_mode mode = AP_RND_CONV;
};
template <> struct ap_rounding<RND_HALF_AWAY> {
    static const bool exists = true;
    static const ap_q_mode mode = AP_RND_INF;
};
template <> struct ap_rounding<RND_TRUNC> {
    static const bool exists = true;
    static const ap_q_mode mode = AP_TRN_ZERO;
};
template <> struct ap_rounding<RND_HALF_ZERO> {
    static const bool exists = true;
    static const ap_q_mode mode = AP_RND_ZERO;
};

// v / 2**SHIFT (v * 2**-SHIFT when SHIFT < 0) rounded with the ng::rounding_mode R, then
// fitted into Out with O: by ap_fixed's mode for R, or, where ap_fixed has none, by
// ng::round_shift on a signed copy of v one bit wider (exact) and an ap_fixed fit.
template <class Out, int SHIFT, int R, ap_o_mode O, class In>
inline Out round_fit(const In &v) {
#pragma HLS INLINE
    if (ap_rounding<R>::exists || SHIFT <= 0)
        return rescale<Out, SHIFT, ap_rounding<R>::mode, O>(v);
    ap_int<int_traits<In>::width + 1> x = v;
    return rescale<Out, 0, AP_TRN, O>(round_shift<R, (SHIFT > 0 ? SHIFT : 0)>(x));
}

}  // namespace quant

// CONFIG: in_t, out_t, n (elements), reuse_factor, shift, rounding (ng::rounding_mode),
// overflow (ap_o_mode).
template <class CONFIG>
void requantize(const typename CONFIG::in_t x[CONFIG::n], typename CONFIG::out_t y[CONFIG::n]) {
#pragma HLS PIPELINE II = CONFIG::reuse_factor
    for (unsigned i = 0; i < CONFIG::n; i++) {
        y[i] = quant::round_fit<typename CONFIG::out_t, CONFIG::shift, CONFIG::rounding,
                                CONFIG::overflow>(x[i]);
    }
}

// With an integer multiplier: m[0] for the whole tensor (n_mult = 1) or m[c] for channel c of
// the last axis (n_mult = its length).  prod_t holds every x * m exactly.
template <class CONFIG>
void requantize(const typename CONFIG::in_t x[CONFIG::n], typename CONFIG::out_t y[CONFIG::n],
                const typename CONFIG::mult_t m[CONFIG::n_mult]) {
#pragma HLS PIPELINE II = CONFIG::reuse_factor
    for (unsigned i = 0; i < CONFIG::n; i++) {
        typename CONFIG::prod_t p = x[i] * m[i % CONFIG::n_mult];
        y[i] = quant::round_fit<typename CONFIG::out_t, CONFIG::shift, CONFIG::rounding,
                                CONFIG::overflow>(p);
    }
}

}  // namespace ng

#endif  // NG_REQUANT_H_
