/*
 * thread_bench.c - the dispatcher's paths (make bench): a thread switch
 * through the DISPATCH interrupt (ZwYieldExecution to a thread of the same
 * priority) beside a bare stack switch with the same register saves
 * (arch_switch_context between two stacks) plus a bare self-IPI, since the
 * 0x2F path is both an interrupt and a switch; wake-to-run (KeSetEvent ->
 * the waiter running) here and on another CPU, beside the self-IPI and
 * IPI round trips to an empty handler.
 */
#include <arch/arch.h>
#include <irqlab/bench.h>
#include <irqlab/hal.h>
#include <irqlab/interrupt.h>
#include <irqlab/mm.h>
#include <irqlab/prcb.h>
#include <irqlab/thread.h>
#include <irqlab/vectors.h>

#define ROUNDS 1000
#define PROBE_VECTOR DEVICE_VECTOR(3, 12)

static BENCH_METRIC BenchA, BenchB, BenchC, BenchD;
static volatile LONG BenchStop_;
static KTHREAD BenchThread;
static KEVENT BenchWake, BenchReady;

/* A bench thread on Cpu at Priority, or NULL when no stack was left. */
static PVOID start(PKSTART_ROUTINE Routine, ULONG Cpu, KPRIORITY Priority)
{
    PVOID stack = MmCreateKernelStack(KERNEL_STACK_PAGES);

    if (stack == NULL)
        return NULL;
    BenchStop_ = 0;
    KeInitializeThread(&BenchThread, stack, KERNEL_STACK_PAGES, Routine, NULL, Priority);
    BenchThread.Affinity.Mask = 1ull << Cpu;
    KeStartThread(&BenchThread);
    return stack;
}

static VOID finish(PVOID Stack)
{
    BenchStop_ = 1;
    KeSetEvent(&BenchWake, IO_NO_INCREMENT, FALSE);
    KeWaitForSingleObject(&BenchThread, Executive, KernelMode, FALSE, NULL);
    while (__atomic_load_n(&BenchThread.Running, __ATOMIC_ACQUIRE))
        arch_pause();
    MmDeleteKernelStack(Stack, KERNEL_STACK_PAGES);
}

/* ---- a switch ------------------------------------------------------------------------- */

static VOID yields_back(PVOID Context)
{
    UNREFERENCED_PARAMETER(Context);
    while (!BenchStop_) {
        BenchArrived = BenchStop();
        ZwYieldExecution();
    }
}

static ULONG64 BareMainSp, BareOtherSp;
static volatile UCHAR BareRunning;

/* The bare side: stamps and switches straight back, forever (its stack is freed with it parked). */
static VOID bare_other(PVOID Unused1, PVOID Unused2)
{
    UNREFERENCED_PARAMETER(Unused1);
    UNREFERENCED_PARAMETER(Unused2);
    for (;;) {
        BenchArrived = BenchStop();
        arch_switch_context(&BareOtherSp, BareMainSp, &BareRunning);
    }
}

/* The self-IPI half of the bare baseline: an interrupt here to an empty handler. */
static ULONG64 self_ipi_cycles(VOID)
{
    BenchArrived = 0;
    ULONG64 t0 = BenchStart();
    HalSendSelfIpi(PROBE_VECTOR);
    while (BenchArrived == 0)
        arch_pause();
    return BenchNet(t0, BenchArrived);
}

/* The 0x2F switch is an interrupt plus a switch: its like-for-like baseline is the sum of the bare two. */
BENCH(thread, switch_vs_bare_stack_switch)
{
    static KINTERRUPT probe;
    PVOID stack = start(yields_back, 0, 8), bare = MmCreateKernelStack(KERNEL_STACK_PAGES);

    KeInitializeInterrupt(&probe, BenchStampIsr, NULL, NULL, PROBE_VECTOR, 3, 3, Latched, FALSE);
    if (stack == NULL || bare == NULL || !KeConnectInterrupt(&probe)) {
        BenchReportValue("thread switch", 0, "", "no stack or vector: not measured");
        return;
    }
    BareOtherSp = arch_thread_stack((ULONG64)bare, bare_other, NULL, NULL);
    BenchBegin(&BenchA, "switch: ZwYieldExecution -> 0x2F -> peer");
    BenchBegin(&BenchB, "bare arch_switch_context");
    BenchBegin(&BenchC, "self-IPI -> empty handler");
    BenchBegin(&BenchD, "self-IPI + bare switch, summed");
    for (ULONG i = 0; i < ROUNDS; i++) {
        ULONG64 t0 = BenchStart();
        ZwYieldExecution(); /* the peer stamps, yields back */
        BenchRecord(&BenchA, BenchNet(t0, BenchArrived));
        ULONG64 flags = arch_save_disable();
        t0 = BenchStart();
        arch_switch_context(&BareMainSp, BareOtherSp, &BareRunning);
        ULONG64 bare_cycles = BenchNet(t0, BenchArrived);
        arch_restore(flags);
        ULONG64 ipi_cycles = self_ipi_cycles();
        BenchRecord(&BenchB, bare_cycles);
        BenchRecord(&BenchC, ipi_cycles);
        BenchRecord(&BenchD, bare_cycles + ipi_cycles);
    }
    BenchStop_ = 1;
    KeWaitForSingleObject(&BenchThread, Executive, KernelMode, FALSE, NULL);
    while (__atomic_load_n(&BenchThread.Running, __ATOMIC_ACQUIRE))
        arch_pause();
    KeDisconnectInterrupt(&probe);
    MmDeleteKernelStack(stack, KERNEL_STACK_PAGES);
    MmDeleteKernelStack(bare, KERNEL_STACK_PAGES);
    BenchReport(&BenchA, &BenchD, 150);
    BenchReport(&BenchB, NULL, 0);
    BenchReport(&BenchC, NULL, 0);
}

/* ---- wake to run ---------------------------------------------------------------------- */

static VOID waits_and_stamps(PVOID Context)
{
    UNREFERENCED_PARAMETER(Context);
    for (;;) {
        KeSetEvent(&BenchReady, IO_NO_INCREMENT, FALSE);
        KeWaitForSingleObject(&BenchWake, Executive, KernelMode, FALSE, NULL);
        BenchArrived = BenchStop();
        if (BenchStop_)
            return;
    }
}

/* KeSetEvent -> the waiter (priority 9, above this thread) on Cpu running, beside an interrupt sent there and handled. */
static VOID wake_to_run(ULONG Cpu, PCSTR Name, PCSTR BareName)
{
    static KINTERRUPT probe;
    PVOID stack;

    KeInitializeEvent(&BenchWake, SynchronizationEvent, FALSE);
    KeInitializeEvent(&BenchReady, SynchronizationEvent, FALSE);
    KeInitializeInterrupt(&probe, BenchStampIsr, NULL, NULL, PROBE_VECTOR, 3, 3, Latched, FALSE);
    if (!KeConnectInterrupt(&probe) || (stack = start(waits_and_stamps, Cpu, 9)) == NULL) {
        BenchReportValue(Name, 0, "", "vector or stack taken: not measured");
        return;
    }
    BenchBegin(&BenchA, Name);
    BenchBegin(&BenchB, BareName);
    for (ULONG i = 0; i < ROUNDS; i++) {
        KeWaitForSingleObject(&BenchReady, Executive, KernelMode, FALSE, NULL);
        while (BenchThread.State != Waiting) /* really asleep on its event */
            arch_pause();
        BenchArrived = 0;
        ULONG64 t0 = BenchStart();
        KeSetEvent(&BenchWake, IO_NO_INCREMENT, FALSE);
        while (BenchArrived == 0)
            arch_pause();
        BenchRecord(&BenchA, BenchNet(t0, BenchArrived));
        BenchArrived = 0;
        t0 = BenchStart();
        if (Cpu == KeGetCurrentProcessorNumber())
            HalSendSelfIpi(PROBE_VECTOR);
        else
            HalSendIpi(KiProcessorBlock[Cpu]->InitialApicId, PROBE_VECTOR);
        while (BenchArrived == 0)
            arch_pause();
        BenchRecord(&BenchB, BenchNet(t0, BenchArrived));
    }
    KeWaitForSingleObject(&BenchReady, Executive, KernelMode, FALSE, NULL);
    finish(stack);
    KeDisconnectInterrupt(&probe);
    BenchReport(&BenchA, &BenchB, 0);
}

BENCH(thread, wake_to_run_same_cpu)
{
    wake_to_run(0, "KeSetEvent -> waiter running (CPU 0, prio 9 > mine)", "self-IPI -> empty handler");
}

BENCH(thread, wake_to_run_other_cpu)
{
    if (KeNumberProcessors < 2) {
        BenchReportValue("KeSetEvent -> waiter running (CPU 1)", 0, "", "one CPU: not measured");
        return;
    }
    wake_to_run(1, "KeSetEvent -> waiter running (CPU 1)", "IPI -> empty handler on CPU 1");
}
