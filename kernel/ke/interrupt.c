/*
 * interrupt.c - interrupt objects and the common interrupt dispatcher.
 *
 * Models NT's KiInterruptDispatch: raise CR8 to the object's level, enable
 * interrupts so that anything of a higher class preempts the ISR, call the
 * routine(s) chained on the vector under the object's lock, then EOI and
 * return to the interrupted level with interrupts off (iretq restores IF).
 */
#include <irqlab/hal.h>
#include <arch/arch.h>
#include <irqlab/interrupt.h>
#include <irqlab/vectors.h>
#include "ki.h"
#include "kitrace.h"
#include <arch/rawlock.h>

static LIST_ENTRY KiVectorChains[256];
static ULONG64 KiUnexpected[256];
static ARCH_RAW_LOCK KiConnectLock;

void KiInitializeInterrupts(void)
{
    for (ULONG v = 0; v < 256; v++)
        InitializeListHead(&KiVectorChains[v]);
}

VOID KeInitializeInterrupt(PKINTERRUPT Interrupt, PKSERVICE_ROUTINE ServiceRoutine, PVOID ServiceContext,
                           PKSPIN_LOCK SpinLock, ULONG Vector, KIRQL Irql, KIRQL SynchronizeIrql,
                           KINTERRUPT_MODE InterruptMode, BOOLEAN ShareVector)
{
    ASSERT(KeGetCurrentIrql() <= DISPATCH_LEVEL);
    Interrupt->Type = InterruptObject;
    Interrupt->Size = sizeof(*Interrupt);
    InitializeListHead(&Interrupt->InterruptListEntry);
    Interrupt->ServiceRoutine = ServiceRoutine;
    Interrupt->ServiceContext = ServiceContext;
    KeInitializeSpinLock(&Interrupt->SpinLock);
    Interrupt->ActualLock = SpinLock ? SpinLock : &Interrupt->SpinLock;
    Interrupt->Vector = Vector;
    Interrupt->Irql = Irql;
    Interrupt->SynchronizeIrql = SynchronizeIrql;
    Interrupt->Mode = InterruptMode;
    Interrupt->ShareVector = ShareVector;
    Interrupt->Connected = FALSE;
    Interrupt->ServiceCount = 0;
}

BOOLEAN KeConnectInterrupt(PKINTERRUPT Interrupt)
{
    ULONG v = Interrupt->Vector;
    BOOLEAN ok = FALSE;

    ASSERT(KeGetCurrentIrql() <= DISPATCH_LEVEL);
    /* The APIC masks by vector class, so the class must be the level. */
    if (v < 32 || v > 255 || VECTOR_IRQL(v) != Interrupt->Irql || Interrupt->SynchronizeIrql < Interrupt->Irql)
        return FALSE;
    ULONG64 flags = arch_raw_lock_acquire(&KiConnectLock);
    PLIST_ENTRY chain = &KiVectorChains[v];
    if (!Interrupt->Connected && (IsListEmpty(chain) ||
        (Interrupt->ShareVector && CONTAINING_RECORD(chain->Flink, KINTERRUPT, InterruptListEntry)->ShareVector))) {
        InsertTailList(chain, &Interrupt->InterruptListEntry);
        Interrupt->Connected = ok = TRUE;
    }
    arch_raw_lock_release(&KiConnectLock, flags);
    return ok;
}

BOOLEAN KeDisconnectInterrupt(PKINTERRUPT Interrupt)
{
    ASSERT(KeGetCurrentIrql() <= DISPATCH_LEVEL);
    ULONG64 flags = arch_raw_lock_acquire(&KiConnectLock);
    BOOLEAN was = Interrupt->Connected;
    if (was)
        RemoveEntryList(&Interrupt->InterruptListEntry);
    Interrupt->Connected = FALSE;
    arch_raw_lock_release(&KiConnectLock, flags);
    return was;
}

KIRQL KeAcquireInterruptSpinLock(PKINTERRUPT Interrupt)
{
    ASSERT(Interrupt->ActualLock != NULL); /* a per-CPU system vector has no lock to share */
    KIRQL old = KfRaiseIrql(Interrupt->SynchronizeIrql); /* 0x9 when called above it */
    KeAcquireSpinLockAtDpcLevel(Interrupt->ActualLock);
    return old;
}

VOID KeReleaseInterruptSpinLock(PKINTERRUPT Interrupt, KIRQL OldIrql)
{
    KeReleaseSpinLockFromDpcLevel(Interrupt->ActualLock);
    KeLowerIrql(OldIrql);
}

BOOLEAN KeSynchronizeExecution(PKINTERRUPT Interrupt, PKSYNCHRONIZE_ROUTINE SynchronizeRoutine,
                               PVOID SynchronizeContext)
{
    KIRQL old = KeAcquireInterruptSpinLock(Interrupt);
    BOOLEAN result = SynchronizeRoutine(SynchronizeContext);

    KeReleaseInterruptSpinLock(Interrupt, old);
    return result;
}

ULONG KiQueryVectorInterrupts(ULONG Vector, PKINTERRUPT *Interrupts, ULONG Max)
{
    ULONG n = 0;

    if (Vector >= 256)
        return 0;
    ULONG64 flags = arch_raw_lock_acquire(&KiConnectLock);
    for (PLIST_ENTRY e = KiVectorChains[Vector].Flink; e != &KiVectorChains[Vector] && n < Max; e = e->Flink)
        Interrupts[n++] = CONTAINING_RECORD(e, KINTERRUPT, InterruptListEntry);
    arch_raw_lock_release(&KiConnectLock, flags);
    return n;
}

ULONG64 KeQueryUnexpectedInterruptCount(ULONG Vector)
{
    return Vector < 256 ? KiUnexpected[Vector] : 0;
}

static void unexpected(PKTRAP_FRAME f, ULONG v)
{
    if (__atomic_fetch_add(&KiUnexpected[v], 1, __ATOMIC_RELAXED) == 0)
        DbgPrint("irqlab: unexpected interrupt at vector 0x%02x (rip %016llx); counting further ones\n", v,
                 f->Rip);
    HalPerformEndOfInterrupt();
}

VOID KiConnectSystemInterrupt(PKINTERRUPT Interrupt, PKSERVICE_ROUTINE ServiceRoutine, ULONG Vector)
{
    KeInitializeInterrupt(Interrupt, ServiceRoutine, NULL, NULL, Vector, VECTOR_IRQL(Vector),
                          VECTOR_IRQL(Vector), Latched, FALSE);
    /* Every CPU runs it at once (a barrier inside an IPI would deadlock on a shared lock). */
    Interrupt->ActualLock = NULL;
    if (!KeConnectInterrupt(Interrupt))
        KeBugCheckEx(HAL_INITIALIZATION_FAILED, 2, Vector, 0, 0);
}

/* Runs the chain at SynchronizeIrql under each object's lock; stops at the first taker. */
static void service_chain(PLIST_ENTRY chain)
{
    for (PLIST_ENTRY e = chain->Flink; e != chain; e = e->Flink) {
        PKINTERRUPT i = CONTAINING_RECORD(e, KINTERRUPT, InterruptListEntry);
        KIRQL irql = (KIRQL)arch_read_cr8();
        arch_write_cr8(i->SynchronizeIrql);
        if (i->ActualLock)
            KeAcquireSpinLockAtDpcLevel(i->ActualLock);
        BOOLEAN taken = i->ServiceRoutine(i, i->ServiceContext);
        __atomic_fetch_add(&i->ServiceCount, 1, __ATOMIC_RELAXED);
        if (i->ActualLock)
            KeReleaseSpinLockFromDpcLevel(i->ActualLock);
        arch_write_cr8(irql);
        if (taken)
            break;
    }
}

void KiInterruptDispatch(PKTRAP_FRAME TrapFrame)
{
    ULONG v = (ULONG)TrapFrame->Vector;
    PLIST_ENTRY chain = &KiVectorChains[v];
    PKPRCB prcb = KeGetCurrentPrcb();

    prcb->InterruptCount++;
    prcb->Irqlab.InterruptsAtIrql[VECTOR_IRQL(v)]++;
    if (v == SPURIOUS_VECTOR) { /* never EOI a spurious interrupt (SDM 11.9) */
        __atomic_fetch_add(&KiUnexpected[v], 1, __ATOMIC_RELAXED);
        return;
    }
    if (IsListEmpty(chain)) {
        unexpected(TrapFrame, v);
        return;
    }
    KIRQL old = (KIRQL)arch_read_cr8();
    /* The APIC only delivers a class above CR8; anything else is a stray `int n`. */
    ASSERT(VECTOR_IRQL(v) > old);
    /* NT keeps the interrupted level in the trap frame; the clock's accounting reads it. */
    KIRQL outer = prcb->Irqlab.PreviousIrql;
    prcb->Irqlab.PreviousIrql = old;
    arch_write_cr8(VECTOR_IRQL(v));
    PKINTERRUPT first = CONTAINING_RECORD(chain->Flink, KINTERRUPT, InterruptListEntry); /* for the trace */
    KI_TRACE(KTRACE_CAT_INTERRUPT, KTRACE_INTERRUPT_ENTER, VECTOR_IRQL(v), v | old << 8, first->ServiceRoutine, first);
    arch_enable_interrupts();
    service_chain(chain);
    KI_TRACE(KTRACE_CAT_INTERRUPT, KTRACE_INTERRUPT_EXIT, VECTOR_IRQL(v), v | old << 8, 0, 0);
    arch_disable_interrupts();
    prcb->Irqlab.PreviousIrql = outer;
    HalPerformEndOfInterrupt();
    arch_write_cr8(old);
}
