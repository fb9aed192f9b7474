/*
 * irql.c - interrupt request levels.
 *
 * On x64 NT the IRQL *is* CR8 (the local APIC's task priority, TPR[7:4]):
 * raising it masks every interrupt whose vector class (vector >> 4) is not
 * above it, in hardware.  There is no other copy of the current level, so
 * the debugger and the bugcheck report read CR8 too.
 */
#include <arch/arch.h>
#include <irqlab/ke.h>
#include "kitrace.h"

const char *KeIrqlName(KIRQL Irql)
{
    static const char *const names[16] = {
        "PASSIVE_LEVEL", "APC_LEVEL", "DISPATCH_LEVEL", "DIRQL 3", "DIRQL 4", "DIRQL 5 (CMCI_LEVEL)",
        "DIRQL 6", "DIRQL 7", "DIRQL 8", "DIRQL 9", "DIRQL 10", "DIRQL 11", "SYNCH_LEVEL",
        "CLOCK_LEVEL", "IPI_LEVEL", "HIGH_LEVEL",
    };
    return Irql < 16 ? names[Irql] : "invalid IRQL";
}

KIRQL KeGetCurrentIrql(VOID)
{
    return (KIRQL)arch_read_cr8();
}

KIRQL KfRaiseIrql(KIRQL NewIrql)
{
    KIRQL old = (KIRQL)arch_read_cr8();

    /* NT's checked HAL: raising to a lower level (or past HIGH_LEVEL) is fatal. */
    if (NewIrql < old || NewIrql > HIGH_LEVEL)
        KeBugCheckEx(IRQL_NOT_GREATER_OR_EQUAL, old, NewIrql, 0,
                     (ULONG_PTR)__builtin_return_address(0));
    arch_write_cr8(NewIrql);
    KI_TRACE(KTRACE_CAT_IRQL, KTRACE_IRQL_RAISE, NewIrql, old | NewIrql << 8, __builtin_return_address(0), 0);
    return old;
}

VOID KeRaiseIrql(KIRQL NewIrql, PKIRQL OldIrql)
{
    *OldIrql = KfRaiseIrql(NewIrql);
}

/* NT's free KeLowerIrql is a bare CR8 write (the exported KzLowerIrql; ReactOS's sdk/include/xdk/amd64/ke.h): the
 * check that it is not a raise is the checked build's, so DBG=0 reads CR8 only to trace. */
VOID KeLowerIrql(KIRQL NewIrql)
{
#if DBG
    KIRQL old = (KIRQL)arch_read_cr8();

    /* Lowering to a higher level would unmask nothing and hide a caller's bug. */
    if (NewIrql > old)
        KeBugCheckEx(IRQL_NOT_LESS_OR_EQUAL, NewIrql, old, 0, (ULONG_PTR)__builtin_return_address(0));
#endif
    /* Recorded first: writing CR8 lowers the APIC's priority, a pending 0x2F is delivered right here. */
    if (KI_TRACE_ON(KTRACE_CAT_IRQL)) {
        KIRQL from = (KIRQL)arch_read_cr8();
        KiTraceWrite(KTRACE_IRQL_LOWER, from, from | NewIrql << 8, (ULONG)(ULONG_PTR)__builtin_return_address(0), 0);
    }
    arch_write_cr8(NewIrql);
}

KIRQL KeRaiseIrqlToDpcLevel(VOID)
{
    return KfRaiseIrql(DISPATCH_LEVEL);
}

KIRQL KeRaiseIrqlToSynchLevel(VOID)
{
    return KfRaiseIrql(SYNCH_LEVEL);
}
