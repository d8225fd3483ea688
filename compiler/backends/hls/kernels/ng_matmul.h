// ng_matmul.h -- MatMul of two activations (IR node MatMul; golden sim/golden/linear.py
// matmul).
//
//   y[t, m, n] = wrap(sum_k a[t, m, k] * b'[t, k, n], acc width)
//
// for each of n_batch leading blocks t, with b' = b (b is (K, N)) or b^T (transpose_b:
// b is (N, K), attention's Q x K^T).  Accumulated in acc_t, which wraps modulo 2^width:
// "exact sum, then wrap" (ng_dense.h).  No bias.
//
// CONFIG (struct emitted by bindings/linear.py):
//   typedef a_t, b_t, acc_t, out_t      elements of a, b and y (out_t == acc_t)
//   static const unsigned n_batch       product of the leading axes (1 for 2-D operands)
//   static const unsigned n_m, n_k, n_n
//   static const bool transpose_b
//   static const unsigned reuse         II of the per-row pipeline
// Arrays (row-major): a[n_batch*n_m*n_k], b[n_batch*n_k*n_n] (or n_batch*n_n*n_k when
// transposed), y[n_batch*n_m*n_n].
//
// io_parallel only: one row of y (n_n dot products of length n_k) per pipeline
// iteration, II = reuse.
#ifndef NG_MATMUL_H_
#define NG_MATMUL_H_

#include "ng_common.h"

namespace ng {

template <class CONFIG>
void matmul(const typename CONFIG::a_t a[CONFIG::n_batch * CONFIG::n_m * CONFIG::n_k],
            const typename CONFIG::b_t b[CONFIG::n_batch * CONFIG::n_k * CONFIG::n_n],
            typename CONFIG::out_t y[CONFIG::n_batch * CONFIG::n_m * CONFIG::n_n]) {
  const unsigned M = CONFIG::n_m, K = CONFIG::n_k, N = CONFIG::n_n;
MatMulBatch:
  for (unsigned t = 0; t < CONFIG::n_batch; t++) {
  MatMulRows:
    for (unsigned m = 0; m < M; m++) {
#pragma HLS PIPELINE II = CONFIG::reuse
    MatMulCols:
      for (unsigned n = 0; n < N; n++) {
        typename CONFIG::acc_t acc = 0;
      MatMulDot:
        for (unsigned k = 0; k < K; k++) {
          const unsigned bi = CONFIG::transpose_b ? (t * N + n) * K + k : (t * K + k) * N + n;
          acc += a[(t * M + m) * K + k] * b[bi];
        }
        y[(t * M + m) * N + n] = acc;
      }
    }
  }
}

}  // namespace ng

#endif  // NG_MATMUL_H_
