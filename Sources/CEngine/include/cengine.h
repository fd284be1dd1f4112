// The engine's one need from C: a prefetch hint, which Swift has no way to spell.
#ifndef DQ_CENGINE_H
#define DQ_CENGINE_H

/// Asks the CPU to start loading the cache line at `address` without waiting for it (a hint:
/// it never faults, whatever the address). Inlined into the Swift caller.
static inline void dq_prefetch(const void *address) { __builtin_prefetch(address, 0, 3); }

#endif
