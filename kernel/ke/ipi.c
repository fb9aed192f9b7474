/*
 * ipi.c - interprocessor interrupts at IPI_LEVEL (vector 0xE1).
 *
 * A sender sets request bits in each target's KPRCB and sends the IPI
 * vector to its APIC ID; the target's handler takes the bits and acts on
 * them (NT's KiIpiSend / KiIpiServiceRoutine).  KeIpiGenericCall runs one
 * function on every CPU at once at IPI_LEVEL, with a barrier so that all
 * are inside it together, as NT's does.
 */
#include <irqlab/hal.h>
#include <irqlab/interrupt.h>
#include <irqlab/vectors.h>
#include "ki.h"
#include "kitrace.h"

static KINTERRUPT KiIpiInterrupt;
static KSPIN_LOCK KiGenericCallLock;
static struct {
    PKIPI_BROADCAST_WORKER Function;
    ULONG_PTR Context;
    volatile KAFFINITY Arriving; /* CPUs not yet at the barrier */
    volatile KAFFINITY Running;  /* CPUs not yet done with Function */
} KiGenericCall;

/*
 * Waits until every CPU has reached the barrier.  The CPUs waiting here sit
 * at IPI_LEVEL and take no clock tick, so the tick's clock watchdog cannot
 * see a CPU that never comes (interrupts off): the wait itself reports it.
 * (Running the function may legitimately take long: that wait is not timed.)
 */
static VOID wait_for_arrivals(VOID)
{
    ULONG64 start = arch_rdtsc();
    KAFFINITY pending;

    while ((pending = __atomic_load_n(&KiGenericCall.Arriving, __ATOMIC_ACQUIRE)) != 0) {
        arch_pause();
        if (KiClockWatchdogExpired(start) &&
            (pending = __atomic_load_n(&KiGenericCall.Arriving, __ATOMIC_ACQUIRE)) != 0)
            KiClockWatchdogTimeout(pending);
    }
}

/* On every CPU, at IPI_LEVEL: wait for all to arrive, run, report done. */
static ULONG_PTR generic_call_here(void)
{
    KAFFINITY me = KeGetCurrentPrcb()->GroupSetMember;

    __atomic_and_fetch(&KiGenericCall.Arriving, ~me, __ATOMIC_ACQ_REL);
    wait_for_arrivals();
    ULONG_PTR result = KiGenericCall.Function(KiGenericCall.Context);
    __atomic_and_fetch(&KiGenericCall.Running, ~me, __ATOMIC_ACQ_REL);
    return result;
}

static BOOLEAN KiIpiService(PKINTERRUPT Interrupt, PVOID Context)
{
    PKPRCB prcb = KeGetCurrentPrcb();
    ULONG requests = __atomic_exchange_n(&prcb->Irqlab.IpiRequests, 0, __ATOMIC_ACQ_REL);

    UNREFERENCED_PARAMETER(Interrupt);
    UNREFERENCED_PARAMETER(Context);
    prcb->Irqlab.IpiCount++;
    KI_TRACE(KTRACE_CAT_IPI, KTRACE_IPI_RECEIVE, IPI_LEVEL, 0, requests, 0);
    if (requests & KI_IPI_GENERIC_CALL)
        generic_call_here();
    if (requests & KI_IPI_DPC) /* runs as soon as this CPU is below DISPATCH_LEVEL */
        HalRequestSoftwareInterrupt(DISPATCH_LEVEL);
    if (requests & KI_IPI_APC) /* for whichever thread runs here once this CPU is at PASSIVE_LEVEL */
        HalRequestSoftwareInterrupt(APC_LEVEL);
    return TRUE;
}

VOID KiInitializeIpi(VOID)
{
    KeInitializeSpinLock(&KiGenericCallLock);
    KiConnectSystemInterrupt(&KiIpiInterrupt, KiIpiService, IPI_VECTOR);
}

VOID KiIpiSend(KAFFINITY Targets, ULONG Request)
{
    KI_TRACE(KTRACE_CAT_IPI, KTRACE_IPI_SEND, KI_TRACE_READ_IRQL, 0, Request, Targets);
    for (ULONG n = 0; Targets && n < MAXIMUM_PROCESSORS; n++, Targets >>= 1) {
        PKPRCB target = KiProcessorBlock[n];
        if (!(Targets & 1) || target == NULL)
            continue;
        __atomic_or_fetch(&target->Irqlab.IpiRequests, Request, __ATOMIC_RELEASE);
        HalSendIpi(target->InitialApicId, IPI_VECTOR);
    }
}

ULONG_PTR KeIpiGenericCall(PKIPI_BROADCAST_WORKER BroadcastFunction, ULONG_PTR Context)
{
    KIRQL old = KeGetCurrentIrql();

    /* Microsoft's page: legal below IPI_LEVEL.  The lock is taken below IPI_LEVEL, so a competing
     * caller's IPI still gets in while this one spins. */
    ASSERT(old < IPI_LEVEL);
    KfRaiseIrql(old > SYNCH_LEVEL ? old : SYNCH_LEVEL);
    KeAcquireSpinLockAtDpcLevel(&KiGenericCallLock); /* spins at SYNCH: IPIs still come in */
    KAFFINITY cpus = KeQueryActiveProcessors();
    KiGenericCall.Function = BroadcastFunction;
    KiGenericCall.Context = Context;
    KiGenericCall.Arriving = cpus;
    KiGenericCall.Running = cpus;
    KfRaiseIrql(IPI_LEVEL);
    KiIpiSend(cpus & ~KeGetCurrentPrcb()->GroupSetMember, KI_IPI_GENERIC_CALL);
    ULONG_PTR result = generic_call_here();
    while (__atomic_load_n(&KiGenericCall.Running, __ATOMIC_ACQUIRE) != 0)
        arch_pause();
    KeReleaseSpinLockFromDpcLevel(&KiGenericCallLock);
    KeLowerIrql(old);
    return result;
}
