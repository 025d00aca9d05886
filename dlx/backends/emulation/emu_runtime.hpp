// emu_runtime.hpp -- runs a kernel over a CUDA grid on the host CPU.
//
// Included once per emulation library, by the launch stubs that dlx generates after the
// kernel source (see dlx/backends/emulation/build.py). A stub calls
//     dlx_emu::launch(kernel, cfg, args, cooperative)
// with cfg = {grid.x, grid.y, grid.z, block.x, block.y, block.z, schedule, seed} and args
// the cudaLaunchKernel-style array of pointers to each argument.
//
// Blocks run one after another. Inside a block, threads run in the order the schedule asks
// (0 forward, 1 reverse, 2 random -- reshuffled at every sweep):
//  * serial kernels (no __syncthreads or warp primitive in their source): each thread runs to
//    completion;
//  * cooperative kernels: each thread is a ucontext fiber with its own guarded stack. The
//    scheduler sweeps the runnable fibers in schedule order; a fiber runs until it reaches a
//    synchronisation point or returns:
//      - __syncthreads(): it waits until every live thread of the block is there; a thread
//        that exits while others wait is reported as barrier divergence;
//      - a warp primitive (__shfl*_sync, __ballot_sync, __syncwarp): the warp is the 32
//        consecutive linear thread indices; the lane waits until every lane named in its
//        mask has reached a warp primitive, then all of them exchange at once (lockstep at
//        the exchange point, independent in between). The caller must be in its mask, every
//        lane of the mask must exist and be alive and must call the same primitive with the
//        same mask, a shuffle may only read a lane of the mask: anything else is an error.
//    When no fiber can run and some still wait, the launch is reported as a deadlock.
// A block's fibers are created once and reused by every block of the launch and by later
// launches of the same block size (not after a failed one). The first entry
// into a fiber is a swapcontext; every later switch is _setjmp/_longjmp, which (unlike
// swapcontext) makes no system call for the signal mask. Sanitised builds switch with
// swapcontext throughout, and AddressSanitizer is told about every stack switch.
#ifndef DLX_EMU_RUNTIME_HPP
#define DLX_EMU_RUNTIME_HPP

#include <setjmp.h>
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
#include <memory>
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
inline void fill_visit_order(std::vector<unsigned>& order, unsigned n, long long schedule,
                             std::mt19937_64& rng) {
  order.resize(n);
  std::iota(order.begin(), order.end(), 0u);
  if (schedule == kReverse) std::reverse(order.begin(), order.end());
  if (schedule == kRandom) std::shuffle(order.begin(), order.end(), rng);
}
inline std::vector<unsigned> visit_order(unsigned n, long long schedule, std::mt19937_64& rng) {
  std::vector<unsigned> order;
  fill_visit_order(order, n, schedule, rng);
  return order;
}

inline uint3 unflatten(unsigned linear, const dim3& dims) {
  return uint3{linear % dims.x, (linear / dims.x) % dims.y, linear / (dims.x * dims.y)};
}

// Runs the threads of one block as fibers that switch at each synchronisation point.
class BlockRunner {
 public:
  explicit BlockRunner(unsigned n_threads) : fibers_(n_threads) {
    page_ = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
    region_size_ = kStackSize * n_threads;
    void* region = mmap(nullptr, region_size_, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (region == MAP_FAILED) throw std::runtime_error("cannot map fiber stacks");
    region_ = static_cast<char*>(region);
    for (unsigned t = 0; t < n_threads; ++t) {
      mprotect(stack_of(t), page_, PROT_NONE);  // guard page
      Fiber& f = fibers_[t];
      getcontext(&f.context);
      f.context.uc_stack.ss_sp = stack_of(t) + page_;
      f.context.uc_stack.ss_size = kStackSize - page_;
      f.context.uc_link = nullptr;
      makecontext(&f.context, &BlockRunner::fiber_main, 0);
    }
  }
  ~BlockRunner() { munmap(region_, region_size_); }
  BlockRunner(const BlockRunner&) = delete;
  unsigned size() const { return static_cast<unsigned>(fibers_.size()); }
  BlockRunner& operator=(const BlockRunner&) = delete;

  // Runs body() once per thread of the block; false (and last_error set) on an error.
  bool run(const std::function<void()>& body, long long schedule, std::mt19937_64& rng) {
    body_ = &body;
    error_.clear();
    const unsigned n = static_cast<unsigned>(fibers_.size());
    for (Fiber& f : fibers_) f.state = kRunnable;
    waiting_.assign((n + 31) / 32, 0u);
    exited_.assign((n + 31) / 32, 0u);
    unsigned finished = 0;
    for (unsigned sweep = 0; finished < n; ++sweep) {
      bool ran = false;
      fill_visit_order(order_, n, schedule, rng);
      for (unsigned t : order_) {
        if (fibers_[t].state != kRunnable) continue;
        ran = true;
        resume(t);
        if (!error_.empty()) return fail();
        if (fibers_[t].state == kFinished) {
          ++finished;
          exited_[t / 32] |= 1u << (t % 32);
          fail_if_named_by_waiting_lane(t);
        } else if (fibers_[t].state == kAtWarp) {
          waiting_[t / 32] |= 1u << (t % 32);
          complete_warp_group(t);
        }
        if (!error_.empty()) return fail();
      }
      if (ran || finished == n) continue;
      // nobody could run: a block barrier releases, or the block is stuck
      unsigned at_barrier = 0, at_warp = 0;
      for (const Fiber& f : fibers_) {
        at_barrier += f.state == kAtBarrier;
        at_warp += f.state == kAtWarp;
      }
      if (at_warp > 0) {
        error_ = "deadlock: " + std::to_string(at_warp) + " thread(s) wait at a warp primitive "
                 "for lanes that never reach one (" + std::to_string(at_barrier) +
                 " wait at __syncthreads(), sweep " + std::to_string(sweep) + ")";
        return fail();
      }
      if (finished > 0) {
        error_ = "barrier divergence: " + std::to_string(finished) +
                 " thread(s) of a block returned while " + std::to_string(at_barrier) +
                 " waited at __syncthreads() (sweep " + std::to_string(sweep) + ")";
        return fail();
      }
      for (Fiber& f : fibers_) f.state = kRunnable;
    }
    return true;
  }

  // Called from a fiber at __syncthreads(): hand control back to the scheduler.
  void wait_at_barrier() {
    fibers_[current_].state = kAtBarrier;
    yield();
  }

  // Called from a fiber at a warp primitive; returns the exchanged bits once the group met.
  unsigned long long warp_exchange(int op, unsigned mask, unsigned long long bits, int arg,
                                   int width) {
    Fiber& f = fibers_[current_];
    const unsigned lane = current_ % 32;
    if (!(mask >> lane & 1u)) {
      error_ = "thread " + std::to_string(current_) + " (lane " + std::to_string(lane) +
               ") called a warp primitive with mask " + hex(mask) + " that leaves it out";
    } else if (width < 1 || width > 32 || (width & (width - 1)) != 0) {
      error_ = "shuffle width must be a power of 2 in [1, 32], got " + std::to_string(width);
    }
    if (!error_.empty()) {
      f.state = kFailed;
      yield();
    }
    f.op = op, f.mask = mask, f.bits = bits, f.arg = arg, f.width = width;
    f.state = kAtWarp;
    yield();
    return f.result;
  }

 private:
#ifdef DLX_EMU_ASAN
  static constexpr std::size_t kStackSize = 512 * 1024;
#else
  static constexpr std::size_t kStackSize = 128 * 1024;
#endif
  enum State { kRunnable, kAtBarrier, kAtWarp, kFinished, kFailed };
  struct Fiber {
    ucontext_t context;
    jmp_buf jump;          // where the fiber yielded (after its first entry)
    bool started = false;  // entered once: later switches are _longjmp
    State state = kRunnable;
    void* fake_stack = nullptr;
    int op = 0, arg = 0, width = 32;  // the pending warp primitive
    unsigned mask = 0;
    unsigned long long bits = 0, result = 0;
  };
  static constexpr const char* kOpNames[] = {"__shfl_sync", "__shfl_xor_sync", "__shfl_down_sync",
                                             "__shfl_up_sync", "__ballot_sync", "__syncwarp"};

  static std::string hex(unsigned v) {
    static const char* digits = "0123456789abcdef";
    std::string out = "0x";
    for (int shift = 28; shift >= 0; shift -= 4) out += digits[(v >> shift) & 15u];
    return out;
  }

  bool fail() {
    last_error = error_;
    return false;
  }

  char* stack_of(unsigned t) const { return region_ + kStackSize * t; }

  void resume(unsigned t) {
    current_ = t;
    coords.thread_idx = unflatten(t, coords.block_dim);
    Fiber& f = fibers_[t];
    void* main_fake = nullptr;
    start_switch(&main_fake, stack_of(t) + page_, kStackSize - page_);
#ifdef DLX_EMU_ASAN
    swapcontext(&main_context_, &f.context);
#else
    if (_setjmp(main_jump_) == 0) {
      if (f.started) _longjmp(f.jump, 1);
      f.started = true;
      swapcontext(&main_context_, &f.context);
    }
#endif
    finish_switch(main_fake, nullptr, nullptr);
  }

  void yield() {
    Fiber& f = fibers_[current_];
    start_switch(&f.fake_stack, main_bottom_, main_size_);
#ifdef DLX_EMU_ASAN
    swapcontext(&f.context, &main_context_);
#else
    if (_setjmp(f.jump) == 0) _longjmp(main_jump_, 1);
#endif
    finish_switch(f.fake_stack, &main_bottom_, &main_size_);
  }

  // A lane that exits while a lane of its warp waits for it in a warp primitive.
  void fail_if_named_by_waiting_lane(unsigned t) {
    const unsigned base = t - t % 32;
    for (unsigned bits = waiting_[t / 32]; bits; bits &= bits - 1) {
      const unsigned u = base + static_cast<unsigned>(__builtin_ctz(bits));
      const Fiber& f = fibers_[u];
      if (f.mask >> (t % 32) & 1u) {
        error_ = "thread " + std::to_string(t) + " exited while thread " + std::to_string(u) +
                 " waits for it in " + kOpNames[f.op] + " (mask " + hex(f.mask) + ")";
        return;
      }
    }
  }

  // If every lane named by t's mask has arrived, check they agree and exchange.
  void complete_warp_group(unsigned t) {
    const Fiber& me = fibers_[t];
    const unsigned warp = t / 32, base = warp * 32;
    const unsigned n = static_cast<unsigned>(fibers_.size());
    const unsigned existing = n - base >= 32 ? ~0u : (1u << (n - base)) - 1u;
    const unsigned missing = me.mask & ~existing, gone = me.mask & exited_[warp];
    if (missing || gone) {
      const unsigned lane = static_cast<unsigned>(__builtin_ctz(missing ? missing : gone));
      error_ = "thread " + std::to_string(t) + " calls " + kOpNames[me.op] + " with mask " +
               hex(me.mask) + " naming lane " + std::to_string(lane) + ", which " +
               (missing ? "does not exist in this block" : "has exited");
      return;
    }
    if (me.mask & ~waiting_[warp]) return;  // not all there yet
    unsigned long long ballot = 0;
    for (unsigned bits = me.mask; bits; bits &= bits - 1) {
      const unsigned lane = static_cast<unsigned>(__builtin_ctz(bits));
      const Fiber& f = fibers_[base + lane];
      if (f.op != me.op || f.mask != me.mask || f.width != me.width) {
        error_ = "threads " + std::to_string(t) + " and " + std::to_string(base + lane) +
                 " of a warp meet at different warp primitives: " + kOpNames[me.op] + " mask " +
                 hex(me.mask) + " vs " + kOpNames[f.op] + " mask " + hex(f.mask);
        return;
      }
      ballot |= (f.bits != 0 ? 1ull : 0ull) << lane;
    }
    for (unsigned bits = me.mask; bits; bits &= bits - 1) {
      const int lane = __builtin_ctz(bits);
      Fiber& f = fibers_[base + static_cast<unsigned>(lane)];
      const int w = f.width, seg = lane - lane % w;
      int src = lane;
      switch (f.op) {
        case kShflIdx: src = seg + ((f.arg % w) + w) % w; break;
        case kShflXor: src = lane ^ f.arg; if (src < seg || src >= seg + w) src = lane; break;
        case kShflDown: src = lane + f.arg; if (src >= seg + w) src = lane; break;
        case kShflUp: src = lane - f.arg; if (src < seg) src = lane; break;
        default: break;
      }
      if (src < 0 || src >= 32 || !(f.mask >> src & 1u)) {
        error_ = "thread " + std::to_string(base + lane) + " reads lane " + std::to_string(src) +
                 " in " + kOpNames[f.op] + ", outside its mask " + hex(f.mask);
        return;
      }
      f.result = f.op == kBallot ? ballot : fibers_[base + src].bits;
    }
    for (unsigned bits = me.mask; bits; bits &= bits - 1)
      fibers_[base + static_cast<unsigned>(__builtin_ctz(bits))].state = kRunnable;
    waiting_[warp] &= ~me.mask;
  }

  static void fiber_main();

  std::vector<Fiber> fibers_;
  std::vector<unsigned> order_;             // this sweep's visiting order
  std::vector<unsigned> waiting_, exited_;  // per warp: lanes at a warp primitive / exited
  std::size_t page_ = 0, region_size_ = 0;
  char* region_ = nullptr;
  ucontext_t main_context_;
  jmp_buf main_jump_;
  const void* main_bottom_ = nullptr;
  std::size_t main_size_ = 0;
  unsigned current_ = 0;
  std::string error_;
  const std::function<void()>* body_ = nullptr;

 public:
  static inline BlockRunner* active = nullptr;
};

// A fiber runs the kernel once per block: after each run it reports itself finished and
// waits to be resumed for the next block of the launch.
inline void BlockRunner::fiber_main() {
  BlockRunner* self = active;
  finish_switch(nullptr, &self->main_bottom_, &self->main_size_);
  for (;;) {
    (*self->body_)();
    self->fibers_[self->current_].state = kFinished;
    self->yield();
  }
}

inline std::unique_ptr<BlockRunner> cached_runner;

inline void sync_threads() {
  if (BlockRunner::active == nullptr) {
    last_error = "__syncthreads() reached in a kernel launched serially (emulator bug)";
    return;
  }
  BlockRunner::active->wait_at_barrier();
}

inline unsigned long long warp_exchange(int op, unsigned mask, unsigned long long bits, int arg,
                                        int width) {
  if (BlockRunner::active == nullptr) {
    last_error = "a warp primitive was reached in a kernel launched serially (emulator bug)";
    return bits;
  }
  return BlockRunner::active->warp_exchange(op, mask, bits, arg, width);
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
      // fibers outlive the launch (their stacks and contexts are reused by the next one of
      // the same block size) unless the launch failed with fibers stopped mid-kernel
      if (!cached_runner || cached_runner->size() != per_block)
        cached_runner = std::make_unique<BlockRunner>(per_block);
      BlockRunner::active = cached_runner.get();
      for (unsigned b : visit_order(n_blocks, schedule, rng)) {
        coords.block_idx = unflatten(b, grid);
        if (!cached_runner->run(body, schedule, rng)) {
          cached_runner.reset();
          break;
        }
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
    cached_runner.reset();
    last_error = e.what();
  }
  return last_error.empty() ? 0 : 1;
}

}  // namespace dlx_emu

extern "C" const char* dlx_emu_last_error() { return dlx_emu::last_error.c_str(); }

#endif  // DLX_EMU_RUNTIME_HPP
