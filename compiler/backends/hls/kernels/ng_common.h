// ng_common.h -- generic integer helpers shared by every neurogate HLS kernel.
//
// Everything here works on the integer representation of a value (ap_int<W> /
// ap_uint<W>), exactly as the golden model (sim/golden/arith.py) defines it:
//
//   ng::rounding_mode        every numerics.Rounding, numbered in its order (RND_<NAME>)
//   ng::limits<T>            min() / max() of an ap_int<W> or ap_uint<W> type
//   ng::saturate<T>(v)       v clamped to [limits<T>::min(), limits<T>::max()], as T
//   ng::wrap<T>(v)           the low T::width bits of v read as T (two's complement)
//   ng::rounds_up<R>(...)    whether R takes floor(n / d) up by one: every mode's rule
//   ng::round_shift<R, S>(v) v / 2^S rounded with R (arith.round_shift), S >= 0 constant
//   ng::round_div<R>(n, d)   n / d rounded with R, d > 0 (arith.round_div), exact
//
// Wrap is what an assignment to a narrower ap_int already does; ng::wrap only says so
// where it matters.  Accumulating into an ap_int<W> is therefore "exact sum, then wrap
// to W bits" (golden arith.wrap), whatever the order of the additions.
//
// No helper allocates, loops over data or depends on the HLS tool: each synthesizes to
// a few adders and comparators (round_div to one divider).
#ifndef NG_COMMON_H_
#define NG_COMMON_H_

#include "ap_int.h"

namespace ng {

// The rounding of a right shift or a division (numerics.rounding.Rounding, same order; the
// Amaranth hardware's RoundingCode is the same numbering).
enum rounding_mode {
  RND_FLOOR = 0,      // towards -inf: an arithmetic right shift
  RND_HALF_UP = 1,    // nearest, a tie goes towards +inf
  RND_HALF_EVEN = 2,  // nearest, a tie goes to the even neighbour
  RND_HALF_AWAY = 3,  // nearest, a tie goes away from zero
  RND_CEIL = 4,       // towards +inf
  RND_TRUNC = 5,      // towards zero
  RND_AWAY = 6,       // away from zero
  RND_HALF_ZERO = 7   // nearest, a tie goes towards zero
};

// Whether R rounds n / d up from q = floor(n / d) to q + 1, given the remainder
// r = n - q d in [0, d): exact (r == 0), tie (2 r == d), above (2 r > d), the sign of n
// and the parity of q.
template <int R>
bool rounds_up(bool exact, bool tie, bool above, bool negative, bool odd) {
#pragma HLS INLINE
  switch (R) {
    case RND_HALF_UP: return above || tie;
    case RND_HALF_EVEN: return above || (tie && odd);
    case RND_HALF_AWAY: return above || (tie && !negative);
    case RND_CEIL: return !exact;
    case RND_TRUNC: return !exact && negative;
    case RND_AWAY: return !exact && !negative;
    case RND_HALF_ZERO: return above || (tie && negative);
    default: return false;  // RND_FLOOR
  }
}

template <int A, int B>
struct max_int {
  static const int value = A > B ? A : B;
};

// The range of an ap_int / ap_uint element type.
template <class T>
struct limits;

template <int W>
struct limits<ap_int<W> > {
  static const int width = W;
  static const bool is_signed = true;
  static ap_int<W> min() {
    ap_int<W> v = 0;
    v[W - 1] = 1;
    return v;
  }
  static ap_int<W> max() {
    ap_int<W> v = -1;
    v[W - 1] = 0;
    return v;
  }
};

template <int W>
struct limits<ap_uint<W> > {
  static const int width = W;
  static const bool is_signed = false;
  static ap_uint<W> min() { return ap_uint<W>(0); }
  static ap_uint<W> max() {
    ap_uint<W> v = 0;
    v = ~v;
    return v;
  }
};

// v clamped to the range of T (golden arith.saturate with T's min and max).
template <class T, int N, bool S>
T saturate(const ap_int_base<N, S>& v) {
#pragma HLS INLINE
  // Compare in one signed type wide enough for both, so that mixed signedness is exact.
  typedef ap_int<max_int<N, limits<T>::width>::value + 2> wide_t;
  wide_t x = v;
  wide_t lo = limits<T>::min();
  wide_t hi = limits<T>::max();
  if (x < lo) return limits<T>::min();
  if (x > hi) return limits<T>::max();
  return T(x);
}

// The low T::width bits of v, read as T (golden arith.wrap).
template <class T, int N, bool S>
T wrap(const ap_int_base<N, S>& v) {
#pragma HLS INLINE
  T r = v;
  return r;
}

// v / 2^S rounded with R (golden arith.round_shift); exact for any v, no overflow.
template <int R, int S, int N>
ap_int<N + 1> round_shift(const ap_int<N>& v) {
#pragma HLS INLINE
  if (S == 0) return v;
  const int SS = S > 0 ? S : 1;  // keeps the dead S == 0 branch well formed
  typedef ap_int<N + SS + 2> wide_t;
  wide_t x = v;
  wide_t half = wide_t(1) << (SS - 1);
  wide_t fl = x >> SS;
  wide_t rest = x - (fl << SS);  // in [0, 2^S)
  bool up = rounds_up<R>(rest == 0, rest == half, rest > half, x < 0, fl[0] == 1);
  return fl + (up ? 1 : 0);
}

// num / den rounded with R, den > 0 (golden arith.round_div): q = floor(num / den),
// r = num - q * den in [0, den); a tie is 2 r == den, tested as r == den - r.
template <int R, int N, int M>
ap_int<N + 1> round_div(const ap_int<N>& num, const ap_int<M>& den) {
#pragma HLS INLINE
  ap_int<N + 1> q = num / den;  // truncates towards zero
  ap_int<M + 1> r = num - q * den;
  if (r < 0) {  // floor for a negative quotient
    q = q - 1;
    r = r + den;
  }
  ap_int<M + 1> other = den - r;  // > 0
  bool up = rounds_up<R>(r == 0, r == other, r > other, num < 0, q[0] == 1);
  return q + (up ? 1 : 0);
}

}  // namespace ng

#endif  // NG_COMMON_H_
