/*
 * interrupt_test.c - synchronizing with an ISR: KeSynchronizeExecution and
 * KeAcquireInterruptSpinLock run at the object's SynchronizeIrql holding its
 * lock, so the ISR (here driven by a self-IPI) waits until they are done.
 */
#include <irqlab/hal.h>
#include <irqlab/interrupt.h>
#include <irqlab/test.h>
#include <irqlab/vectors.h>

#define SYNC_VECTOR DEVICE_VECTOR(7, 3)

static volatile ULONG KtIsrRuns;

static BOOLEAN count_isr(PKINTERRUPT Interrupt, PVOID Context)
{
    UNREFERENCED_PARAMETER(Interrupt);
    UNREFERENCED_PARAMETER(Context);
    KtIsrRuns++;
    return TRUE;
}

struct sync_seen {
    KIRQL Irql;
    BOOLEAN LockHeld;
    ULONG IsrRunsInside;
    PKINTERRUPT Interrupt;
};

static BOOLEAN inside(PVOID Context)
{
    struct sync_seen *s = Context;

    s->Irql = KeGetCurrentIrql();
    s->LockHeld = !KeTestSpinLock(s->Interrupt->ActualLock);
    HalSendSelfIpi(SYNC_VECTOR); /* the ISR must wait for us */
    KeStallExecutionProcessor(1000);
    s->IsrRunsInside = KtIsrRuns;
    return s->Irql == 8 ? 0x2a : 0; /* BOOLEAN, passed through as is */
}

TEST(interrupt, synchronize_execution_runs_at_synchronize_irql_under_the_lock)
{
    KINTERRUPT isr;
    struct sync_seen s = { 0 };

    KeInitializeInterrupt(&isr, count_isr, NULL, NULL, SYNC_VECTOR, 7, 8, Latched, FALSE);
    REQUIRE(KeConnectInterrupt(&isr));
    s.Interrupt = &isr;
    KtIsrRuns = 0;
    CHECK_EQ(KeSynchronizeExecution(&isr, inside, &s), 0x2a);
    CHECK_EQ(s.Irql, 8);
    CHECK(s.LockHeld);
    CHECK_EQ(s.IsrRunsInside, 0);
    CHECK_EQ(KtIsrRuns, 1); /* ran once IRQL dropped */
    CHECK(KeTestSpinLock(isr.ActualLock));
    KeDisconnectInterrupt(&isr);
}

TEST(interrupt, interrupt_spin_lock_holds_off_the_isr)
{
    KINTERRUPT isr;
    KIRQL old;

    KeInitializeInterrupt(&isr, count_isr, NULL, NULL, SYNC_VECTOR, 7, 7, Latched, FALSE);
    REQUIRE(KeConnectInterrupt(&isr));
    KtIsrRuns = 0;
    old = KeAcquireInterruptSpinLock(&isr);
    CHECK_EQ(old, PASSIVE_LEVEL);
    CHECK_EQ(KeGetCurrentIrql(), 7);
    HalSendSelfIpi(SYNC_VECTOR);
    KeStallExecutionProcessor(1000);
    CHECK_EQ(KtIsrRuns, 0);
    KeReleaseInterruptSpinLock(&isr, old);
    CHECK_EQ(KtIsrRuns, 1);
    CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
    KeDisconnectInterrupt(&isr);
}
