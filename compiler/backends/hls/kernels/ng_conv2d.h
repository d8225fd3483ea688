// ng_conv2d.h -- Conv2D, NHWC (IR node Conv2D; golden sim/golden/linear.py conv2d).
//
//   y[p, q, o] = wrap(b[o] + sum_{i, j, c} xp[p*SH + i*DH, q*SW + j*DW, g*CG + c]
//                                          * w[i, j, c, o], acc width)
//
// xp is x with pad_top/pad_bottom rows and pad_left/pad_right columns of zeros; output
// channel o belongs to group g = o / OG and reads the CG input channels of that group
// (groups == n_chan: depthwise).  Accumulated in acc_t, which wraps modulo 2^width:
// "exact sum, then wrap" (ng_dense.h).
//
// CONFIG (struct emitted by bindings/linear.py):
//   typedef in_t, w_t, acc_t, out_t       elements of x, w, b and y (out_t == acc_t)
//   static const int in_h, in_w, n_chan    input image (H, W, C)
//   static const int out_h, out_w, n_filt  output image (Ho, Wo, O)
//   static const int kern_h, kern_w        kernel
//   static const int stride_h, stride_w, dil_h, dil_w
//   static const int pad_top, pad_bottom, pad_left, pad_right
//   static const int groups, chan_per_group (CG = C / groups), filt_per_group (O / groups)
//   static const unsigned reuse            II of the per-output-pixel pipeline
// Arrays: x[H*W*C], y[Ho*Wo*O] NHWC row-major; w[KH*KW*CG*O] = the IR's (kh, kw, cg, o)
// weights row-major; b[O].
//
// io_parallel (conv2d): an im2col loop nest.  For each output pixel (pipelined with
// II = reuse: reuse 1 computes every product of a pixel at once, reuse R lets the tool
// share the multipliers R ways) the KH*KW*C input cells of its window are gathered into
// `col` (zeros at padding), then each output channel is a dot product over its group.
//
// io_stream (conv2d_stream): x arrives as H*W*C elements, one per read, NHWC raster
// order (ng_stream.h); y leaves as Ho*Wo*O elements the same way.  The kernel walks the
// padded image in raster order, reading a real cell's C channels from the stream and
// writing zeros for a padded cell into a line buffer of the last (KH-1)*DH+1 padded
// rows; when a window's bottom-right cell arrives, the window is gathered from the line
// buffer and the output pixel is computed as in io_parallel.
#ifndef NG_CONV2D_H_
#define NG_CONV2D_H_

#include "hls_stream.h"
#include "ng_common.h"
#include "ng_stream.h"

namespace ng {

// One output pixel from its gathered window col[(i*KW + j)*C + c].
template <class CONFIG>
void conv2d_pixel(const typename CONFIG::in_t col[CONFIG::kern_h * CONFIG::kern_w *
                                                  CONFIG::n_chan],
                  typename CONFIG::out_t y[CONFIG::n_filt],
                  const typename CONFIG::w_t w[CONFIG::kern_h * CONFIG::kern_w *
                                               CONFIG::chan_per_group * CONFIG::n_filt],
                  const typename CONFIG::acc_t b[CONFIG::n_filt]) {
#pragma HLS INLINE
  const int C = CONFIG::n_chan, CG = CONFIG::chan_per_group, O = CONFIG::n_filt;
  const int TAPS = CONFIG::kern_h * CONFIG::kern_w;
ConvFilt:
  for (int o = 0; o < O; o++) {
#pragma HLS UNROLL
    const int g = o / CONFIG::filt_per_group;
    typename CONFIG::acc_t acc = b[o];
  ConvTap:
    for (int t = 0; t < TAPS; t++) {
#pragma HLS UNROLL
    ConvChan:
      for (int c = 0; c < CG; c++) {
#pragma HLS UNROLL
        acc += col[t * C + g * CG + c] * w[(t * CG + c) * O + o];
      }
    }
    y[o] = acc;
  }
}

// io_parallel: x[in_h*in_w*n_chan] -> y[out_h*out_w*n_filt].
template <class CONFIG>
void conv2d(const typename CONFIG::in_t x[CONFIG::in_h * CONFIG::in_w * CONFIG::n_chan],
            typename CONFIG::out_t y[CONFIG::out_h * CONFIG::out_w * CONFIG::n_filt],
            const typename CONFIG::w_t w[CONFIG::kern_h * CONFIG::kern_w *
                                         CONFIG::chan_per_group * CONFIG::n_filt],
            const typename CONFIG::acc_t b[CONFIG::n_filt]) {
#pragma HLS ARRAY_PARTITION variable = w complete
#pragma HLS ARRAY_PARTITION variable = b complete
  typedef typename CONFIG::in_t in_t;
  const int C = CONFIG::n_chan, O = CONFIG::n_filt;
  const int KH = CONFIG::kern_h, KW = CONFIG::kern_w;
ConvRows:
  for (int p = 0; p < CONFIG::out_h; p++) {
  ConvCols:
    for (int q = 0; q < CONFIG::out_w; q++) {
#pragma HLS PIPELINE II = CONFIG::reuse
      in_t col[KH * KW * C];
      typename CONFIG::out_t pixel[O];
#pragma HLS ARRAY_PARTITION variable = col complete
#pragma HLS ARRAY_PARTITION variable = pixel complete
    ConvGatherRow:
      for (int i = 0; i < KH; i++) {
      ConvGatherCol:
        for (int j = 0; j < KW; j++) {
          const int r = p * CONFIG::stride_h - CONFIG::pad_top + i * CONFIG::dil_h;
          const int s = q * CONFIG::stride_w - CONFIG::pad_left + j * CONFIG::dil_w;
          const bool inside = r >= 0 && r < CONFIG::in_h && s >= 0 && s < CONFIG::in_w;
        ConvGatherChan:
          for (int c = 0; c < C; c++) {
            col[(i * KW + j) * C + c] = inside ? in_t(x[(r * CONFIG::in_w + s) * C + c])
                                               : in_t(0);
          }
        }
      }
      conv2d_pixel<CONFIG>(col, pixel, w, b);
    ConvStore:
      for (int o = 0; o < O; o++) y[(p * CONFIG::out_w + q) * O + o] = pixel[o];
    }
  }
}

// io_stream: H*W*C reads of x, Ho*Wo*O writes of y, one element each, NHWC order.
template <class CONFIG>
void conv2d_stream(hls::stream<typename CONFIG::in_t>& x,
                   hls::stream<typename CONFIG::out_t>& y,
                   const typename CONFIG::w_t w[CONFIG::kern_h * CONFIG::kern_w *
                                                CONFIG::chan_per_group * CONFIG::n_filt],
                   const typename CONFIG::acc_t b[CONFIG::n_filt]) {
#pragma HLS ARRAY_PARTITION variable = w complete
#pragma HLS ARRAY_PARTITION variable = b complete
  typedef typename CONFIG::in_t in_t;
  const int C = CONFIG::n_chan, O = CONFIG::n_filt;
  const int KH = CONFIG::kern_h, KW = CONFIG::kern_w;
  const int EH = (KH - 1) * CONFIG::dil_h + 1;
  const int HP = CONFIG::pad_top + CONFIG::in_h + CONFIG::pad_bottom;
  const int WP = CONFIG::pad_left + CONFIG::in_w + CONFIG::pad_right;
  in_t lines[EH][WP * C];
#pragma HLS ARRAY_PARTITION variable = lines complete dim = 1
  line_rows<EH> rows;
ConvStreamRows:
  for (int hp = 0; hp < HP; hp++) {
  ConvStreamCols:
    for (int wp = 0; wp < WP; wp++) {
#pragma HLS PIPELINE II = CONFIG::reuse
      const bool real = window_walk<CONFIG>::real(hp, wp);
    ConvStreamRead:
      for (int c = 0; c < C; c++) {
        lines[rows.newest][wp * C + c] = real ? x.read() : in_t(0);
      }
      int p = 0, q = 0;
      if (window_walk<CONFIG>::ends(hp, wp, p, q)) {
        in_t col[KH * KW * C];
        typename CONFIG::out_t pixel[O];
#pragma HLS ARRAY_PARTITION variable = col complete
#pragma HLS ARRAY_PARTITION variable = pixel complete
      ConvStreamGather:
        for (int i = 0; i < KH; i++) {
          for (int j = 0; j < KW; j++) {
            for (int c = 0; c < C; c++) {
              const int col_in = (q * CONFIG::stride_w + j * CONFIG::dil_w) * C + c;
              col[(i * KW + j) * C + c] = lines[rows.slot(i * CONFIG::dil_h)][col_in];
            }
          }
        }
        conv2d_pixel<CONFIG>(col, pixel, w, b);
      ConvStreamWrite:
        for (int o = 0; o < O; o++) y.write(pixel[o]);
      }
    }
    rows.next_row();
  }
}

}  // namespace ng

#endif  // NG_CONV2D_H_
