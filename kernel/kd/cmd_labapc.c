/*
 * cmd_labapc.c - !labapc, lab 08's two experiments: `block`, an APC queued
 * to the console's own thread while it holds APC_LEVEL (it waits for the
 * lower, then runs at APC_LEVEL at once); `threaded`, a threaded DPC that
 * runs at PASSIVE_LEVEL in its processor's DPC thread and is interrupted
 * there by a normal DPC (a timer's) without any thread getting in.
 */
#include <irqlab/apc.h>
#include <irqlab/interrupt.h>
#include <irqlab/prcb.h>
#include <irqlab/rtl.h>
#include <irqlab/timer.h>
#include "kd.h"

#define LABAPC_USAGE "!labapc block|threaded"

static KAPC KdLabApc;
static KDPC KdLabThreaded, KdLabNormal;
static KTIMER KdLabTimer;
static volatile LONG KdLabRan, KdLabNormalRan, KdLabNormalInside;
static volatile KIRQL KdLabIrql, KdLabNormalIrql;
static PKTHREAD volatile KdLabThread;
static volatile ULONG KdLabCpu;

static VOID lab_apc(PKAPC Apc, PKNORMAL_ROUTINE *Normal, PVOID *Context, PVOID *Arg1, PVOID *Arg2)
{
    UNREFERENCED_PARAMETER(Apc);
    UNREFERENCED_PARAMETER(Normal);
    UNREFERENCED_PARAMETER(Context);
    UNREFERENCED_PARAMETER(Arg1);
    UNREFERENCED_PARAMETER(Arg2);
    KdLabIrql = KeGetCurrentIrql();
    KdLabRan = 1;
}

static VOID block(VOID)
{
    KIRQL old;

    KdLabRan = 0;
    KeInitializeApc(&KdLabApc, KeGetCurrentThread(), OriginalApcEnvironment, lab_apc, NULL, NULL, KernelMode, NULL);
    KeRaiseIrql(APC_LEVEL, &old);
    KeInsertQueueApc(&KdLabApc, NULL, NULL, 0);
    KeStallExecutionProcessor(10 * KeQueryTimeIncrement() / 10); /* 10 ticks, interrupts on */
    DbgPrint("a special APC queued to this thread at IRQL 1 (APC_LEVEL): after 10 ticks it has %s\n",
             KdLabRan ? "run (wrong: APC_LEVEL holds it)" : "not run (vector 0x1F waits in the APIC)");
    KeLowerIrql(old);
    DbgPrint("lowered to IRQL 0: it %s, at IRQL %u\n", KdLabRan ? "ran at once" : "did not run", KdLabIrql);
}

static VOID normal_dpc(PKDPC Dpc, PVOID Context, PVOID Arg1, PVOID Arg2)
{
    UNREFERENCED_PARAMETER(Dpc);
    UNREFERENCED_PARAMETER(Context);
    UNREFERENCED_PARAMETER(Arg1);
    UNREFERENCED_PARAMETER(Arg2);
    KdLabNormalIrql = KeGetCurrentIrql();
    KdLabNormalRan = 1;
}

/* At PASSIVE_LEVEL in the DPC thread: it waits (busy, interrupts on) for the normal DPC to come in. */
static VOID threaded_dpc(PKDPC Dpc, PVOID Context, PVOID Arg1, PVOID Arg2)
{
    UNREFERENCED_PARAMETER(Dpc);
    UNREFERENCED_PARAMETER(Context);
    UNREFERENCED_PARAMETER(Arg1);
    UNREFERENCED_PARAMETER(Arg2);
    KdLabIrql = KeGetCurrentIrql();
    KdLabThread = KeGetCurrentThread();
    KdLabCpu = KeGetCurrentProcessorNumber();
    for (ULONG i = 0; i < 100 && !KdLabNormalRan; i++)
        KeStallExecutionProcessor(KeQueryTimeIncrement() / 10);
    KdLabNormalInside = KdLabNormalRan;
    __atomic_store_n(&KdLabRan, 1, __ATOMIC_RELEASE);
}

static VOID threaded(VOID)
{
    LARGE_INTEGER due = { .QuadPart = -2 * (LONGLONG)KeQueryTimeIncrement() };
    CCHAR cpu = (CCHAR)(KeNumberProcessors - 1);

    if (!KiProcessorBlock[(ULONG)cpu]->ThreadDpcEnable) {
        DbgPrint("threaded DPCs are off (threadeddpcs=0): they would run as normal DPCs\n");
        return;
    }
    KdLabRan = KdLabNormalRan = KdLabNormalInside = 0;
    KeInitializeDpc(&KdLabNormal, normal_dpc, NULL);
    KeSetTargetProcessorDpc(&KdLabNormal, cpu);
    KeSetImportanceDpc(&KdLabNormal, HighImportance);
    KeInitializeThreadedDpc(&KdLabThreaded, threaded_dpc, NULL);
    KeSetTargetProcessorDpc(&KdLabThreaded, cpu);
    KeInitializeTimer(&KdLabTimer);
    KeSetTimer(&KdLabTimer, due, &KdLabNormal); /* first: on one CPU the threaded DPC preempts this thread */
    KeInsertQueueDpc(&KdLabThreaded, NULL, NULL);
    for (ULONG i = 0; i < 200 && !__atomic_load_n(&KdLabRan, __ATOMIC_ACQUIRE); i++)
        KeStallExecutionProcessor(KeQueryTimeIncrement() / 10); /* a tick: 100 ns units to us */
    if (!KdLabRan) {
        DbgPrint("the threaded DPC did not run within 200 ticks\n");
        return;
    }
    DbgPrint("threaded DPC ran on CPU %u at IRQL %u in thread %016llx (priority %d, that CPU's DPC thread)\n",
             KdLabCpu, KdLabIrql, (ULONG64)KdLabThread, KdLabThread->Priority);
    DbgPrint("a normal DPC %s, at IRQL %u\n",
             KdLabNormalInside ? "interrupted it while it ran" : "ran only after it", KdLabNormalIrql);
}

KD_COMMAND(labapc, "!labapc", LABAPC_USAGE, "lab: APC_LEVEL holding an APC back; a threaded DPC (lab 08)")
{
    CHAR word[16];

    if (!KdNextWord(&Args, word, sizeof(word)) || !KdNoMoreArguments(Args, LABAPC_USAGE)) {
        DbgPrint("usage: %s\n", LABAPC_USAGE);
        return;
    }
    if (strcmp(word, "block") == 0)
        block();
    else if (strcmp(word, "threaded") == 0)
        threaded();
    else
        DbgPrint("Unknown experiment '%s'; usage: %s\n", word, LABAPC_USAGE);
}
