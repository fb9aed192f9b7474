/*
 * kx.h - Ke's hot paths in line, as NT's own (the driver headers have the
 * raise and the lower forceinline, as ReactOS's sdk/include/xdk/amd64/ke.h
 * shows, and NT's KeInsertQueueDpc raises with a mov cr8 of its own, lab
 * 09): under TCG every call,
 * return and CR8 read is a helper call or a lookup, so KeInsertQueueDpc and
 * the dispatcher lock pay only the raise, the lock and the lower that NT's
 * design requires.  The checks and the trace are those of the routines they
 * stand for (irql.c, spinlock.c); the slow cases call them.
 */
#ifndef KERNEL_KE_KX_H
#define KERNEL_KE_KX_H

#include "ki.h"
#include "kitrace.h"

/* A raise from the level the caller just read; the record names this instruction, not the
 * caller's caller. */
static inline VOID KxRaiseIrqlFrom(KIRQL OldIrql, KIRQL NewIrql)
{
    ASSERT(NewIrql >= OldIrql && KeGetCurrentIrql() == OldIrql);
    arch_write_cr8(NewIrql);
    KI_TRACE(KTRACE_CAT_IRQL, KTRACE_IRQL_RAISE, NewIrql, OldIrql | NewIrql << 8, arch_current_pc(), 0);
}

/* KfRaiseIrql in line. */
static inline KIRQL KxRaiseIrql(KIRQL NewIrql)
{
    KIRQL old = (KIRQL)arch_read_cr8();

    if (__builtin_expect(NewIrql < old, 0))
        KfRaiseIrql(NewIrql); /* bugchecks 0x9 as the routine does */
    arch_write_cr8(NewIrql);
    KI_TRACE(KTRACE_CAT_IRQL, KTRACE_IRQL_RAISE, NewIrql, old | NewIrql << 8, arch_current_pc(), 0);
    return old;
}

/* KeLowerIrql in line, where the caller raised from NewIrql itself (so it is not a raise). */
static inline VOID KxLowerIrql(KIRQL CurrentIrql, KIRQL NewIrql)
{
    ASSERT(NewIrql <= CurrentIrql && KeGetCurrentIrql() == CurrentIrql);
    KI_TRACE(KTRACE_CAT_IRQL, KTRACE_IRQL_LOWER, CurrentIrql, CurrentIrql | NewIrql << 8, arch_current_pc(), 0);
    arch_write_cr8(NewIrql);
}

/* The spin lock's owner word (spinlock.c): the KPRCB (64-byte aligned) | the IRQL it was taken at << 1 | 1. */
#define KI_SPIN_LOCK_OWNER(Irql)  ((KSPIN_LOCK)KeGetCurrentPrcb() | (KSPIN_LOCK)(Irql) << 1 | 1)
#define KI_SPIN_LOCK_OWNER_MASK   (~0x3full)

/* The uncontended take in line; spinning, recursion (0xF) and the contention record out of line. */
static inline VOID KxAcquireSpinLock(PKSPIN_LOCK SpinLock, KIRQL CurrentIrql)
{
    KSPIN_LOCK free = 0;

    ASSERT(CurrentIrql >= DISPATCH_LEVEL && KeGetCurrentIrql() == CurrentIrql);
    if (!__atomic_compare_exchange_n(SpinLock, &free, KI_SPIN_LOCK_OWNER(CurrentIrql), FALSE, __ATOMIC_ACQUIRE,
                                     __ATOMIC_RELAXED))
        KiAcquireSpinLockAtIrql(SpinLock, CurrentIrql);
}

/* The release in line when this CPU holds it; otherwise the routine's 0x10 SPIN_LOCK_NOT_OWNED. */
static inline VOID KxReleaseSpinLock(PKSPIN_LOCK SpinLock)
{
    KSPIN_LOCK held = *SpinLock;

    if (__builtin_expect((held & KI_SPIN_LOCK_OWNER_MASK) != (KSPIN_LOCK)KeGetCurrentPrcb() || !(held & 1), 0))
        KeReleaseSpinLockFromDpcLevel(SpinLock); /* bugchecks */
    __atomic_store_n(SpinLock, 0, __ATOMIC_RELEASE);
}

#endif
