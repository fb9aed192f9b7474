/*
 * dpcpolicy_test.c - when an insert asks for the DISPATCH interrupt (NT's
 * request policy), how the clock tick adapts the rate and the depth
 * (KeUpdateRunTime), and KeSetTargetProcessorDpcEx's checks.
 *
 * Tests that must see "no request yet" keep interrupts off at PASSIVE_LEVEL:
 * a request is then visible as the summary bit and as 0x2F in the APIC's IRR,
 * and no clock tick can come and request the queue behind the test's back.
 */
#include <arch/arch.h>
#include <irqlab/hal.h>
#include <irqlab/dpc.h>
#include <irqlab/prcb.h>
#include <irqlab/test.h>
#include <irqlab/vectors.h>
#include <irqlab/kequery.h>

#define MAX_DEPTH 16

static volatile ULONG KtRuns[MAX_DEPTH];

static VOID count_run(PKDPC Dpc, PVOID Context, PVOID Arg1, PVOID Arg2)
{
    UNREFERENCED_PARAMETER(Dpc);
    UNREFERENCED_PARAMETER(Arg1);
    UNREFERENCED_PARAMETER(Arg2);
    KtRuns[(ULONG_PTR)Context]++;
}

static BOOLEAN requested(PKPRCB Prcb)
{
    return (Prcb->DpcRequestSummary & DPC_NORMAL_PROCESSING_REQUESTED) && HalIsInterruptRequested(DISPATCH_VECTOR);
}

TEST(dpcpolicy, low_importance_requests_only_at_maximum_depth)
{
    PKPRCB prcb = KeGetCurrentPrcb();
    KDPC dpc[MAX_DEPTH];
    ULONG saved = prcb->MinimumDpcRate;

    arch_disable_interrupts();
    LONG max = prcb->MaximumDpcQueueDepth;
    REQUIRE(max >= 1 && max <= MAX_DEPTH && prcb->DpcData[0].DpcQueueDepth == 0);
    prcb->MinimumDpcRate = 0; /* the rate clause asks for nothing */
    for (LONG i = 0; i < max; i++) {
        KtRuns[i] = 0;
        KeInitializeDpc(&dpc[i], count_run, (PVOID)(ULONG_PTR)i);
        KeSetImportanceDpc(&dpc[i], LowImportance);
        CHECK(!requested(prcb));
        CHECK(KeInsertQueueDpc(&dpc[i], NULL, NULL));
    }
    CHECK(requested(prcb)); /* the one that made the depth reach the maximum */
    CHECK_EQ(KtRuns[0], 0);
    prcb->MinimumDpcRate = saved;
    arch_enable_interrupts();
    for (LONG i = 0; i < max; i++)
        CHECK_EQ(KtRuns[i], 1);
}

TEST(dpcpolicy, low_importance_requests_when_the_rate_is_below_the_minimum)
{
    PKPRCB prcb = KeGetCurrentPrcb();
    KDPC dpc;

    KtRuns[0] = 0;
    KeInitializeDpc(&dpc, count_run, (PVOID)0);
    KeSetImportanceDpc(&dpc, LowImportance);
    arch_disable_interrupts();
    prcb->DpcRequestRate = 0; /* no tick can update it before the insert */
    CHECK_GT(prcb->MinimumDpcRate, 0);
    CHECK(KeInsertQueueDpc(&dpc, NULL, NULL));
    CHECK(requested(prcb));
    arch_enable_interrupts();
    CHECK_EQ(KtRuns[0], 1);
}

/* DpcRequestRate is the running average of DPCs queued per tick: up after a burst, back to 0. */
TEST(dpcpolicy, the_tick_averages_the_request_rate)
{
    PKPRCB prcb = KeGetCurrentPrcb();
    KDPC dpc;

    KeInitializeDpc(&dpc, count_run, (PVOID)0);
    CHECK_EQ(KtWaitTicks(1), 1);
    for (ULONG i = 0; i < 64; i++)
        KeInsertQueueDpc(&dpc, NULL, NULL); /* runs at once: Medium at PASSIVE */
    CHECK_EQ(KtWaitTicks(1), 1);
    CHECK_GE(prcb->DpcRequestRate, 16); /* 64 over at most two ticks, halved at most twice */
    CHECK_EQ(KtWaitTicks(12), 12);
    CHECK_EQ(prcb->DpcRequestRate, 0);
}

/*
 * A tick that has to request a queue itself lowers the depth that forces a
 * request (the DPCs are rare); AdjustDpcThreshold quiet ticks restore it.
 */
TEST(dpcpolicy, the_tick_adapts_the_maximum_depth)
{
    PKPRCB prcb = KeGetCurrentPrcb();
    ULONG saved = prcb->MinimumDpcRate;
    KDPC dpc;
    KIRQL old;

    for (int i = 0; i < 4 && prcb->MaximumDpcQueueDepth < (LONG)KiMaximumDpcQueueDepth; i++)
        KtWaitTicks(KiAdjustDpcThreshold); /* quiet ticks bring it back to the configured maximum */
    LONG before = prcb->MaximumDpcQueueDepth;
    CHECK_EQ(before, (LONG)KiMaximumDpcQueueDepth);
    SKIP_UNLESS(before > 1, "the depth is already 1");
    KtRuns[0] = 0;
    KeInitializeDpc(&dpc, count_run, (PVOID)0);
    KeSetImportanceDpc(&dpc, LowImportance);
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    prcb->MinimumDpcRate = 0;
    arch_disable_interrupts(); /* no tick between the insert and the look */
    CHECK(KeInsertQueueDpc(&dpc, NULL, NULL));
    CHECK(!(prcb->DpcRequestSummary & DPC_NORMAL_PROCESSING_REQUESTED));
    arch_enable_interrupts();
    CHECK_EQ(KtWaitTicks(1), 1); /* at DISPATCH: the tick requests, the request waits */
    CHECK(requested(prcb));
    CHECK_EQ(prcb->MaximumDpcQueueDepth, before - 1);
    prcb->MinimumDpcRate = saved;
    KeLowerIrql(old);
    CHECK_EQ(KtRuns[0], 1);
    CHECK_EQ(KtWaitTicks(KiAdjustDpcThreshold + 1), KiAdjustDpcThreshold + 1);
    CHECK_EQ(prcb->MaximumDpcQueueDepth, before);
}

TEST(dpcpolicy, set_target_processor_ex_checks_its_argument)
{
    PROCESSOR_NUMBER number = { 0, 0, 0 };
    KDPC dpc;

    KeInitializeDpc(&dpc, count_run, (PVOID)0);
    number.Group = 1;
    CHECK_EQ(KeSetTargetProcessorDpcEx(&dpc, &number), STATUS_INVALID_PARAMETER);
    number.Group = 0;
    number.Number = (UCHAR)KeNumberProcessors;
    CHECK_EQ(KeSetTargetProcessorDpcEx(&dpc, &number), STATUS_INVALID_PARAMETER);
    CHECK_EQ(dpc.Number, 0); /* unchanged */
    number.Number = (UCHAR)(KeNumberProcessors - 1);
    CHECK_EQ(KeSetTargetProcessorDpcEx(&dpc, &number), STATUS_SUCCESS);
    CHECK_EQ(dpc.Number, 0x500 + KeNumberProcessors - 1); /* Windows 10's bias, as dt _KDPC shows it */
}

/* Windows 10's KeSetTargetProcessorDpcEx changes nothing while the DPC is queued. */
TEST(dpcpolicy, a_queued_dpc_keeps_its_target)
{
    KDPC dpc;
    KIRQL old;

    KeInitializeDpc(&dpc, count_run, (PVOID)0);
    KeSetTargetProcessorDpc(&dpc, 0);
    CHECK_EQ(dpc.Number, KDPC_TARGET_BIAS);
    KeRaiseIrql(DISPATCH_LEVEL, &old); /* queued, not yet run */
    CHECK(KeInsertQueueDpc(&dpc, NULL, NULL));
    KeSetTargetProcessorDpc(&dpc, (CCHAR)(KeNumberProcessors - 1));
    CHECK_EQ(dpc.Number, KDPC_TARGET_BIAS);
    KeLowerIrql(old);
}
