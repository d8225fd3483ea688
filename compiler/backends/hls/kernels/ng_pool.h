// ng_pool.h -- MaxPool2D, AvgPool2D, GlobalAvgPool (golden sim/golden/pool.py).
//
// Window (p, q) covers rows p*stride_h - pad_top + i, i < kern_h, and columns
// q*stride_w - pad_left + j, j < kern_w; cells outside the image are padding and never
// count: the maximum is over the real cells, the average divides by their number.
//
//   max:  y = the largest real cell of the window (same element type as x)
//   avg:  y = saturate(round(sum * 2^(out.frac - in.frac) / count))
//
// with sum the exact sum of the real cells (sum_t), count their number, and one exact
// rational rounding (ng::round_div) with the node's rounding, then clamped to out_t
// (ng::saturate).  When every window holds the same power-of-two count (no padding, or
// GlobalAvgPool) the division is a rounding shift (ng::round_shift), as the golden
// docstring states it is equal.
//
// CONFIG of max_pool2d / avg_pool2d (struct emitted by bindings/pool.py):
//   typedef in_t, out_t
//   static const int in_h, in_w, n_chan, out_h, out_w
//   static const int kern_h, kern_w            the pool window
//   static const int stride_h, stride_w
//   static const int dil_h, dil_w              always 1 (shared window walk, ng_stream.h)
//   static const int pad_top, pad_bottom, pad_left, pad_right
// and, for the averages (avg_pool2d, global_avg_pool):
//   typedef sum_t                              signed, holds any exact window sum
//   typedef num_t                              signed, holds sum << up_shift
//   typedef den_t                              signed, holds count << down_shift
//   static const int rounding                  an ng::rounding_mode
//   static const int up_shift, down_shift      max(out.frac - in.frac, 0), max(-that, 0)
//   static const bool pow2                     every count is the same power of two
//   static const int pow2_shift                then: log2(count) + down_shift - up_shift
// CONFIG of global_avg_pool: n_cells (product of every axis but the last), n_chan, and
// the average fields above.
//
// io_parallel: max_pool2d, avg_pool2d (x[in_h*in_w*n_chan] -> y[out_h*out_w*n_chan]),
// global_avg_pool (x[n_cells*n_chan] -> y[n_chan]).
// io_stream: max_pool2d_stream, avg_pool2d_stream (the line-buffer walk of
// conv2d_stream, ng_stream.h), global_avg_pool_stream (n_cells*n_chan reads, n_chan
// writes); one element per read/write, NHWC order.
#ifndef NG_POOL_H_
#define NG_POOL_H_

#include "hls_stream.h"
#include "ng_common.h"
#include "ng_stream.h"

namespace ng {

// Whether tap (i, j) of window (p, q) is a real cell, and where (r, s).
template <class CONFIG>
bool pool_tap(int p, int q, int i, int j, int& r, int& s) {
#pragma HLS INLINE
  r = p * CONFIG::stride_h - CONFIG::pad_top + i;
  s = q * CONFIG::stride_w - CONFIG::pad_left + j;
  return r >= 0 && r < CONFIG::in_h && s >= 0 && s < CONFIG::in_w;
}

// The number of real cells of window (p, q).
template <class CONFIG>
int pool_count(int p, int q) {
#pragma HLS INLINE
  int rows = 0, cols = 0;
  for (int i = 0; i < CONFIG::kern_h; i++) {
    const int r = p * CONFIG::stride_h - CONFIG::pad_top + i;
    rows += (r >= 0 && r < CONFIG::in_h) ? 1 : 0;
  }
  for (int j = 0; j < CONFIG::kern_w; j++) {
    const int s = q * CONFIG::stride_w - CONFIG::pad_left + j;
    cols += (s >= 0 && s < CONFIG::in_w) ? 1 : 0;
  }
  return rows * cols;
}

// saturate(round(sum * 2^(out.frac - in.frac) / count)) as out_t.
template <class CONFIG>
typename CONFIG::out_t average(const typename CONFIG::sum_t& sum, int count) {
#pragma HLS INLINE
  typedef typename CONFIG::out_t out_t;
  typedef typename CONFIG::num_t num_t;
  typedef typename CONFIG::den_t den_t;
  const int R = CONFIG::rounding;
  if (CONFIG::pow2) {
    const int K = CONFIG::pow2_shift;
    if (K >= 0) return saturate<out_t>(round_shift<R, (K >= 0 ? K : 0)>(sum));
    num_t scaled = sum;
    scaled = scaled << (K < 0 ? -K : 0);  // exact: a power-of-two count below the scale
    return saturate<out_t>(scaled);
  }
  num_t num = sum;
  num = num << CONFIG::up_shift;
  den_t den = count;
  den = den << CONFIG::down_shift;
  return saturate<out_t>(round_div<R>(num, den));
}

// The reduction of a window's real cells: add() each one, then result(count).
template <class CONFIG>
struct pool_max {
  typename CONFIG::in_t best;
  bool first;  // padding never wins: start from the first real cell
  pool_max() : best(0), first(true) {}
  void add(const typename CONFIG::in_t& v) {
#pragma HLS INLINE
    if (first || v > best) best = v;
    first = false;
  }
  typename CONFIG::out_t result(int) const { return best; }
};

template <class CONFIG>
struct pool_avg {
  typename CONFIG::sum_t sum;
  pool_avg() : sum(0) {}
  void add(const typename CONFIG::in_t& v) {
#pragma HLS INLINE
    sum += v;
  }
  typename CONFIG::out_t result(int count) const { return average<CONFIG>(sum, count); }
};

// ---- the window walks of MaxPool2D and AvgPool2D (REDUCE: pool_max / pool_avg) ---------

template <class CONFIG, class REDUCE>
void pool2d(const typename CONFIG::in_t x[CONFIG::in_h * CONFIG::in_w * CONFIG::n_chan],
            typename CONFIG::out_t y[CONFIG::out_h * CONFIG::out_w * CONFIG::n_chan]) {
  const int C = CONFIG::n_chan;
PoolRows:
  for (int p = 0; p < CONFIG::out_h; p++) {
  PoolCols:
    for (int q = 0; q < CONFIG::out_w; q++) {
#pragma HLS PIPELINE II = 1
      const int count = pool_count<CONFIG>(p, q);
    PoolChan:
      for (int c = 0; c < C; c++) {
        REDUCE acc;
      PoolTaps:
        for (int i = 0; i < CONFIG::kern_h; i++) {
          for (int j = 0; j < CONFIG::kern_w; j++) {
            int r, s;
            if (pool_tap<CONFIG>(p, q, i, j, r, s)) acc.add(x[(r * CONFIG::in_w + s) * C + c]);
          }
        }
        y[(p * CONFIG::out_w + q) * C + c] = acc.result(count);
      }
    }
  }
}

template <class CONFIG, class REDUCE>
void pool2d_stream(hls::stream<typename CONFIG::in_t>& x,
                   hls::stream<typename CONFIG::out_t>& y) {
  typedef typename CONFIG::in_t in_t;
  const int C = CONFIG::n_chan;
  const int HP = CONFIG::pad_top + CONFIG::in_h + CONFIG::pad_bottom;
  const int WP = CONFIG::pad_left + CONFIG::in_w + CONFIG::pad_right;
  in_t lines[CONFIG::kern_h][WP * C];
#pragma HLS ARRAY_PARTITION variable = lines complete dim = 1
  line_rows<CONFIG::kern_h> rows;
PoolStreamRows:
  for (int hp = 0; hp < HP; hp++) {
  PoolStreamCols:
    for (int wp = 0; wp < WP; wp++) {
#pragma HLS PIPELINE II = 1
      const bool real = window_walk<CONFIG>::real(hp, wp);
      for (int c = 0; c < C; c++) {
        lines[rows.newest][wp * C + c] = real ? x.read() : in_t(0);
      }
      int p = 0, q = 0;
      if (window_walk<CONFIG>::ends(hp, wp, p, q)) {
        const int count = pool_count<CONFIG>(p, q);
      PoolStreamChan:
        for (int c = 0; c < C; c++) {
          REDUCE acc;
          for (int i = 0; i < CONFIG::kern_h; i++) {
            for (int j = 0; j < CONFIG::kern_w; j++) {
              int r, s;
              if (pool_tap<CONFIG>(p, q, i, j, r, s)) {
                acc.add(lines[rows.slot(i)][(q * CONFIG::stride_w + j) * C + c]);
              }
            }
          }
          y.write(acc.result(count));
        }
      }
    }
    rows.next_row();
  }
}

// ---- MaxPool2D, AvgPool2D ---------------------------------------------------------------

template <class CONFIG>
void max_pool2d(const typename CONFIG::in_t x[CONFIG::in_h * CONFIG::in_w * CONFIG::n_chan],
                typename CONFIG::out_t y[CONFIG::out_h * CONFIG::out_w * CONFIG::n_chan]) {
  pool2d<CONFIG, pool_max<CONFIG> >(x, y);
}

template <class CONFIG>
void max_pool2d_stream(hls::stream<typename CONFIG::in_t>& x,
                       hls::stream<typename CONFIG::out_t>& y) {
  pool2d_stream<CONFIG, pool_max<CONFIG> >(x, y);
}

template <class CONFIG>
void avg_pool2d(const typename CONFIG::in_t x[CONFIG::in_h * CONFIG::in_w * CONFIG::n_chan],
                typename CONFIG::out_t y[CONFIG::out_h * CONFIG::out_w * CONFIG::n_chan]) {
  pool2d<CONFIG, pool_avg<CONFIG> >(x, y);
}

template <class CONFIG>
void avg_pool2d_stream(hls::stream<typename CONFIG::in_t>& x,
                       hls::stream<typename CONFIG::out_t>& y) {
  pool2d_stream<CONFIG, pool_avg<CONFIG> >(x, y);
}

// ---- GlobalAvgPool ----------------------------------------------------------------------

template <class CONFIG>
void global_avg_pool(const typename CONFIG::in_t x[CONFIG::n_cells * CONFIG::n_chan],
                     typename CONFIG::out_t y[CONFIG::n_chan]) {
  typename CONFIG::sum_t sums[CONFIG::n_chan];
#pragma HLS ARRAY_PARTITION variable = sums complete
GlobalPoolInit:
  for (int c = 0; c < CONFIG::n_chan; c++) sums[c] = 0;
GlobalPoolCells:
  for (int n = 0; n < CONFIG::n_cells; n++) {
#pragma HLS PIPELINE II = 1
    for (int c = 0; c < CONFIG::n_chan; c++) sums[c] += x[n * CONFIG::n_chan + c];
  }
GlobalPoolOut:
  for (int c = 0; c < CONFIG::n_chan; c++) {
#pragma HLS UNROLL
    y[c] = average<CONFIG>(sums[c], CONFIG::n_cells);
  }
}

template <class CONFIG>
void global_avg_pool_stream(hls::stream<typename CONFIG::in_t>& x,
                            hls::stream<typename CONFIG::out_t>& y) {
  typename CONFIG::sum_t sums[CONFIG::n_chan];
#pragma HLS ARRAY_PARTITION variable = sums complete
GlobalPoolStreamInit:
  for (int c = 0; c < CONFIG::n_chan; c++) sums[c] = 0;
GlobalPoolStreamCells:
  for (int n = 0; n < CONFIG::n_cells; n++) {
    for (int c = 0; c < CONFIG::n_chan; c++) {
#pragma HLS PIPELINE II = 1
      sums[c] += x.read();
    }
  }
GlobalPoolStreamOut:
  for (int c = 0; c < CONFIG::n_chan; c++) {
#pragma HLS PIPELINE II = 1
    y.write(average<CONFIG>(sums[c], CONFIG::n_cells));
  }
}

}  // namespace ng

#endif  // NG_POOL_H_
