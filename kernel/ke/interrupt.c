/*
 * interrupt.c - interrupt objects and the common interrupt dispatcher.
 *
 * Models NT's KiInterruptDispatch: raise CR8 to the object's level, enable
 * interrupts so that anything of a higher class preempts the ISR, call the
 * routine(s) chained on the vector under the object's lock, then EOI and
 * return to the interrupted level with interrupts off (iretq restores IF).
 * A shared vector's chain (NT's KiChainedDispatch) stops at the first
 * level-sensitive routine that claims the interrupt, and is walked again
 * for latched ones until a whole pass finds none that claims it, since an
 * edge that came during the walk would otherwise be lost.
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
static volatile LONG KiVectorWalkers[256]; /* dispatchers inside a chain now, on any CPU */

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
    memset(Interrupt, 0, sizeof(*Interrupt));
    Interrupt->Type = InterruptObject;
    Interrupt->Size = sizeof(*Interrupt);
    InitializeListHead(&Interrupt->InterruptListEntry);
    Interrupt->ServiceRoutine = ServiceRoutine;
    Interrupt->ServiceContext = ServiceContext;
    KeInitializeSpinLock(&Interrupt->SpinLock);
    Interrupt->ActualLock = SpinLock ? SpinLock : &Interrupt->SpinLock;
    Interrupt->DispatchAddress = (PVOID)KiInterruptDispatch;
    Interrupt->Vector = Vector;
    Interrupt->Irql = Irql;
    Interrupt->SynchronizeIrql = SynchronizeIrql;
    Interrupt->Mode = InterruptMode;
    Interrupt->ShareVector = ShareVector;
}

/* NT shares a vector only among objects that all allow it and are of one mode. */
static BOOLEAN may_join(PLIST_ENTRY Chain, PKINTERRUPT Interrupt)
{
    if (IsListEmpty(Chain))
        return TRUE;
    PKINTERRUPT first = CONTAINING_RECORD(Chain->Flink, KINTERRUPT, InterruptListEntry);
    return Interrupt->ShareVector && first->ShareVector && first->Mode == Interrupt->Mode;
}

/* Connect lock held.  Links it last, published only once its own links are set: walkers do not lock. */
static VOID link_last(PLIST_ENTRY Chain, PLIST_ENTRY Entry)
{
    PLIST_ENTRY tail = Chain->Blink;

    Entry->Flink = Chain;
    Entry->Blink = tail;
    __atomic_store_n(&tail->Flink, Entry, __ATOMIC_RELEASE);
    Chain->Blink = Entry;
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
    if (!Interrupt->Connected && may_join(chain, Interrupt)) {
        Interrupt->Number = KeGetCurrentProcessorNumber();
        link_last(chain, &Interrupt->InterruptListEntry);
        Interrupt->Connected = ok = TRUE;
    }
    arch_raw_lock_release(&KiConnectLock, flags);
    return ok;
}

/*
 * Unlinked under the lock; the unlinked entry keeps its Flink, so a walker
 * standing on it still finds the rest of the chain.  Then it waits until no
 * dispatcher is inside that vector's chain: after return the caller may
 * free the object, as NT's KeDisconnectInterrupt allows.
 */
BOOLEAN KeDisconnectInterrupt(PKINTERRUPT Interrupt)
{
    ASSERT(KeGetCurrentIrql() <= DISPATCH_LEVEL);
    ULONG64 flags = arch_raw_lock_acquire(&KiConnectLock);
    BOOLEAN was = Interrupt->Connected;
    if (was) {
        PLIST_ENTRY e = &Interrupt->InterruptListEntry;
        e->Blink->Flink = e->Flink;
        e->Flink->Blink = e->Blink;
    }
    Interrupt->Connected = FALSE;
    arch_raw_lock_release(&KiConnectLock, flags);
    __atomic_thread_fence(__ATOMIC_SEQ_CST); /* the unlink before the look at the walkers */
    while (was && __atomic_load_n(&KiVectorWalkers[Interrupt->Vector], __ATOMIC_ACQUIRE) != 0)
        arch_pause();
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

/* One routine at its SynchronizeIrql under its lock; TRUE when it claimed the interrupt. */
static BOOLEAN service_one(PKINTERRUPT Interrupt)
{
    KIRQL irql = (KIRQL)arch_read_cr8();

    arch_write_cr8(Interrupt->SynchronizeIrql);
    if (Interrupt->ActualLock)
        KeAcquireSpinLockAtDpcLevel(Interrupt->ActualLock);
    __atomic_add_fetch(&Interrupt->ActiveCount, 1, __ATOMIC_RELAXED);
    BOOLEAN taken = Interrupt->ServiceRoutine(Interrupt, Interrupt->ServiceContext);
    __atomic_sub_fetch(&Interrupt->ActiveCount, 1, __ATOMIC_RELAXED);
    __atomic_add_fetch(&Interrupt->DispatchCount, 1, __ATOMIC_RELAXED);
    if (taken)
        __atomic_add_fetch(&Interrupt->ServiceCount, 1, __ATOMIC_RELAXED);
    if (Interrupt->ActualLock)
        KeReleaseSpinLockFromDpcLevel(Interrupt->ActualLock);
    arch_write_cr8(irql);
    return taken;
}

/* The chain, once for level-sensitive objects (the first claim ends it), until a pass claims nothing for latched. */
static void service_chain(PLIST_ENTRY chain)
{
    BOOLEAN latched = CONTAINING_RECORD(chain->Flink, KINTERRUPT, InterruptListEntry)->Mode == Latched;
    BOOLEAN claimed;

    do {
        claimed = FALSE;
        for (PLIST_ENTRY e = __atomic_load_n(&chain->Flink, __ATOMIC_ACQUIRE); e != chain;
             e = __atomic_load_n(&e->Flink, __ATOMIC_ACQUIRE)) {
            claimed |= service_one(CONTAINING_RECORD(e, KINTERRUPT, InterruptListEntry));
            if (claimed && !latched)
                return;
        }
    } while (claimed && latched && chain->Flink->Flink != chain); /* one object alone: its claim ends it */
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
    __atomic_add_fetch(&KiVectorWalkers[v], 1, __ATOMIC_SEQ_CST);
    arch_enable_interrupts();
    if (!IsListEmpty(chain)) { /* a disconnect may have emptied it since the look above */
        PKINTERRUPT first = CONTAINING_RECORD(chain->Flink, KINTERRUPT, InterruptListEntry); /* for the trace */
        KI_TRACE(KTRACE_CAT_INTERRUPT, KTRACE_INTERRUPT_ENTER, VECTOR_IRQL(v), v | old << 8, first->ServiceRoutine,
                 first);
        service_chain(chain);
        KI_TRACE(KTRACE_CAT_INTERRUPT, KTRACE_INTERRUPT_EXIT, VECTOR_IRQL(v), v | old << 8, 0, 0);
    }
    arch_disable_interrupts();
    __atomic_sub_fetch(&KiVectorWalkers[v], 1, __ATOMIC_RELEASE);
    prcb->Irqlab.PreviousIrql = outer;
    HalPerformEndOfInterrupt();
    arch_write_cr8(old);
}
