/*
 * cmd_apc.c - !apc [thread]: the kernel APCs queued to every thread (or one),
 * in delivery order, with the state that decides when they run: the pending
 * flag and the critical and guarded region counts (WinDbg's !apc lists the
 * same queues by process and thread).  Ke copies the queues under its
 * dispatcher lock, and only for a thread it knows.
 */
#include <irqlab/apc.h>
#include <irqlab/kequery.h>
#include <irqlab/rtl.h>
#include "kd.h"

#define APC_USAGE "!apc [thread]"

static VOID print_routine(PCSTR Name, PVOID Routine)
{
    CHAR symbol[96];

    if (Routine == NULL)
        return;
    KiFormatSymbol((ULONG_PTR)Routine, symbol, sizeof(symbol));
    DbgPrint("          %-15s %016llx %s\n", Name, (ULONG64)Routine, symbol);
}

/* One thread's queue and how many APCs it holds; (ULONG)-1 when Ke does not know the thread.  All
 * FALSE: nothing for a thread with none. */
static ULONG print_thread(PKTHREAD Thread, BOOLEAN All)
{
    KI_APC_INFO apcs[32];
    KTHREAD t;
    ULONG n = KiQueryApcs(Thread, apcs, ARRAYSIZE(apcs));

    if (n == (ULONG)-1 || !KdReadMemory((ULONG64)Thread, &t, sizeof(t)))
        return (ULONG)-1;
    if (n == 0 && !All)
        return 0;
    DbgPrint("    Thread %016llx  ApcStateIndex %u  KernelApcPending %u  KernelApcDisable %d  SpecialApcDisable %d"
             "%s\n", (ULONG64)Thread, t.ApcStateIndex, t.ApcState.KernelApcPending, t.KernelApcDisable,
             t.SpecialApcDisable, n ? "" : "  (no APCs queued)");
    for (ULONG i = 0; i < n; i++) {
        DbgPrint("        KAPC @ %016llx  %s  Arguments %016llx %016llx\n", (ULONG64)apcs[i].Apc,
                 apcs[i].NormalRoutine ? "Normal " : "Special", (ULONG64)apcs[i].SystemArgument1,
                 (ULONG64)apcs[i].SystemArgument2);
        print_routine("KernelRoutine", apcs[i].KernelRoutine);
        print_routine("NormalRoutine", apcs[i].NormalRoutine);
    }
    return n;
}

KD_COMMAND(apc, "!apc", APC_USAGE, "the kernel APCs queued to each thread (or one), in delivery order")
{
    ULONG64 address;
    PKTHREAD threads[256];

    if (KdNextValue(&Args, &address, FALSE, "thread address")) {
        if (KdNoMoreArguments(Args, APC_USAGE) && print_thread((PKTHREAD)address, TRUE) == (ULONG)-1)
            DbgPrint("%016llx is not a thread of the System process (!running and !ready name them)\n", address);
        return;
    }
    if (!KdNoMoreArguments(Args, APC_USAGE))
        return;
    ULONG count = KiQueryThreads(threads, ARRAYSIZE(threads));
    DbgPrint("*** Enumerating APCs in all %u threads of process %016llx System\n", count,
             (ULONG64)PsInitialSystemProcess);
    ULONG queued = 0;
    for (ULONG i = 0; i < count; i++) {
        ULONG n = print_thread(threads[i], FALSE);
        queued += n == (ULONG)-1 ? 0 : n;
    }
    if (queued == 0)
        DbgPrint("    no thread has a kernel APC queued\n");
}
