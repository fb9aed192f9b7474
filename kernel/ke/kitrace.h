/*
 * kitrace.h - how Ke's own files record trace events (kernel/ke/trace.c).
 * Private to kernel/ke; everyone else uses <irqlab/trace.h>.
 *
 * KI_TRACE costs one load and one branch while its category is off, so
 * the hooks can sit on the hottest paths (KfRaiseIrql, the dispatcher).
 */
#ifndef KERNEL_KE_KITRACE_H
#define KERNEL_KE_KITRACE_H

#include <irqlab/trace.h>

extern volatile ULONG KiTraceMask; /* KTRACE_CAT_* being recorded; 0: stopped */

/* IRQL: any, NMIs included.  Appends one record to this CPU's buffer, or counts it dropped.
 * Irql is what CR8 holds at the hook, when the hook knows it (it just wrote it, or asserted it);
 * KI_TRACE_READ_IRQL reads CR8, which TCG emulates in a helper costing a third of a record. */
VOID KiTraceWrite(UCHAR Type, UCHAR Irql, USHORT Data16, ULONG Data32, ULONG64 Data64);
#define KI_TRACE_READ_IRQL 0xff

#define KI_TRACE_ON(category) __builtin_expect((KiTraceMask & (category)) != 0, 0)
#define KI_TRACE(category, type, irql, d16, d32, d64)                                                     \
    do {                                                                                                  \
        if (KI_TRACE_ON(category))                                                                        \
            KiTraceWrite((type), (irql), (USHORT)(d16), (ULONG)(ULONG_PTR)(d32), (ULONG64)(ULONG_PTR)(d64)); \
    } while (0)

#endif
