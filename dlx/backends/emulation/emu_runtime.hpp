// emu_runtime.hpp -- runs a kernel over a CUDA grid on the host CPU.
//
// Included once per emulation library, by the launch stubs that dlx generates after the
// kernel source (see dlx/backends/emulation/build.py). A stub calls
//     dlx_emu::launch(kernel, cfg, args, cooperative)
// with cfg = {grid.x, grid.y, grid.z, block.x, block.y, block.z, schedule, seed} and args
// the cudaLaunchKernel-style array of pointers to each argument.
//
// Blocks run one after another. Inside a block, threads run in the order the schedule asks
// (0 forward, 1 reverse, 2 random -- reshuffled at every barrier phase):
//  * serial kernels (no __syncthreads in their source): each thread runs to completion;
//  * cooperative kernels: each thread is a ucontext fiber with its own guarded stack; a
//    fiber runs until it reaches __syncthreads() or returns, then the next one runs. When every
//    live thread waits at the barrier, the next phase starts. A thread that exits while
//    others wait at a barrier is reported as barrier divergence.
// AddressSanitizer is told about every stack switch, so sanitised builds work too.
#ifndef DLX_EMU_RUNTIME_HPP
#define DLX_EMU_RUNTIME_HPP

#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <exception>
#include <functional>
#include <numeric>
#include <random>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/common_interface_defs.h>
#define DLX_EMU_ASAN 1
#endif

namespace dlx_emu {

inline std::string last_error;

enum Schedule : long long { kForward = 0, kReverse = 1, kRandom = 2 };

inline void start_switch(void** fake_stack, const void* bottom, std::size_t size) {
#ifdef DLX_EMU_ASAN
  __sanitizer_start_switch_fiber(fake_stack, bottom, size);
#else
  (void)fake_stack, (void)bottom, (void)size;
#endif
}
inline void finish_switch(void* fake_stack, const void** bottom_old, std::size_t* size_old) {
#ifdef DLX_EMU_ASAN
  __sanitizer_finish_switch_fiber(fake_stack, bottom_old, size_old);
#else
  (void)fake_stack, (void)bottom_old, (void)size_old;
#endif
}

// The visiting order of n items (threads of a block, or blocks of a grid).
inline std::vector<unsigned> visit_order(unsigned n, long long schedule, std::mt19937_64& rng) {
  std::vector<unsigned> order(n);
  std::iota(order.begin(), order.end(), 0u);
  if (schedule == kReverse) std::reverse(order.begin(), order.end());
  if (schedule == kRandom) std::shuffle(order.begin(), order.end(), rng);
  return order;
}

inline uint3 unflatten(unsigned linear, const dim3& dims) {
  return uint3{linear % dims.x, (linear / dims.x) % dims.y, linear / (dims.x * dims.y)};
}

// Runs the threads of one block as fibers that switch at each __syncthreads().
class BlockRunner {
 public:
  explicit BlockRunner(unsigned n_threads) : fibers_(n_threads) {
    page_ = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
    region_size_ = kStackSize * n_threads;
    void* region = mmap(nullptr, region_size_, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (region == MAP_FAILED) throw std::runtime_error("cannot map fiber stacks");
    region_ = static_cast<char*>(region);
    for (unsigned t = 0; t < n_threads; ++t) mprotect(stack_of(t), page_, PROT_NONE);  // guard
  }
  ~BlockRunner() { munmap(region_, region_size_); }
  BlockRunner(const BlockRunner&) = delete;
  BlockRunner& operator=(const BlockRunner&) = delete;

  // Runs body() once per thread of the block; false (and last_error set) on divergence.
  bool run(const std::function<void()>& body, long long schedule, std::mt19937_64& rng) {
    body_ = &body;
    const unsigned n = static_cast<unsigned>(fibers_.size());
    for (unsigned t = 0; t < n; ++t) prepare(t);
    unsigned live = n;
    for (unsigned phase = 0; live > 0; ++phase) {
      unsigned waiting = 0, exited = 0;
      for (unsigned t : visit_order(n, schedule, rng)) {
        if (fibers_[t].finished) continue;
        resume(t);
        if (fibers_[t].finished) {
          ++exited;
          --live;
        } else {
          ++waiting;
          fibers_[t].waiting = false;
        }
      }
      if (waiting > 0 && exited > 0) {
        last_error = "barrier divergence: " + std::to_string(exited) +
                     " thread(s) of a block returned while " + std::to_string(waiting) +
                     " waited at __syncthreads() (barrier phase " + std::to_string(phase) + ")";
        return false;
      }
    }
    return true;
  }

  // Called from a fiber at __syncthreads(): hand control back to the scheduler.
  void wait_at_barrier() {
    Fiber& f = fibers_[current_];
    f.waiting = true;
    start_switch(&f.fake_stack, main_bottom_, main_size_);
    swapcontext(&f.context, &main_context_);
    finish_switch(f.fake_stack, &main_bottom_, &main_size_);
  }

 private:
#ifdef DLX_EMU_ASAN
  static constexpr std::size_t kStackSize = 512 * 1024;
#else
  static constexpr std::size_t kStackSize = 128 * 1024;
#endif
  struct Fiber {
    ucontext_t context;
    bool finished = false, waiting = false;
    void* fake_stack = nullptr;
  };

  char* stack_of(unsigned t) const { return region_ + kStackSize * t; }

  void prepare(unsigned t) {
    Fiber& f = fibers_[t];
    f.finished = f.waiting = false;
    f.fake_stack = nullptr;
    getcontext(&f.context);
    f.context.uc_stack.ss_sp = stack_of(t) + page_;
    f.context.uc_stack.ss_size = kStackSize - page_;
    f.context.uc_link = nullptr;
    makecontext(&f.context, &BlockRunner::fiber_main, 0);
  }

  void resume(unsigned t) {
    current_ = t;
    coords.thread_idx = unflatten(t, coords.block_dim);
    void* main_fake = nullptr;
    start_switch(&main_fake, stack_of(t) + page_, kStackSize - page_);
    swapcontext(&main_context_, &fibers_[t].context);
    finish_switch(main_fake, nullptr, nullptr);
  }

  static void fiber_main();

  std::vector<Fiber> fibers_;
  std::size_t page_ = 0, region_size_ = 0;
  char* region_ = nullptr;
  ucontext_t main_context_;
  const void* main_bottom_ = nullptr;
  std::size_t main_size_ = 0;
  unsigned current_ = 0;
  const std::function<void()>* body_ = nullptr;

 public:
  static inline BlockRunner* active = nullptr;
};

inline void BlockRunner::fiber_main() {
  BlockRunner* self = active;
  finish_switch(nullptr, &self->main_bottom_, &self->main_size_);
  (*self->body_)();
  self->fibers_[self->current_].finished = true;
  start_switch(nullptr, self->main_bottom_, self->main_size_);  // this fiber is done
  setcontext(&self->main_context_);
}

inline void sync_threads() {
  if (BlockRunner::active == nullptr) {
    last_error = "__syncthreads() reached in a kernel launched serially (emulator bug)";
    return;
  }
  BlockRunner::active->wait_at_barrier();
}

template <typename... Args, std::size_t... I>
void call_kernel(void (*kernel)(Args...), void** args, std::index_sequence<I...>) {
  kernel(*static_cast<std::remove_reference_t<Args>*>(args[I])...);
}

// Runs kernel over the grid in cfg; 0 on success, else 1 with last_error set.
template <typename... Args>
int launch(void (*kernel)(Args...), const long long* cfg, void** args, bool cooperative) {
  last_error.clear();
  try {
    for (int d = 0; d < 6; ++d)
      if (cfg[d] < 1 || cfg[d] > 2147483647LL) throw std::invalid_argument("grid and block sizes must be >= 1");
    const dim3 grid(cfg[0], cfg[1], cfg[2]), block(cfg[3], cfg[4], cfg[5]);
    const long long n_threads = cfg[3] * cfg[4] * cfg[5];
    if (n_threads > 1024 || cfg[4] > 1024 || cfg[5] > 64)
      throw std::invalid_argument("a block has at most 1024 threads (z at most 64)");
    if (cfg[1] > 65535 || cfg[2] > 65535)
      throw std::invalid_argument("grid.y and grid.z are at most 65535");
    if (cfg[0] * cfg[1] * cfg[2] > 4294967295LL)
      throw std::invalid_argument("the emulator runs at most 2^32 - 1 blocks");
    const long long schedule = cfg[6];
    std::mt19937_64 rng(static_cast<unsigned long long>(cfg[7]));
    coords.grid_dim = grid;
    coords.block_dim = block;
    const std::function<void()> body = [&] {
      call_kernel(kernel, args, std::index_sequence_for<Args...>{});
    };
    const unsigned n_blocks = static_cast<unsigned>(cfg[0] * cfg[1] * cfg[2]);
    const unsigned per_block = static_cast<unsigned>(n_threads);
    if (cooperative) {
      BlockRunner runner(per_block);
      BlockRunner::active = &runner;
      for (unsigned b : visit_order(n_blocks, schedule, rng)) {
        coords.block_idx = unflatten(b, grid);
        if (!runner.run(body, schedule, rng)) break;
      }
      BlockRunner::active = nullptr;
    } else {
      for (unsigned b : visit_order(n_blocks, schedule, rng)) {
        coords.block_idx = unflatten(b, grid);
        for (unsigned t : visit_order(per_block, schedule, rng)) {
          coords.thread_idx = unflatten(t, block);
          body();
        }
      }
    }
  } catch (const std::exception& e) {
    BlockRunner::active = nullptr;
    last_error = e.what();
  }
  return last_error.empty() ? 0 : 1;
}

}  // namespace dlx_emu

extern "C" const char* dlx_emu_last_error() { return dlx_emu::last_error.c_str(); }

#endif  // DLX_EMU_RUNTIME_HPP
