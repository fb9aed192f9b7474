/*
 * ipi.c - interprocessor interrupts at IPI_LEVEL (vector 0xE1).
 *
 * A sender sets request bits in each target's KPRCB and sends the IPI
 * vector to its APIC ID; the target's handler takes the bits and acts on
 * them (NT's KiIpiSend / KiIpiServiceRoutine).  KeIpiGenericCall runs one
 * function on every CPU at once at IPI_LEVEL, with a barrier so that all
 * are inside it together, as NT's does.
 */
#include <arch/apic.h>
#include <irqlab/interrupt.h>
#include <irqlab/vectors.h>
#include "ki.h"

static KINTERRUPT KiIpiInterrupt;
static KSPIN_LOCK KiGenericCallLock;
static struct {
    PKIPI_BROADCAST_WORKER Function;
    ULONG_PTR Context;
    volatile LONG Arriving;  /* CPUs not yet at the barrier */
    volatile LONG Running;   /* CPUs not yet done with Function */
} KiGenericCall;

/* On every CPU, at IPI_LEVEL: wait for all to arrive, run, report done. */
static ULONG_PTR generic_call_here(void)
{
    __atomic_sub_fetch(&KiGenericCall.Arriving, 1, __ATOMIC_ACQ_REL);
    while (__atomic_load_n(&KiGenericCall.Arriving, __ATOMIC_ACQUIRE) != 0)
        arch_pause();
    ULONG_PTR result = KiGenericCall.Function(KiGenericCall.Context);
    __atomic_sub_fetch(&KiGenericCall.Running, 1, __ATOMIC_ACQ_REL);
    return result;
}

static BOOLEAN KiIpiService(PKINTERRUPT Interrupt, PVOID Context)
{
    PKPRCB prcb = KeGetCurrentPrcb();
    ULONG requests = __atomic_exchange_n(&prcb->Irqlab.IpiRequests, 0, __ATOMIC_ACQ_REL);

    UNREFERENCED_PARAMETER(Interrupt);
    UNREFERENCED_PARAMETER(Context);
    prcb->Irqlab.IpiCount++;
    if (requests & KI_IPI_GENERIC_CALL)
        generic_call_here();
    if (requests & KI_IPI_DPC) /* runs as soon as this CPU is below DISPATCH_LEVEL */
        apic_self_ipi(DISPATCH_VECTOR);
    return TRUE;
}

VOID KiInitializeIpi(VOID)
{
    KeInitializeSpinLock(&KiGenericCallLock);
    KiConnectSystemInterrupt(&KiIpiInterrupt, KiIpiService, IPI_VECTOR);
}

VOID KiIpiSend(KAFFINITY Targets, ULONG Request)
{
    for (ULONG n = 0; Targets && n < MAXIMUM_PROCESSORS; n++, Targets >>= 1) {
        PKPRCB target = KiProcessorBlock[n];
        if (!(Targets & 1) || target == NULL)
            continue;
        __atomic_or_fetch(&target->Irqlab.IpiRequests, Request, __ATOMIC_RELEASE);
        apic_send_ipi(target->InitialApicId, IPI_VECTOR, APIC_DEST_SINGLE);
    }
}

ULONG_PTR KeIpiGenericCall(PKIPI_BROADCAST_WORKER BroadcastFunction, ULONG_PTR Context)
{
    KIRQL old = KeGetCurrentIrql();

    /* Above SYNCH_LEVEL a caller could hold off the very IPI another generic call waits for. */
    ASSERT(old <= SYNCH_LEVEL);
    KfRaiseIrql(SYNCH_LEVEL);
    KeAcquireSpinLockAtDpcLevel(&KiGenericCallLock); /* spins at SYNCH: IPIs still come in */
    LONG cpus = KeNumberProcessors;
    KiGenericCall.Function = BroadcastFunction;
    KiGenericCall.Context = Context;
    KiGenericCall.Arriving = cpus;
    KiGenericCall.Running = cpus;
    KfRaiseIrql(IPI_LEVEL);
    KiIpiSend(KeQueryActiveProcessors() & ~KeGetCurrentPrcb()->GroupSetMember, KI_IPI_GENERIC_CALL);
    ULONG_PTR result = generic_call_here();
    while (__atomic_load_n(&KiGenericCall.Running, __ATOMIC_ACQUIRE) != 0)
        arch_pause();
    KeReleaseSpinLockFromDpcLevel(&KiGenericCallLock);
    KeLowerIrql(old);
    return result;
}
