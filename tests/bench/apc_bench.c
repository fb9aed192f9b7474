/*
 * apc_bench.c - the APC path (make bench): KeInsertQueueApc of a special
 * kernel APC to this thread at PASSIVE_LEVEL until its KernelRoutine runs
 * (the insert under the dispatcher lock, the 0x1F self-IPI taken as the
 * lock's release lowers CR8, KiDeliverApc), beside its bare primitive, a
 * self-IPI to an empty handler.  Issue 17's goal: at most 1.5x.
 */
#include <irqlab/apc.h>
#include <irqlab/bench.h>
#include <irqlab/hal.h>
#include <irqlab/interrupt.h>
#include <irqlab/vectors.h>

#define ROUNDS 1000
#define PROBE_VECTOR DEVICE_VECTOR(3, 13)

static BENCH_METRIC BenchA, BenchB;

static VOID stamp_apc(PKAPC Apc, PKNORMAL_ROUTINE *Normal, PVOID *Context, PVOID *Arg1, PVOID *Arg2)
{
    UNREFERENCED_PARAMETER(Apc);
    UNREFERENCED_PARAMETER(Normal);
    UNREFERENCED_PARAMETER(Context);
    UNREFERENCED_PARAMETER(Arg1);
    UNREFERENCED_PARAMETER(Arg2);
    BenchArrived = BenchStop();
}

BENCH(apc, insert_to_routine_same_thread)
{
    static KAPC apc;
    static KINTERRUPT empty;

    KeInitializeApc(&apc, KeGetCurrentThread(), OriginalApcEnvironment, stamp_apc, NULL, NULL, KernelMode, NULL);
    KeInitializeInterrupt(&empty, BenchStampIsr, NULL, NULL, PROBE_VECTOR, 3, 3, Latched, FALSE);
    if (!KeConnectInterrupt(&empty)) {
        BenchReportValue("APC insert -> KernelRoutine", 0, "", "vector taken: not measured");
        return;
    }
    BenchBegin(&BenchA, "APC insert -> KernelRoutine (PASSIVE, this thread)");
    BenchBegin(&BenchB, "self-IPI -> empty handler");
    for (ULONG i = 0; i < ROUNDS; i++) {
        BenchArrived = 0;
        ULONG64 t0 = BenchStart();
        KeInsertQueueApc(&apc, NULL, NULL, 0); /* the 0x1F fires before it returns */
        BenchRecord(&BenchA, BenchNet(t0, BenchArrived));
        BenchArrived = 0;
        t0 = BenchStart();
        HalSendSelfIpi(PROBE_VECTOR);
        while (BenchArrived == 0)
            __builtin_ia32_pause();
        BenchRecord(&BenchB, BenchNet(t0, BenchArrived));
    }
    KeDisconnectInterrupt(&empty);
    BenchReport(&BenchA, &BenchB, 150);
}
