// Requantize: y = overflow(round((x * m) / 2**shift)), exactly as sim/golden/ops.py.
//
// The rounding and the overflow are ap_fixed's: the exact integer v (any width) is read as
// a fixed-point number with SHIFT fractional bits (same bits, no arithmetic), and assigned
// to an ap_fixed/ap_ufixed with the output's width and no fractional bits, whose
// quantization mode rounds (AP_TRN floor, AP_RND half up, AP_RND_CONV half even, AP_RND_INF
// half away from zero) and whose overflow mode fits (AP_SAT clamps, AP_WRAP keeps the low
// bits).  A negative SHIFT is an exact left shift (Add and Mul use it).
//
// ng::quant::rescale is shared by ng_eltwise.h and ng_nonlinear.h.
#ifndef NG_REQUANT_H_
#define NG_REQUANT_H_

#include "ap_fixed.h"
#include "ap_int.h"

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

}  // namespace quant

// CONFIG: in_t, out_t, n (elements), reuse_factor, shift, rounding (ap_q_mode), overflow
// (ap_o_mode).
template <class CONFIG>
void requantize(const typename CONFIG::in_t x[CONFIG::n], typename CONFIG::out_t y[CONFIG::n]) {
#pragma HLS PIPELINE II = CONFIG::reuse_factor
    for (unsigned i = 0; i < CONFIG::n; i++) {
        y[i] = quant::rescale<typename CONFIG::out_t, CONFIG::shift, CONFIG::rounding,
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
        y[i] = quant::rescale<typename CONFIG::out_t, CONFIG::shift, CONFIG::rounding,
                              CONFIG::overflow>(p);
    }
}

}  // namespace ng

#endif  // NG_REQUANT_H_
