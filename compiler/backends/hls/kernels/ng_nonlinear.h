// The integer non-linear units: Softmax (i-exp or Shiftmax, optional BiViT binarization),
// Norm (LayerNorm / RMSNorm with gamma/beta), Activation (sigmoid, SiLU, ShiftGELU) and
// IGelu, with the arithmetic of sim/golden/nonlinear.py step for step.
//
// Every intermediate has its own typedef in the config, sized by the binding
// (bindings/nonlinear.py) from the unit's numerics config so that no step can overflow:
// the results are the golden model's integers whatever the input.  Each final rounding
// (half up) and saturation is ap_fixed's, through ng::quant::rescale (ng_requant.h).
// Softmax and Norm work row by row over the last axis (row_len elements, rows rows).
//
// CONFIG (bindings/nonlinear.py): in_t, out_t, x_t (the unit's signed in_bits), n, row_len,
// rows, reuse_factor; the constants of the unit's numerics config (shifts, rounded
// coefficients, flags); one typedef per intermediate; Softmax and Activation also a nested
// struct exp_cfg for exp_stage.
#ifndef NG_NONLINEAR_H_
#define NG_NONLINEAR_H_

#include "ap_int.h"
#include "ng_requant.h"

namespace ng {
namespace nonlinear {

// e ~ exp_max * exp(-n * 2^-in_frac) for n >= 0 (golden softmax_exp).  E is an exp_cfg
// struct: neg_t (n), scaled_t (n << frac_shift), exp_t (e, one bit wider than exp_max so
// that a shift by max_shift = exp_bits stays inside the type), and per method:
//   i-exp:    z = floor(scaled / q_ln2) = (n * z_mult) >> z_shift (exact over neg_t, checked
//             by SoftmaxConfig.z_reciprocal), t = q_b - (scaled - z * q_ln2) in (0, q_b],
//             e = (t * t + q_c) >> min(z, max_shift);
//   Shiftmax: v = d + (d >> 1) - (d >> 4) with d = -scaled, z = -(v >> frac), f = the low
//             frac bits of v, e = (2^frac + f) >> min(z, max_shift).
template <class E>
typename E::exp_t exp_stage(const typename E::neg_t &n) {
#pragma HLS INLINE
    typedef typename E::exp_t exp_t;
    typename E::scaled_t scaled = typename E::scaled_t(n) << E::frac_shift;
    if (E::shiftmax) {
        typedef typename E::v_t v_t;
        v_t d = -v_t(scaled);
        v_t v = d + (d >> 1) - (d >> 4);
        v_t z = -(v >> E::frac);
        ap_uint<E::frac> f = v;  // v & (2^frac - 1)
        unsigned shift = z < E::max_shift ? unsigned(z) : unsigned(E::max_shift);
        exp_t one = 1;
        return ((one << E::frac) + f) >> shift;
    }
    typename E::zprod_t zprod = n * typename E::zmult_t(E::z_mult);
    typename E::z_t z = zprod >> E::z_shift;
    typename E::scaled_t rest = scaled - z * typename E::ln2_t(E::q_ln2);  // [0, q_ln2)
    typename E::t_t t = typename E::t_t(E::q_b) - rest;
    exp_t poly = t * t + exp_t(E::q_c);  // <= exp_max
    unsigned shift = z < E::max_shift ? unsigned(z) : unsigned(E::max_shift);
    return poly >> shift;
}

// floor(sqrt(v)), one result bit per step (the digit-by-digit method); the same integer
// as the golden model's Newton iteration (isqrt_newton), which also ends at the floor.
template <int RB, int VB>
ap_uint<RB> isqrt(const ap_uint<VB> &v) {
#pragma HLS INLINE
    const int EB = VB + (VB & 1);
    typedef ap_uint<EB + 2> wide_t;
    wide_t rest = v, root = 0, bit = wide_t(1) << (EB - 2);
    for (int i = 0; i < EB / 2; i++) {
        if (rest >= root + bit) {
            rest -= root + bit;
            root = (root >> 1) + bit;
        } else {
            root >>= 1;
        }
        bit >>= 2;
    }
    return root;
}

}  // namespace nonlinear

// Softmax of each row: e_j = exp_stage(max - x_j), factor = floor(2^norm_shift / sum e),
// p_j = min(round_half_up(e_j * factor / 2^round_shift), 2^out_bits - 1); with binarize
// the output is p_j >= (p_max >> 2), p_max being p of e = exp_max.
template <class CONFIG>
void softmax(const typename CONFIG::in_t x[CONFIG::n], typename CONFIG::out_t y[CONFIG::n]) {
    typedef typename CONFIG::exp_cfg E;
    typedef typename CONFIG::x_t x_t;
    typedef typename CONFIG::prob_t prob_t;
Rows:
    for (unsigned r = 0; r < CONFIG::rows; r++) {
        const unsigned base = r * CONFIG::row_len;
        x_t top = x[base];
        for (unsigned j = 1; j < CONFIG::row_len; j++) {
            if (x_t(x[base + j]) > top) top = x[base + j];
        }
        typename E::exp_t e[CONFIG::row_len];
        typename CONFIG::sum_t total = 0;
        for (unsigned j = 0; j < CONFIG::row_len; j++) {
            e[j] = nonlinear::exp_stage<E>(typename E::neg_t(top - x_t(x[base + j])));
            total += e[j];
        }
        typename CONFIG::num_t num = 1;
        num <<= CONFIG::norm_shift;
        typename CONFIG::factor_t factor = num / total;  // total >= exp_max > 0
        prob_t p_max = quant::rescale<prob_t, CONFIG::round_shift, AP_RND, AP_SAT>(
            typename CONFIG::prod_t(E::exp_max) * factor);
        for (unsigned j = 0; j < CONFIG::row_len; j++) {
            prob_t p = quant::rescale<prob_t, CONFIG::round_shift, AP_RND, AP_SAT>(
                typename CONFIG::prod_t(e[j]) * factor);
            if (CONFIG::binarize) {
                y[base + j] = p >= (p_max >> 2) ? 1 : 0;
            } else {
                y[base + j] = p;
            }
        }
    }
}

// LayerNorm / RMSNorm of each row of n = row_len: S1 = sum x (0 for RMSNorm), S2 = sum x^2,
// r = isqrt((n S2 - S1^2) << 2 guard), factor = r ? floor(2^norm_shift / r) : 0, then per
// element c = n x - S1, v = c * factor (* gamma_j + beta_j << affine_shift), and
// y = saturate(round_half_up(v / 2^affine_shift)).
template <class CONFIG>
void norm_rows(const typename CONFIG::in_t x[CONFIG::n], typename CONFIG::out_t y[CONFIG::n],
               const typename CONFIG::gamma_t gamma[CONFIG::row_len],
               const typename CONFIG::beta_t beta[CONFIG::row_len]) {
    typedef typename CONFIG::x_t x_t;
    typedef typename CONFIG::out_t out_t;
Rows:
    for (unsigned r = 0; r < CONFIG::rows; r++) {
        const unsigned base = r * CONFIG::row_len;
        typename CONFIG::s1_t s1 = 0;
        typename CONFIG::s2_t s2 = 0;
        for (unsigned j = 0; j < CONFIG::row_len; j++) {
            x_t v = x[base + j];
            if (CONFIG::layernorm) s1 += v;
            s2 += v * v;
        }
        typename CONFIG::wide_t spread = typename CONFIG::wide_t(CONFIG::row_len) * s2 - s1 * s1;
        typename CONFIG::var_t var = spread;  // n S2 - S1^2 >= 0
        var <<= CONFIG::guard2;
        typename CONFIG::root_t root = nonlinear::isqrt<CONFIG::root_bits>(var);
        typename CONFIG::factor_t factor = 0;
        if (root != 0) {
            typename CONFIG::num_t num = 1;
            num <<= CONFIG::norm_shift;
            factor = num / root;
        }
        for (unsigned j = 0; j < CONFIG::row_len; j++) {
            typename CONFIG::c_t c = typename CONFIG::c_t(CONFIG::row_len) * x_t(x[base + j]) - s1;
            typename CONFIG::val_t v = c * factor;
            if (CONFIG::affine) {
                typename CONFIG::aff_t a = typename CONFIG::aff_t(v) * gamma[j] +
                                           (typename CONFIG::aff_t(beta[j]) << CONFIG::affine_shift);
                y[base + j] = quant::rescale<out_t, CONFIG::affine_shift, AP_RND, AP_SAT>(a);
            } else {
                y[base + j] = quant::rescale<out_t, CONFIG::affine_shift, AP_RND, AP_SAT>(v);
            }
        }
    }
}

// Without gamma / beta (CONFIG::affine false).
template <class CONFIG>
void norm(const typename CONFIG::in_t x[CONFIG::n], typename CONFIG::out_t y[CONFIG::n]) {
    const typename CONFIG::gamma_t gamma[1] = {0};
    const typename CONFIG::beta_t beta[1] = {0};
    norm_rows<CONFIG>(x, y, gamma, beta);
}

// With gamma and beta (zeros when the config has no beta), row_len values each.
template <class CONFIG>
void norm(const typename CONFIG::in_t x[CONFIG::n], typename CONFIG::out_t y[CONFIG::n],
          const typename CONFIG::gamma_t gamma[CONFIG::row_len],
          const typename CONFIG::beta_t beta[CONFIG::row_len]) {
    norm_rows<CONFIG>(x, y, gamma, beta);
}

// Sigmoid, SiLU, ShiftGELU (golden activation): a = x (ShiftGELU: x + x/2 + x/8 + x/16 by
// floor shifts), e = exp_stage(|a|), q = floor((e << p) / (exp_max + e)), s = q (a < 0)
// or 2^p - q; sigmoid: min(round_half_up(s / 4), 2^out_bits - 1), else
// saturate(round_half_up(x * s / 2^product_shift)).
template <class CONFIG>
void activation(const typename CONFIG::in_t x[CONFIG::n], typename CONFIG::out_t y[CONFIG::n]) {
#pragma HLS PIPELINE II = CONFIG::reuse_factor
    typedef typename CONFIG::exp_cfg E;
    typedef typename CONFIG::x_t x_t;
    typedef typename CONFIG::a_t a_t;
    typedef typename CONFIG::s_t s_t;
    typedef typename CONFIG::out_t out_t;
    for (unsigned i = 0; i < CONFIG::n; i++) {
        x_t v = x[i];
        a_t a = v;
        if (CONFIG::shiftgelu) a = v + (v >> 1) + (v >> 3) + (v >> 4);
        typedef typename E::neg_t neg_t;
        neg_t magnitude = a < 0 ? neg_t(-a) : neg_t(a);
        typename E::exp_t e = nonlinear::exp_stage<E>(magnitude);
        typename CONFIG::num_t num = e;
        num <<= CONFIG::sigmoid_frac;
        typename CONFIG::den_t den = typename CONFIG::den_t(E::exp_max) + e;
        s_t q = num / den;  // <= 2^(p-1)
        s_t s = q;
        if (!(a < 0)) s = (s_t(1) << CONFIG::sigmoid_frac) - q;
        if (CONFIG::sigmoid) {
            y[i] = quant::rescale<out_t, 2, AP_RND, AP_SAT>(s);
        } else {
            typename CONFIG::prod_t product = v * s;
            y[i] = quant::rescale<out_t, CONFIG::product_shift, AP_RND, AP_SAT>(product);
        }
    }
}

// I-BERT i-GELU (golden igelu): u = x << frac_shift, c = min(|u|, -q_b),
// L = sign(u) ((c + q_b)^2 + q_c), y = saturate(round_half_up(-u (L + q_c) scale / 2^out_shift)).
template <class CONFIG>
void igelu(const typename CONFIG::in_t x[CONFIG::n], typename CONFIG::out_t y[CONFIG::n]) {
#pragma HLS PIPELINE II = CONFIG::reuse_factor
    typedef typename CONFIG::u_t u_t;
    typedef typename CONFIG::clip_t clip_t;
    typedef typename CONFIG::poly_t poly_t;
    for (unsigned i = 0; i < CONFIG::n; i++) {
        u_t u = x[i];
        u <<= CONFIG::frac_shift;
        typedef typename CONFIG::mag_t mag_t;
        mag_t magnitude = u < 0 ? mag_t(-u) : mag_t(u);
        const clip_t limit = -CONFIG::q_b;
        clip_t clipped = magnitude < limit ? clip_t(magnitude) : limit;
        typename CONFIG::d_t d = typename CONFIG::d_t(clipped) + typename CONFIG::d_t(CONFIG::q_b);
        poly_t poly = d * d + poly_t(CONFIG::q_c);
        typedef typename CONFIG::erf_t erf_t;
        erf_t erf = u < 0 ? erf_t(-poly) : erf_t(poly);
        typename CONFIG::t_t t = erf + typename CONFIG::t_t(CONFIG::q_c);
        typename CONFIG::q_t q = u * t;
        typename CONFIG::w_t w = -(q * typename CONFIG::scale_t(CONFIG::scale));
        y[i] = quant::rescale<typename CONFIG::out_t, CONFIG::out_shift, AP_RND, AP_SAT>(w);
    }
}

}  // namespace ng

#endif  // NG_NONLINEAR_H_
