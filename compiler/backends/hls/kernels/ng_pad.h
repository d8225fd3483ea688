// ng_pad.h -- ZeroPad2D, NHWC (IR node ZeroPad2D; golden sim/golden/pool.py zero_pad2d).
//
//   y[h, w, c] = x[h - pad_top, w - pad_left, c] inside x, else 0
//
// CONFIG (struct emitted by bindings/pool.py):
//   typedef in_t, out_t                  the same element type
//   static const int in_h, in_w, n_chan  input image
//   static const int out_h, out_w        in_h + top + bottom, in_w + left + right
//   static const int pad_top, pad_left
//
// io_parallel (zero_pad2d): x[in_h*in_w*n_chan] -> y[out_h*out_w*n_chan].
// io_stream (zero_pad2d_stream): in_h*in_w*n_chan reads, out_h*out_w*n_chan writes,
// one element each, NHWC order (ng_stream.h).  Whether (h, w) lies inside x is
// window_walk<CONFIG>::real of ng_stream.h.
#ifndef NG_PAD_H_
#define NG_PAD_H_

#include "hls_stream.h"
#include "ng_stream.h"

namespace ng {


template <class CONFIG>
void zero_pad2d(const typename CONFIG::in_t x[CONFIG::in_h * CONFIG::in_w * CONFIG::n_chan],
                typename CONFIG::out_t y[CONFIG::out_h * CONFIG::out_w * CONFIG::n_chan]) {
  const int C = CONFIG::n_chan;
PadRows:
  for (int h = 0; h < CONFIG::out_h; h++) {
  PadCols:
    for (int w = 0; w < CONFIG::out_w; w++) {
#pragma HLS PIPELINE II = 1
      const bool inside = window_walk<CONFIG>::real(h, w);
      const int src = ((h - CONFIG::pad_top) * CONFIG::in_w + (w - CONFIG::pad_left)) * C;
    PadChan:
      for (int c = 0; c < C; c++) {
        y[(h * CONFIG::out_w + w) * C + c] =
            inside ? typename CONFIG::out_t(x[src + c]) : typename CONFIG::out_t(0);
      }
    }
  }
}

template <class CONFIG>
void zero_pad2d_stream(hls::stream<typename CONFIG::in_t>& x,
                       hls::stream<typename CONFIG::out_t>& y) {
PadStreamRows:
  for (int h = 0; h < CONFIG::out_h; h++) {
  PadStreamCols:
    for (int w = 0; w < CONFIG::out_w; w++) {
      const bool inside = window_walk<CONFIG>::real(h, w);
    PadStreamChan:
      for (int c = 0; c < CONFIG::n_chan; c++) {
#pragma HLS PIPELINE II = 1
        y.write(inside ? typename CONFIG::out_t(x.read()) : typename CONFIG::out_t(0));
      }
    }
  }
}

}  // namespace ng

#endif  // NG_PAD_H_
