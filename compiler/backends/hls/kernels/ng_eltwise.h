// Elementwise kernels: Add, Mul, Relu, Clip, SignBinarize (sim/golden/ops.py).
//
// Add and Mul are exact in CONFIG::sum_t / CONFIG::prod_t (the binding sizes them from the
// operand ranges), then rounded and fitted once by quant::round_fit (ng_requant.h).
//
// CONFIG (bindings/elementwise.py): n (elements), reuse_factor, the element types in_t /
// out_t (a_t, b_t for Add and Mul); Add: sum_t, a_shift, b_shift, shift; Mul: prod_t, shift;
// Add and Mul: rounding (ng::rounding_mode), overflow (ap_o_mode); Clip: lo, hi.
#ifndef NG_ELTWISE_H_
#define NG_ELTWISE_H_

#include "ap_int.h"
#include "ng_requant.h"

namespace ng {

// a * 2**a_shift + b * 2**b_shift (both at the larger frac), then / 2**shift (shift < 0: an
// exact left shift to a finer output), rounded and fitted to out_t.
template <class CONFIG>
void add(const typename CONFIG::a_t a[CONFIG::n], const typename CONFIG::b_t b[CONFIG::n],
         typename CONFIG::out_t y[CONFIG::n]) {
#pragma HLS PIPELINE II = CONFIG::reuse_factor
    typedef typename CONFIG::sum_t sum_t;
    for (unsigned i = 0; i < CONFIG::n; i++) {
        sum_t s = (sum_t(a[i]) << CONFIG::a_shift) + (sum_t(b[i]) << CONFIG::b_shift);
        y[i] = quant::round_fit<typename CONFIG::out_t, CONFIG::shift, CONFIG::rounding,
                                CONFIG::overflow>(s);
    }
}

// The exact product (frac a.frac + b.frac) / 2**shift, rounded and fitted to out_t.
template <class CONFIG>
void mul(const typename CONFIG::a_t a[CONFIG::n], const typename CONFIG::b_t b[CONFIG::n],
         typename CONFIG::out_t y[CONFIG::n]) {
#pragma HLS PIPELINE II = CONFIG::reuse_factor
    for (unsigned i = 0; i < CONFIG::n; i++) {
        typename CONFIG::prod_t p = a[i] * b[i];
        y[i] = quant::round_fit<typename CONFIG::out_t, CONFIG::shift, CONFIG::rounding,
                                CONFIG::overflow>(p);
    }
}

template <class CONFIG>
void relu(const typename CONFIG::in_t x[CONFIG::n], typename CONFIG::out_t y[CONFIG::n]) {
#pragma HLS PIPELINE II = CONFIG::reuse_factor
    for (unsigned i = 0; i < CONFIG::n; i++) {
        y[i] = x[i] < 0 ? typename CONFIG::out_t(0) : typename CONFIG::out_t(x[i]);
    }
}

// min(max(x, lo), hi); lo and hi are integers of the input's format.
template <class CONFIG>
void clip(const typename CONFIG::in_t x[CONFIG::n], typename CONFIG::out_t y[CONFIG::n]) {
#pragma HLS PIPELINE II = CONFIG::reuse_factor
    for (unsigned i = 0; i < CONFIG::n; i++) {
        typename CONFIG::in_t v = x[i];
        if (v < CONFIG::lo) v = CONFIG::lo;
        if (v > CONFIG::hi) v = CONFIG::hi;
        y[i] = v;
    }
}

// x >= 0 -> +1, x < 0 -> -1 (zero included in +1).
template <class CONFIG>
void sign_binarize(const typename CONFIG::in_t x[CONFIG::n],
                   typename CONFIG::out_t y[CONFIG::n]) {
#pragma HLS PIPELINE II = CONFIG::reuse_factor
    for (unsigned i = 0; i < CONFIG::n; i++) {
        y[i] = x[i] < 0 ? typename CONFIG::out_t(-1) : typename CONFIG::out_t(1);
    }
}

}  // namespace ng

#endif  // NG_ELTWISE_H_
