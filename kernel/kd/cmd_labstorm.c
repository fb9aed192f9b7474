/*
 * cmd_labstorm.c - !labstorm: every processor queues DPCs at random
 * processors at once, and the console checks that each accepted insert ran
 * exactly once and that every queue ends empty.  make stress runs it under
 * a breakpoint whose command is g (bp KiRetireDpcList "g"), so the machine
 * is stopped and let go at every retire: the debugger must lose no DPC.
 */
#include <irqlab/dpc.h>
#include <irqlab/prcb.h>
#include <irqlab/rtl.h>
#include <irqlab/wait.h>
#include <irqlab/kequery.h>
#include "kd.h"

#define STORM_DPCS 32  /* each processor's pool; DPC j targets processor j % processors */
#define STORM_BATCH 16 /* inserts per run of a processor's driver DPC */
#define STORM_MAX 1000000
#define LABSTORM_USAGE "!labstorm <inserts per processor, 1 to 0n1000000>"

typedef struct _STORM_CPU {
    KDPC Driver; /* runs on its processor, inserts a batch, queues itself again */
    KDPC Dpcs[STORM_DPCS];
    ULONG Left;
    ULONG Seed;
} STORM_CPU;

static STORM_CPU KdStorm[MAXIMUM_PROCESSORS];
static volatile LONG64 KdStormAccepted, KdStormRan;
static volatile LONG KdStormDrivers; /* drivers still inserting */

static VOID KdStormDpcRoutine(PKDPC Dpc, PVOID Context, PVOID Arg1, PVOID Arg2)
{
    UNREFERENCED_PARAMETER(Dpc);
    UNREFERENCED_PARAMETER(Context);
    UNREFERENCED_PARAMETER(Arg1);
    UNREFERENCED_PARAMETER(Arg2);
    __atomic_add_fetch(&KdStormRan, 1, __ATOMIC_RELAXED);
}

static VOID KdStormDriverRoutine(PKDPC Dpc, PVOID Context, PVOID Arg1, PVOID Arg2)
{
    STORM_CPU *c = Context;

    UNREFERENCED_PARAMETER(Arg1);
    UNREFERENCED_PARAMETER(Arg2);
    ASSERT(KeGetCurrentIrql() == DISPATCH_LEVEL);
    for (ULONG i = 0; i < STORM_BATCH && c->Left > 0; i++, c->Left--) {
        c->Seed = c->Seed * 1103515245u + 12345u; /* any spread will do: an LCG */
        if (KeInsertQueueDpc(&c->Dpcs[(c->Seed >> 16) % STORM_DPCS], NULL, NULL))
            __atomic_add_fetch(&KdStormAccepted, 1, __ATOMIC_RELAXED);
    }
    if (c->Left > 0)
        KeInsertQueueDpc(Dpc, NULL, NULL);
    else
        __atomic_sub_fetch(&KdStormDrivers, 1, __ATOMIC_RELEASE);
}

static ULONG queued_dpcs(VOID)
{
    ULONG queued = 0;

    for (LONG n = 0; n < KeNumberProcessors; n++)
        queued += (ULONG)KiProcessorBlock[n]->DpcData[0].DpcQueueDepth;
    return queued;
}

static VOID start(ULONG PerCpu)
{
    KdStormAccepted = KdStormRan = 0;
    KdStormDrivers = KeNumberProcessors;
    for (LONG n = 0; n < KeNumberProcessors; n++) {
        STORM_CPU *c = &KdStorm[n];
        KeInitializeDpc(&c->Driver, KdStormDriverRoutine, c);
        KeSetTargetProcessorDpc(&c->Driver, (CCHAR)n);
        for (ULONG j = 0; j < STORM_DPCS; j++) {
            KeInitializeDpc(&c->Dpcs[j], KdStormDpcRoutine, NULL);
            KeSetTargetProcessorDpc(&c->Dpcs[j], (CCHAR)(j % (ULONG)KeNumberProcessors));
        }
        c->Left = PerCpu;
        c->Seed = (ULONG)n * 7919u + 1;
    }
    for (LONG n = 0; n < KeNumberProcessors; n++)
        KeInsertQueueDpc(&KdStorm[n].Driver, NULL, NULL);
}

KD_COMMAND(labstorm, "!labstorm", LABSTORM_USAGE, "lab: every processor queues DPCs at random processors; none may be lost")
{
    ULONG64 per_cpu;
    LARGE_INTEGER tick = { .QuadPart = -10 * 10000 }; /* 10 ms */
    ULONG waited = 0;

    if (!KdNextValue(&Args, &per_cpu, TRUE, "inserts") || !KdNoMoreArguments(Args, LABSTORM_USAGE))
        return;
    if (per_cpu < 1 || per_cpu > STORM_MAX) {
        DbgPrint("usage: %s\n", LABSTORM_USAGE);
        return;
    }
    if (KdStormDrivers > 0 || KdStormRan != KdStormAccepted || queued_dpcs() > 0) { /* its KDPCs may be queued */
        DbgPrint("!labstorm: the last storm has not ended (DPCs still queued or running): none can start\n");
        return;
    }
    start((ULONG)per_cpu);
    while ((KdStormDrivers > 0 || KdStormRan != KdStormAccepted || queued_dpcs() > 0) && waited++ < 12000) /* two minutes */
        KeDelayExecutionThread(KernelMode, FALSE, &tick);
    DbgPrint("# labstorm: %lld inserts accepted of %llu on %d processors, %lld ran, %u still queued%s\n",
             KdStormAccepted, per_cpu * (ULONG64)KeNumberProcessors, KeNumberProcessors, KdStormRan, queued_dpcs(),
             KdStormRan == KdStormAccepted && queued_dpcs() == 0 ? "" : ": LOST OR STUCK");
}
