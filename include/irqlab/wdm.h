/*
 * wdm.h - what a driver includes, for code written against NT's documented
 * kernel API (a driver-style test, a lab exercise): every public irqlab
 * header, plus the small helpers of NT's own wdm.h that the kernel itself
 * does not need.  MSVC's multi-character tags ('tseT') are a GCC warning:
 * write a tag as a number (0x74736554) instead.
 */
#ifndef IRQLAB_WDM_H
#define IRQLAB_WDM_H

#include <irqlab/apc.h>
#include <irqlab/dpc.h>
#include <irqlab/fastmutex.h>
#include <irqlab/hal.h>
#include <irqlab/interrupt.h>
#include <irqlab/ke.h>
#include <irqlab/list.h>
#include <irqlab/pool.h>
#include <irqlab/prcb.h>
#include <irqlab/ps.h>
#include <irqlab/rtl.h>
#include <irqlab/spinlock.h>
#include <irqlab/timer.h>
#include <irqlab/wait.h>

#define STATUS_UNSUCCESSFUL           ((NTSTATUS)0xC0000001)
#define STATUS_INSUFFICIENT_RESOURCES ((NTSTATUS)0xC000009A)

#define RtlZeroMemory(Destination, Length)       memset((Destination), 0, (Length))
#define RtlFillMemory(Destination, Length, Fill) memset((Destination), (Fill), (Length))
#define RtlCopyMemory(Destination, Source, Length) memcpy((Destination), (Source), (Length))
#define RtlMoveMemory(Destination, Source, Length) memmove((Destination), (Source), (Length))
#define RtlEqualMemory(A, B, Length)             (memcmp((A), (B), (Length)) == 0)

/* NT's Interlocked*: full barriers; Increment/Decrement return the new value, the rest the old one. */
static inline LONG InterlockedIncrement(volatile LONG *Addend)
{
    return __atomic_add_fetch(Addend, 1, __ATOMIC_SEQ_CST);
}
static inline LONG InterlockedDecrement(volatile LONG *Addend)
{
    return __atomic_sub_fetch(Addend, 1, __ATOMIC_SEQ_CST);
}
static inline LONG InterlockedExchange(volatile LONG *Target, LONG Value)
{
    return __atomic_exchange_n(Target, Value, __ATOMIC_SEQ_CST);
}
static inline LONG InterlockedExchangeAdd(volatile LONG *Addend, LONG Value)
{
    return __atomic_fetch_add(Addend, Value, __ATOMIC_SEQ_CST);
}
static inline LONG InterlockedCompareExchange(volatile LONG *Destination, LONG Exchange, LONG Comparand)
{
    __atomic_compare_exchange_n(Destination, &Comparand, Exchange, FALSE, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
    return Comparand; /* the value found: equal to the old Comparand when the exchange happened */
}
static inline LONG InterlockedOr(volatile LONG *Destination, LONG Value)
{
    return __atomic_fetch_or(Destination, Value, __ATOMIC_SEQ_CST);
}
static inline LONG InterlockedAnd(volatile LONG *Destination, LONG Value)
{
    return __atomic_fetch_and(Destination, Value, __ATOMIC_SEQ_CST);
}
static inline LONG64 InterlockedIncrement64(volatile LONG64 *Addend)
{
    return __atomic_add_fetch(Addend, 1, __ATOMIC_SEQ_CST);
}
static inline LONG64 InterlockedDecrement64(volatile LONG64 *Addend)
{
    return __atomic_sub_fetch(Addend, 1, __ATOMIC_SEQ_CST);
}
static inline LONG64 InterlockedExchangeAdd64(volatile LONG64 *Addend, LONG64 Value)
{
    return __atomic_fetch_add(Addend, Value, __ATOMIC_SEQ_CST);
}
static inline LONG64 InterlockedCompareExchange64(volatile LONG64 *Destination, LONG64 Exchange, LONG64 Comparand)
{
    __atomic_compare_exchange_n(Destination, &Comparand, Exchange, FALSE, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
    return Comparand;
}
static inline PVOID InterlockedExchangePointer(PVOID volatile *Target, PVOID Value)
{
    return __atomic_exchange_n(Target, Value, __ATOMIC_SEQ_CST);
}
static inline PVOID InterlockedCompareExchangePointer(PVOID volatile *Destination, PVOID Exchange, PVOID Comparand)
{
    __atomic_compare_exchange_n(Destination, &Comparand, Exchange, FALSE, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
    return Comparand;
}
#define KeMemoryBarrier() __atomic_thread_fence(__ATOMIC_SEQ_CST)

/* NT's KeQueryTickCount: clock ticks since boot. */
#define KeQueryTickCount(CurrentCount) ((CurrentCount)->QuadPart = (LONGLONG)KeTickCount)

#endif
