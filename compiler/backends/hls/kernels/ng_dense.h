// ng_dense.h -- Dense (IR node Dense; golden sim/golden/linear.py dense).
//
//   y[r, o] = wrap(b[o] + sum_i x[r, i] * w[o, i], acc width)
//
// over the last axis, for each of n_rows leading rows.  The sum is accumulated in acc_t
// (ap_int<acc width>), which wraps modulo 2^width at each addition: the result is the
// golden "exact sum, then wrap" whatever the order.  Binary {-1,+1} and ternary
// {-1,0,+1} weights are ap_int<2> holding those integers.
//
// CONFIG (struct emitted by bindings/linear.py):
//   typedef in_t, w_t, acc_t, out_t     elements of x, w, b and y (out_t == acc_t)
//   static const unsigned n_rows        product of the leading axes of x (1 for a vector)
//   static const unsigned n_in, n_out   in and out features
//   static const bool resource          false: latency style, true: resource style
//   static const unsigned reuse         resource style: R, the multipliers each serve R
//                                       products (1 <= R <= n_in * n_out)
//   static const unsigned n_mult        ceil(n_in * n_out / reuse): multipliers per row
// Arrays: x[n_rows * n_in], y[n_rows * n_out] row-major; w[n_out * n_in] = the IR's
// (out, in) weights row-major; b[n_out].
//
// Styles (both bit-exact, chosen by the binding from --strategy):
//   latency   every product of a row at once (loops unrolled, w partitioned); rows are
//             pipelined one per cycle.
//   resource  a loop of `reuse` iterations pipelined at II=1, iteration ir computing
//             the products p = ir + m * reuse, m < n_mult, of the flat (out, in) weight
//             index p; w is reshaped into n_mult banks so that each iteration reads one
//             word per bank.
#ifndef NG_DENSE_H_
#define NG_DENSE_H_

#include "hls_stream.h"
#include "ng_common.h"

namespace ng {

// One row, latency style: every product at once.
template <class CONFIG>
void dense_row_latency(const typename CONFIG::in_t x[CONFIG::n_in],
                       typename CONFIG::out_t y[CONFIG::n_out],
                       const typename CONFIG::w_t w[CONFIG::n_out * CONFIG::n_in],
                       const typename CONFIG::acc_t b[CONFIG::n_out]) {
#pragma HLS INLINE
#pragma HLS ARRAY_PARTITION variable = w complete
#pragma HLS ARRAY_PARTITION variable = b complete
DenseOut:
  for (unsigned o = 0; o < CONFIG::n_out; o++) {
#pragma HLS UNROLL
    typename CONFIG::acc_t acc = b[o];
  DenseIn:
    for (unsigned i = 0; i < CONFIG::n_in; i++) {
#pragma HLS UNROLL
      acc += x[i] * w[o * CONFIG::n_in + i];
    }
    y[o] = acc;
  }
}

// One row, resource style: `reuse` pipelined iterations of n_mult products each.
template <class CONFIG>
void dense_row_resource(const typename CONFIG::in_t x[CONFIG::n_in],
                        typename CONFIG::out_t y[CONFIG::n_out],
                        const typename CONFIG::w_t w[CONFIG::n_out * CONFIG::n_in],
                        const typename CONFIG::acc_t b[CONFIG::n_out]) {
#pragma HLS INLINE
  const unsigned R = CONFIG::reuse;
  const unsigned K = CONFIG::n_in;
  const unsigned NK = CONFIG::n_out * CONFIG::n_in;
  const unsigned banks = CONFIG::n_mult;
#pragma HLS ARRAY_RESHAPE variable = w block factor = banks
#pragma HLS ARRAY_PARTITION variable = b complete
  typename CONFIG::acc_t acc[CONFIG::n_out];
#pragma HLS ARRAY_PARTITION variable = acc complete
DenseInit:
  for (unsigned o = 0; o < CONFIG::n_out; o++) {
#pragma HLS UNROLL
    acc[o] = b[o];
  }
DenseReuse:
  for (unsigned ir = 0; ir < R; ir++) {
#pragma HLS PIPELINE II = 1
    // (o, i) of the flat weight index p = o * K + i, stepped by R per multiplier
    // (no division in the unrolled loop).
    unsigned i = ir % K;
    unsigned o = ir / K;
  DenseMult:
    for (unsigned m = 0; m < banks; m++) {
#pragma HLS UNROLL
      unsigned p = ir + m * R;
      if (p < NK) acc[o] += x[i] * w[p];
      i += R % K;
      o += R / K;
      if (i >= K) {
        i -= K;
        o += 1;
      }
    }
  }
DenseResult:
  for (unsigned o = 0; o < CONFIG::n_out; o++) {
#pragma HLS UNROLL
    y[o] = acc[o];
  }
}

// One row in the style CONFIG::resource chooses.
template <class CONFIG>
void dense_row(const typename CONFIG::in_t x[CONFIG::n_in], typename CONFIG::out_t y[CONFIG::n_out],
               const typename CONFIG::w_t w[CONFIG::n_out * CONFIG::n_in],
               const typename CONFIG::acc_t b[CONFIG::n_out]) {
#pragma HLS INLINE
  if (CONFIG::resource) {
    dense_row_resource<CONFIG>(x, y, w, b);
  } else {
    dense_row_latency<CONFIG>(x, y, w, b);
  }
}

// Row r of x[n_rows * n_in] into row r of y[n_rows * n_out].
template <class CONFIG>
void dense_row_at(unsigned r, const typename CONFIG::in_t x[CONFIG::n_rows * CONFIG::n_in],
                  typename CONFIG::out_t y[CONFIG::n_rows * CONFIG::n_out],
                  const typename CONFIG::w_t w[CONFIG::n_out * CONFIG::n_in],
                  const typename CONFIG::acc_t b[CONFIG::n_out]) {
#pragma HLS INLINE
  const unsigned K = CONFIG::n_in, N = CONFIG::n_out;
  typename CONFIG::in_t xr[K];
  typename CONFIG::out_t yr[N];
#pragma HLS ARRAY_PARTITION variable = xr complete
#pragma HLS ARRAY_PARTITION variable = yr complete
  for (unsigned i = 0; i < K; i++) xr[i] = x[r * K + i];
  dense_row<CONFIG>(xr, yr, w, b);
  for (unsigned o = 0; o < N; o++) y[r * N + o] = yr[o];
}

// io_parallel: x[n_rows * n_in] -> y[n_rows * n_out].  Latency style pipelines the rows.
template <class CONFIG>
void dense(const typename CONFIG::in_t x[CONFIG::n_rows * CONFIG::n_in],
           typename CONFIG::out_t y[CONFIG::n_rows * CONFIG::n_out],
           const typename CONFIG::w_t w[CONFIG::n_out * CONFIG::n_in],
           const typename CONFIG::acc_t b[CONFIG::n_out]) {
  if (CONFIG::resource) {
  DenseRowsResource:
    for (unsigned r = 0; r < CONFIG::n_rows; r++) dense_row_at<CONFIG>(r, x, y, w, b);
  } else {
  DenseRowsLatency:
    for (unsigned r = 0; r < CONFIG::n_rows; r++) {
#pragma HLS PIPELINE II = 1
      dense_row_at<CONFIG>(r, x, y, w, b);
    }
  }
}

// io_stream: per row, n_in reads of x, then n_out writes of y (one element each;
// ng_stream.h).
template <class CONFIG>
void dense_stream(hls::stream<typename CONFIG::in_t>& x, hls::stream<typename CONFIG::out_t>& y,
                  const typename CONFIG::w_t w[CONFIG::n_out * CONFIG::n_in],
                  const typename CONFIG::acc_t b[CONFIG::n_out]) {
  typedef typename CONFIG::in_t in_t;
  typedef typename CONFIG::out_t out_t;
  const unsigned K = CONFIG::n_in, N = CONFIG::n_out;
DenseStreamRows:
  for (unsigned r = 0; r < CONFIG::n_rows; r++) {
    in_t xr[K];
    out_t yr[N];
#pragma HLS ARRAY_PARTITION variable = xr complete
#pragma HLS ARRAY_PARTITION variable = yr complete
  DenseStreamRead:
    for (unsigned i = 0; i < K; i++) {
#pragma HLS PIPELINE II = 1
      xr[i] = x.read();
    }
    dense_row<CONFIG>(xr, yr, w, b);
  DenseStreamWrite:
    for (unsigned o = 0; o < N; o++) {
#pragma HLS PIPELINE II = 1
      y.write(yr[o]);
    }
  }
}

}  // namespace ng

#endif  // NG_DENSE_H_
