// Parameter arrays for C-simulation (neurogate).
//
// g++ compiles a brace list of ap_int objects very slowly (one constructor call per
// element: a 512x512 weight matrix took over 13 minutes and 8 GB), so outside
// __SYNTHESIS__ the weight headers list their values as native integers and copy them
// into the ap_int array before main() runs. Vitis sees the ap_int array directly.
#ifndef NG_PARAMS_H_
#define NG_PARAMS_H_

namespace ng {

template <class T, class R>
bool load_array(T *dst, const R *src, unsigned n) {
    for (unsigned i = 0; i < n; i++) dst[i] = src[i];
    return true;
}

}  // namespace ng

#endif
