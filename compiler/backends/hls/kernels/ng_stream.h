// ng_stream.h -- io_stream plumbing: array <-> stream adapters and the line buffer of
// the sliding-window kernels (conv2d_stream, max_pool2d_stream, avg_pool2d_stream).
//
// Stream format, shared by every neurogate stream kernel: a tensor travels as its
// flat row-major (NHWC for images) sequence of elements, ONE ELEMENT PER READ/WRITE
// (hls::stream<ap_int<W>>, not a packed pixel).  An image (H, W, C) is H*W*C reads:
// pixel (0,0) channels 0..C-1, then pixel (0,1), ...  A kernel consumes exactly the
// elements of its input and produces exactly those of its output, in that order.
#ifndef NG_STREAM_H_
#define NG_STREAM_H_

#include "hls_stream.h"

namespace ng {

// Write the N elements of x to s, in order.
template <int N, class T>
void array_to_stream(const T x[N], hls::stream<T>& s) {
ArrayToStream:
  for (int i = 0; i < N; i++) {
#pragma HLS PIPELINE II = 1
    s.write(x[i]);
  }
}

// Read N elements of s into y, in order.
template <int N, class T>
void stream_to_array(hls::stream<T>& s, T y[N]) {
StreamToArray:
  for (int i = 0; i < N; i++) {
#pragma HLS PIPELINE II = 1
    y[i] = s.read();
  }
}

// The bookkeeping of a line buffer: the last ROWS rows of an image arriving row by row,
// kept in an array `T lines[ROWS][COLS]` that the kernel owns (and partitions on its
// first dimension, so that a window reads all its rows at once).  The rows are a
// circular buffer: the row being written replaces the oldest one.  A window of extent
// EH rows over a raster-order stream needs ROWS = EH.  The kernel writes each arriving
// element to lines[rows.newest][col], calls rows.next_row() after the last element of a
// row, and finds row k of the window (k = 0: the oldest row held, ROWS - 1: the row
// being written) at lines[rows.slot(k)].
template <int ROWS>
struct line_rows {
  int newest;  // the slot of the row being written

  line_rows() : newest(0) {}

  int slot(int k) const {
#pragma HLS INLINE
    int s = newest + 1 + k;  // the oldest row is the slot after the newest
    return s >= ROWS ? s - ROWS : s;
  }

  void next_row() {
#pragma HLS INLINE
    newest = newest + 1 == ROWS ? 0 : newest + 1;
  }
};

// Where a raster-order walk over the padded image stands: at padded cell (hp, wp), is it
// a real cell (read from the stream) and does a window end there?  A window of extent
// (EH, EW) with stride (SH, SW) ends at (hp, wp) when hp - (EH-1) = p * SH and
// wp - (EW-1) = q * SW for an output cell (p, q) of an (OH, OW) output.
template <class CONFIG>
struct window_walk {
  static bool real(int hp, int wp) {
#pragma HLS INLINE
    return hp >= CONFIG::pad_top && hp < CONFIG::pad_top + CONFIG::in_h &&
           wp >= CONFIG::pad_left && wp < CONFIG::pad_left + CONFIG::in_w;
  }
  // True when a window ends at (hp, wp); then (p, q) is its output cell.
  static bool ends(int hp, int wp, int& p, int& q) {
#pragma HLS INLINE
    const int EH = (CONFIG::kern_h - 1) * CONFIG::dil_h + 1;
    const int EW = (CONFIG::kern_w - 1) * CONFIG::dil_w + 1;
    int h0 = hp - (EH - 1), w0 = wp - (EW - 1);
    if (h0 < 0 || w0 < 0 || h0 % CONFIG::stride_h != 0 || w0 % CONFIG::stride_w != 0) {
      return false;
    }
    p = h0 / CONFIG::stride_h;
    q = w0 / CONFIG::stride_w;
    return p < CONFIG::out_h && q < CONFIG::out_w;
  }
};

}  // namespace ng

#endif  // NG_STREAM_H_
