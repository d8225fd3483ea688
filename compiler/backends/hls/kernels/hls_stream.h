// hls_stream.h -- a minimal hls::stream<T> for C-simulation with g++.
//
// Written for neurogate from the documented interface of Vitis HLS streams; Vitis
// brings its own header, which takes precedence in a Vitis project.  In C-simulation a
// stream is an unbounded FIFO:
//
//   write(v), <<         append v
//   read(), read(v), >>  take the oldest element; reading an empty stream is a bug
//                        in the design (in hardware it blocks forever): we print the
//                        stream's name and abort
//   read_nb(v)           take the oldest element if any, return whether it did
//   write_nb(v)          always succeeds (unbounded), returns true
//   empty(), full(), size()
//
// A stream still holding elements when it is destroyed prints a warning on stderr, as
// Vitis C-simulation does ("leftover data"): a producer wrote more than was read.
#ifndef NG_HLS_STREAM_H_
#define NG_HLS_STREAM_H_

#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <string>

namespace hls {

template <typename T>
class stream {
 public:
  stream() : name_("hls::stream") {}
  explicit stream(const char* name) : name_(name) {}
  ~stream() {
    if (!fifo_.empty()) {
      std::fprintf(stderr, "WARNING: hls::stream '%s' contains leftover data (%zu elements)\n",
                   name_.c_str(), fifo_.size());
    }
  }

  // A stream is a hardware FIFO: it is passed by reference, never copied.
  stream(const stream&) = delete;
  stream& operator=(const stream&) = delete;

  bool empty() const { return fifo_.empty(); }
  bool full() const { return false; }
  std::size_t size() const { return fifo_.size(); }

  T read() {
    if (fifo_.empty()) {
      std::fprintf(stderr, "ERROR: read from the empty hls::stream '%s' (a deadlock in "
                   "hardware)\n", name_.c_str());
      std::abort();
    }
    T value = fifo_.front();
    fifo_.pop_front();
    return value;
  }
  void read(T& value) { value = read(); }
  bool read_nb(T& value) {
    if (fifo_.empty()) return false;
    value = read();
    return true;
  }

  void write(const T& value) { fifo_.push_back(value); }
  bool write_nb(const T& value) {
    write(value);
    return true;
  }

  stream& operator>>(T& value) {
    read(value);
    return *this;
  }
  stream& operator<<(const T& value) {
    write(value);
    return *this;
  }

 private:
  std::deque<T> fifo_;
  std::string name_;
};

}  // namespace hls

#endif  // NG_HLS_STREAM_H_
