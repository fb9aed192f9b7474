/*
 * irql_test.c - IRQL is CR8, and CR8 masks real interrupts: shown with the
 * local APIC's own registers (IRR) and the clock, not with software flags.
 */
#include <irqlab/hal.h>
#include <arch/arch.h>
#include <irqlab/dpc.h>
#include <irqlab/interrupt.h>
#include <irqlab/test.h>
#include <irqlab/vectors.h>

TEST(irql, raise_lower_every_level)
{
    for (KIRQL level = PASSIVE_LEVEL; level <= HIGH_LEVEL; level++) {
        KIRQL old;
        KeRaiseIrql(level, &old);
        CHECK_EQ(old, PASSIVE_LEVEL);
        CHECK_EQ(arch_read_cr8(), level);
        CHECK_EQ(KeGetCurrentIrql(), level);
        KeRaiseIrql(level, &old); /* same level: a no-op that returns it */
        CHECK_EQ(old, level);
        KeLowerIrql(level);
        CHECK_EQ(arch_read_cr8(), level);
        KeLowerIrql(PASSIVE_LEVEL);
        CHECK_EQ(arch_read_cr8(), PASSIVE_LEVEL);
    }
}

TEST(irql, ascending_then_descending_walk)
{
    KIRQL previous[16];

    for (KIRQL level = PASSIVE_LEVEL; level <= HIGH_LEVEL; level++)
        previous[level] = KfRaiseIrql(level);
    CHECK_EQ(KeGetCurrentIrql(), HIGH_LEVEL);
    for (int level = HIGH_LEVEL; level >= PASSIVE_LEVEL; level--) {
        CHECK_EQ(previous[level], level ? level - 1 : 0);
        KeLowerIrql(previous[level]);
        CHECK_EQ(KeGetCurrentIrql(), previous[level]);
    }
    CHECK_EQ(KeRaiseIrqlToDpcLevel(), PASSIVE_LEVEL);
    CHECK_EQ(KeRaiseIrqlToSynchLevel(), DISPATCH_LEVEL);
    CHECK_EQ(KeGetCurrentIrql(), SYNCH_LEVEL);
    KeLowerIrql(PASSIVE_LEVEL);
}

struct probe {
    volatile ULONG Runs;
    volatile KIRQL IrqlSeen;
    volatile BOOLEAN InterruptsOn;
};

static BOOLEAN probe_service(PKINTERRUPT Interrupt, PVOID Context)
{
    struct probe *p = Context;
    UNREFERENCED_PARAMETER(Interrupt);
    p->Runs++;
    p->IrqlSeen = KeGetCurrentIrql();
    p->InterruptsOn = (arch_read_flags() & ARCH_FLAGS_IF) != 0;
    return TRUE;
}

static VOID probe_dpc(PKDPC Dpc, PVOID Context, PVOID Arg1, PVOID Arg2)
{
    UNREFERENCED_PARAMETER(Dpc);
    UNREFERENCED_PARAMETER(Arg1);
    UNREFERENCED_PARAMETER(Arg2);
    probe_service(NULL, Context);
}

/* A DPC runs when the IRQL drops below DISPATCH_LEVEL (the DDK's KeInsertQueueDpc); the APIC is the witness. */
TEST(irql, dispatch_self_ipi_waits_for_lower)
{
    struct probe p = { 0 };
    KDPC dpc;
    KIRQL old;

    KeInitializeDpc(&dpc, probe_dpc, &p);
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    CHECK(KeInsertQueueDpc(&dpc, NULL, NULL)); /* requests 0x2F as a self-IPI */
    KtStallTicks(2);
    CHECK(HalIsInterruptRequested(DISPATCH_VECTOR));
    CHECK_EQ(p.Runs, 0);
    KeLowerIrql(APC_LEVEL); /* 2 > 1: delivered right here */
    CHECK_EQ(p.Runs, 1);
    CHECK(!HalIsInterruptRequested(DISPATCH_VECTOR));
    KeLowerIrql(PASSIVE_LEVEL);
    CHECK_EQ(p.Runs, 1);
    CHECK_EQ(p.IrqlSeen, DISPATCH_LEVEL);
    CHECK(p.InterruptsOn);
}

TEST(irql, clock_stops_at_clock_level)
{
    KIRQL old;

    KtStallTicks(2);
    ULONG64 start = KeTickCount;
    KtStallTicks(3);
    CHECK_GT(KeTickCount, start); /* it runs at PASSIVE */
    KeRaiseIrql(CLOCK_LEVEL, &old);
    ULONG64 held = KeTickCount;
    KtStallTicks(4);
    CHECK_EQ(KeTickCount, held);
    CHECK(HalIsInterruptRequested(CLOCK_VECTOR));
    KeLowerIrql(old);
    KtStallTicks(2);
    CHECK_GT(KeTickCount, held);
}

struct nesting {
    struct probe Low;
    volatile ULONG LowRunsInsideHigh;
    volatile ULONG64 TicksInsideHigh;
};

#define HIGH_DEVICE_VECTOR DEVICE_VECTOR(8, 1)
#define LOW_DEVICE_VECTOR DEVICE_VECTOR(5, 1)

static BOOLEAN high_device_service(PKINTERRUPT Interrupt, PVOID Context)
{
    struct nesting *n = Context;
    UNREFERENCED_PARAMETER(Interrupt);
    HalSendSelfIpi(LOW_DEVICE_VECTOR); /* must wait: its class is below ours */
    ULONG64 start = KeTickCount;
    KtStallTicks(3);                    /* the clock's class is above ours: it preempts */
    n->TicksInsideHigh = KeTickCount - start;
    n->LowRunsInsideHigh = n->Low.Runs;
    return TRUE;
}

TEST(irql, device_isr_preempted_by_clock_not_by_lower_device)
{
    struct nesting n = { 0 };
    KINTERRUPT high, low;

    KeInitializeInterrupt(&high, high_device_service, &n, NULL, HIGH_DEVICE_VECTOR, 8, 8, Latched, FALSE);
    KeInitializeInterrupt(&low, probe_service, &n.Low, NULL, LOW_DEVICE_VECTOR, 5, 5, Latched, FALSE);
    REQUIRE(KeConnectInterrupt(&high));
    REQUIRE(KeConnectInterrupt(&low));
    HalSendSelfIpi(HIGH_DEVICE_VECTOR);
    KtStallTicks(1);
    CHECK_EQ(high.DispatchCount, 1);
    CHECK_EQ(high.ServiceCount, 1); /* it claimed it */
    CHECK_GT(n.TicksInsideHigh, 0);
    CHECK_EQ(n.LowRunsInsideHigh, 0);
    CHECK_EQ(n.Low.Runs, 1); /* ran once the high ISR lowered */
    CHECK_EQ(n.Low.IrqlSeen, 5);
    KeDisconnectInterrupt(&high);
    KeDisconnectInterrupt(&low);
}

TEST(irql, connect_checks_vector_class)
{
    KINTERRUPT i;
    struct probe p = { 0 };

    KeInitializeInterrupt(&i, probe_service, &p, NULL, DEVICE_VECTOR(5, 2), 6, 6, Latched, FALSE);
    CHECK(!KeConnectInterrupt(&i)); /* vector class 5 cannot run at IRQL 6 */
    KeInitializeInterrupt(&i, probe_service, &p, NULL, CLOCK_VECTOR, CLOCK_LEVEL, CLOCK_LEVEL, Latched,
                          FALSE);
    CHECK(!KeConnectInterrupt(&i)); /* taken by the clock, not shared */
}

TEST(irql, unexpected_vector_is_counted)
{
    ULONG vector = DEVICE_VECTOR(6, 10);
    ULONG64 before = KeQueryUnexpectedInterruptCount(vector);

    HalSendSelfIpi(vector);
    CHECK_EQ(KeQueryUnexpectedInterruptCount(vector), before + 1);
    CHECK(!HalIsInterruptInService(vector)); /* EOI'd, or every lower vector would stay blocked */
}

TEST_BUGCHECK(irql, raise_below_current, IRQL_NOT_GREATER_OR_EQUAL)
{
    TEST_EXPECT_PARAM(1, DISPATCH_LEVEL);
    TEST_EXPECT_PARAM(2, APC_LEVEL);
    KfRaiseIrql(DISPATCH_LEVEL);
    KfRaiseIrql(APC_LEVEL);
}

TEST_BUGCHECK(irql, lower_above_current, IRQL_NOT_LESS_OR_EQUAL)
{
    TEST_EXPECT_PARAM(1, DISPATCH_LEVEL);
    TEST_EXPECT_PARAM(2, PASSIVE_LEVEL);
    KeLowerIrql(DISPATCH_LEVEL);
}
