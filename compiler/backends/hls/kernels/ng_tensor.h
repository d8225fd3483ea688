// Data-movement kernels: Concat, Reshape, Transpose, Slice (sim/golden/ops.py).  The
// integers are moved, never changed.  Tensors are flat row-major arrays; the bindings
// describe each op on a view of up to three axes [outer][axis][inner] (Concat, Slice) or
// six (Transpose, after merging axes that stay neighbours).
#ifndef NG_TENSOR_H_
#define NG_TENSOR_H_

#include "ap_int.h"

namespace ng {

// Lengths along the concatenation axis, one per source, in order.
template <unsigned... L> struct lengths {};

namespace tensor {

template <class T> inline T *last_of(T *out) { return out; }
template <class T, class First, class Second, class... Rest>
inline T *last_of(First, Second second, Rest... rest) {
    return last_of<T>(second, rest...);
}

template <class CONFIG, unsigned OFFSET, class... Rest>
inline void concat_into(typename CONFIG::value_t *, lengths<>, Rest...) {}

// Source of L slices along the axis goes to slices OFFSET ... OFFSET + L - 1 of the output.
template <class CONFIG, unsigned OFFSET, unsigned L, unsigned... LS, class Src, class... Rest>
inline void concat_into(typename CONFIG::value_t *out, lengths<L, LS...>, Src src,
                        Rest... rest) {
#pragma HLS INLINE
    for (unsigned o = 0; o < CONFIG::outer; o++) {
        for (unsigned k = 0; k < L * CONFIG::inner; k++) {
            out[(o * CONFIG::out_len + OFFSET) * CONFIG::inner + k] =
                src[o * L * CONFIG::inner + k];
        }
    }
    concat_into<CONFIG, OFFSET + L>(out, lengths<LS...>(), rest...);
}

}  // namespace tensor

// Concat(src0, src1, ..., out): CONFIG::value_t, outer, inner, out_len (the output's length
// along the axis) and lengths (ng::lengths<len0, len1, ...>).
template <class CONFIG, class... Arrays>
void concat(Arrays... arrays) {
    tensor::concat_into<CONFIG, 0>(tensor::last_of<typename CONFIG::value_t>(arrays...),
                                   typename CONFIG::lengths(), arrays...);
}

// Reshape and Flatten: the row-major order is unchanged, so a copy.
template <class CONFIG>
void reshape(const typename CONFIG::value_t x[CONFIG::n], typename CONFIG::value_t y[CONFIG::n]) {
    for (unsigned i = 0; i < CONFIG::n; i++) {
        y[i] = x[i];
    }
}

// Output element (i0, ..., i5) of dims d0 ... d5 (row-major) is input element
// i0 * s0 + ... + i5 * s5 (s_k: the input stride of the axis that output axis k reads).
template <class CONFIG>
void transpose(const typename CONFIG::value_t x[CONFIG::n], typename CONFIG::value_t y[CONFIG::n]) {
    unsigned o = 0;
    for (unsigned i0 = 0; i0 < CONFIG::d0; i0++)
        for (unsigned i1 = 0; i1 < CONFIG::d1; i1++)
            for (unsigned i2 = 0; i2 < CONFIG::d2; i2++)
                for (unsigned i3 = 0; i3 < CONFIG::d3; i3++)
                    for (unsigned i4 = 0; i4 < CONFIG::d4; i4++)
                        for (unsigned i5 = 0; i5 < CONFIG::d5; i5++) {
                            y[o++] = x[i0 * CONFIG::s0 + i1 * CONFIG::s1 + i2 * CONFIG::s2 +
                                       i3 * CONFIG::s3 + i4 * CONFIG::s4 + i5 * CONFIG::s5];
                        }
}

// Input viewed as [outer][in_len][inner]; the output keeps slices start ... start + out_len - 1.
template <class CONFIG>
void slice(const typename CONFIG::value_t x[CONFIG::n_in],
           typename CONFIG::value_t y[CONFIG::n_out]) {
    for (unsigned o = 0; o < CONFIG::outer; o++) {
        for (unsigned k = 0; k < CONFIG::out_len * CONFIG::inner; k++) {
            y[o * CONFIG::out_len * CONFIG::inner + k] =
                x[(o * CONFIG::in_len + CONFIG::start) * CONFIG::inner + k];
        }
    }
}

}  // namespace ng

#endif  // NG_TENSOR_H_
