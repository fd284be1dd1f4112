// The engine's needs from C: a prefetch hint, which Swift has no way to spell, the size the
// allocator gave a block (for the memory budget), which glibc declares in <malloc.h> only, and
// atomic access to words of raw memory (a table several threads fill at once).
#ifndef DQ_CENGINE_H
#define DQ_CENGINE_H

#include <stddef.h>
#include <stdint.h>
#if defined(__linux__)
#include <malloc.h>
#elif defined(__APPLE__)
#include <malloc/malloc.h>
#endif

/// Asks the CPU to start loading the cache line at `address` without waiting for it (a hint:
/// it never faults, whatever the address). Inlined into the Swift caller.
static inline void dq_prefetch(const void *address) { __builtin_prefetch(address, 0, 3); }

/// Reads a word other threads may be changing with `dq_cas_u64` (relaxed: no ordering).
static inline uint64_t dq_load_u64(const void *address) { return __atomic_load_n((const uint64_t *)address, __ATOMIC_RELAXED); }

/// Replaces the word at `address` by `desired` if it still holds `*expected`; else loads what it
/// holds into `*expected`. Relaxed: the threads' join orders what they wrote.
static inline int dq_cas_u64(void *address, uint64_t *expected, uint64_t desired) {
  return __atomic_compare_exchange_n((uint64_t *)address, expected, desired, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED);
}

/// Reads a word other threads may be writing, and everything written before they released it
/// (`dq_store_release_u8` / `_u32`): a slot's value is written before its control byte.
static inline uint64_t dq_load_acquire_u64(const void *address) { return __atomic_load_n((const uint64_t *)address, __ATOMIC_ACQUIRE); }
static inline uint32_t dq_load_acquire_u32(const void *address) { return __atomic_load_n((const uint32_t *)address, __ATOMIC_ACQUIRE); }

/// Writes a byte or a 32-bit value so that what this thread wrote before is seen first by a
/// thread that reads it with an acquire load.
static inline void dq_store_release_u8(void *address, uint8_t value) { __atomic_store_n((uint8_t *)address, value, __ATOMIC_RELEASE); }
static inline void dq_store_release_u32(void *address, uint32_t value) { __atomic_store_n((uint32_t *)address, value, __ATOMIC_RELEASE); }

/// `dq_cas_u64` that acquires what the last holder of a lock bit in the word released.
static inline int dq_cas_acquire_u64(void *address, uint64_t *expected, uint64_t desired) {
  return __atomic_compare_exchange_n((uint64_t *)address, expected, desired, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED);
}

/// A hint to the CPU that this thread spins on a lock.
static inline void dq_spin_pause(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

/// The bytes usable in a block from malloc/realloc/calloc: what it really holds.
static inline size_t dq_block_size(void *block) {
#if defined(__linux__)
  return malloc_usable_size(block);
#elif defined(__APPLE__)
  return malloc_size(block);
#else
  return 0;
#endif
}

/// Has every block of `bytes` or more mapped on its own, always (glibc otherwise raises the
/// threshold to the largest block freed, up to 32 MiB, and keeps freed memory below it in the
/// heap): a large buffer freed or shrunk goes back to the system at once, and one that grows is
/// remapped, not copied. Elsewhere, nothing to do.
static inline void dq_map_large_blocks(size_t bytes) {
#if defined(__linux__) && defined(M_MMAP_THRESHOLD)
  mallopt(M_MMAP_THRESHOLD, (int)bytes);
#else
  (void)bytes;
#endif
}

#endif
