/*
 * trace_test.c - the per-CPU event recorder (kernel/ke/trace.c): records in
 * order with rising timestamps, at any IRQL and on every CPU; DPC and
 * interrupt events that pair up; a full buffer that counts every drop
 * exactly and records nothing more; categories that switch events off.
 */
#include <arch/arch.h>
#include <irqlab/dpc.h>
#include <irqlab/hal.h>
#include <irqlab/interrupt.h>
#include <irqlab/kequery.h>
#include <irqlab/prcb.h>
#include <irqlab/test.h>
#include <irqlab/trace.h>
#include <irqlab/vectors.h>

#define MARK_BASE 0x7e500000u

/* Index of the first record of Type (and Data32, unless ~0) at or after From on Cpu; -1 if none. */
static LONG find(ULONG Cpu, ULONG From, UCHAR Type, ULONG Data32)
{
    const KTRACE_RECORD *r;

    for (ULONG i = From; (r = KeQueryTraceRecord(Cpu, i)) != NULL; i++)
        if (r->Type == Type && (Data32 == ~0u || r->Data32 == Data32))
            return (LONG)i;
    return -1;
}

static ULONG code(PVOID Routine)
{
    return (ULONG)(ULONG_PTR)Routine;
}

TEST(trace, marks_and_irql_in_order_with_rising_timestamps)
{
    ULONG me = KeGetCurrentProcessorNumber();

    REQUIRE(KeStartTrace(KTRACE_CAT_IRQL));
    KeTraceMark(MARK_BASE + 1);
    KIRQL old = KfRaiseIrql(DISPATCH_LEVEL);
    KeTraceMark(MARK_BASE + 2);
    KeLowerIrql(old);
    KeTraceMark(MARK_BASE + 3);
    KeStopTrace();
    LONG a = find(me, 0, KTRACE_MARK, MARK_BASE + 1), b = find(me, 0, KTRACE_MARK, MARK_BASE + 2);
    LONG c = find(me, 0, KTRACE_MARK, MARK_BASE + 3);
    REQUIRE(a >= 0 && b > a && c > b);
    LONG raise = find(me, (ULONG)a, KTRACE_IRQL_RAISE, ~0u), lower = find(me, (ULONG)b, KTRACE_IRQL_LOWER, ~0u);
    REQUIRE(raise > a && raise < b && lower > b && lower < c);
    const KTRACE_RECORD *r = KeQueryTraceRecord(me, (ULONG)raise), *l = KeQueryTraceRecord(me, (ULONG)lower);
    CHECK_EQ(r->Data16, PASSIVE_LEVEL | DISPATCH_LEVEL << 8);
    CHECK_EQ(r->Irql, DISPATCH_LEVEL);
    CHECK_EQ(KeQueryTraceRecord(me, (ULONG)b)->Irql, DISPATCH_LEVEL);
    CHECK_EQ(l->Data16, DISPATCH_LEVEL | PASSIVE_LEVEL << 8);
    CHECK_EQ(KeQueryTraceRecord(me, (ULONG)c)->Irql, PASSIVE_LEVEL);
    for (ULONG i = 1; KeQueryTraceRecord(me, i) != NULL; i++)
        CHECK_LE(KeQueryTraceRecord(me, i - 1)->Tsc, KeQueryTraceRecord(me, i)->Tsc);
}

static volatile ULONG TraceDpcRan;

static VOID trace_dpc(PKDPC Dpc, PVOID Context, PVOID Arg1, PVOID Arg2)
{
    UNREFERENCED_PARAMETER(Dpc);
    UNREFERENCED_PARAMETER(Context);
    UNREFERENCED_PARAMETER(Arg1);
    UNREFERENCED_PARAMETER(Arg2);
    TraceDpcRan++;
}

TEST(trace, dpc_insert_begin_end_pair_up)
{
    static KDPC dpc;
    ULONG me = KeGetCurrentProcessorNumber();

    KeInitializeDpc(&dpc, trace_dpc, NULL);
    KeSetImportanceDpc(&dpc, HighImportance);
    TraceDpcRan = 0;
    REQUIRE(KeStartTrace(KTRACE_CAT_DPC));
    KIRQL old = KfRaiseIrql(DISPATCH_LEVEL);
    CHECK(KeInsertQueueDpc(&dpc, NULL, NULL));
    CHECK(!KeInsertQueueDpc(&dpc, NULL, NULL)); /* already queued: recorded as not queued */
    KeLowerIrql(old);                           /* it runs here */
    KeStopTrace();
    CHECK_EQ(TraceDpcRan, 1);
    LONG insert = find(me, 0, KTRACE_DPC_INSERT, ~0u);
    REQUIRE(insert >= 0);
    const KTRACE_RECORD *i1 = KeQueryTraceRecord(me, (ULONG)insert), *i2 = KeQueryTraceRecord(me, (ULONG)insert + 1);
    REQUIRE(i2 != NULL);
    CHECK_EQ(i1->Data64, (ULONG64)&dpc);
    CHECK_EQ(i1->Data16, me | HighImportance << 8 | 1 << 10 | 1 << 11); /* requested, queued */
    CHECK_EQ(i1->Data32, 1);                                             /* the depth after it */
    CHECK_EQ(i1->Irql, HIGH_LEVEL);                                      /* NT inserts at HIGH_LEVEL */
    CHECK_EQ(i2->Type, KTRACE_DPC_INSERT);
    CHECK_EQ(i2->Data16 >> 11 & 1, 0);
    LONG begin = find(me, (ULONG)insert, KTRACE_DPC_BEGIN, code(trace_dpc));
    LONG end = find(me, (ULONG)insert, KTRACE_DPC_END, code(trace_dpc));
    REQUIRE(begin > insert && end > begin);
    CHECK_EQ(KeQueryTraceRecord(me, (ULONG)begin)->Data64, (ULONG64)&dpc);
    CHECK_EQ(KeQueryTraceRecord(me, (ULONG)begin)->Irql, DISPATCH_LEVEL);
    CHECK_EQ(KeQueryTraceRecord(me, (ULONG)end)->Data64, (ULONG64)&dpc);
}

TEST(trace, clock_interrupts_enter_and_exit_at_clock_level)
{
    ULONG me = KeGetCurrentProcessorNumber();

    REQUIRE(KeStartTrace(KTRACE_CAT_INTERRUPT));
    KeStallExecutionProcessor(40000); /* a few ticks at 64 Hz */
    KeStopTrace();
    LONG enter = find(me, 0, KTRACE_INTERRUPT_ENTER, ~0u);
    while (enter >= 0 && (KeQueryTraceRecord(me, (ULONG)enter)->Data16 & 0xff) != CLOCK_VECTOR)
        enter = find(me, (ULONG)enter + 1, KTRACE_INTERRUPT_ENTER, ~0u);
    REQUIRE(enter >= 0);
    const KTRACE_RECORD *e = KeQueryTraceRecord(me, (ULONG)enter);
    CHECK_EQ(e->Irql, CLOCK_LEVEL);
    CHECK_EQ(e->Data16 >> 8, PASSIVE_LEVEL); /* it interrupted this test */
    CHECK_NE(e->Data32, 0);                  /* the ISR's address */
    PKINTERRUPT chained[1];
    REQUIRE_EQ(KiQueryVectorInterrupts(CLOCK_VECTOR, chained, 1), 1);
    CHECK_EQ(e->Data64, (ULONG64)chained[0]);                      /* its KINTERRUPT */
    CHECK_EQ(e->Data32, (ULONG)(ULONG_PTR)chained[0]->ServiceRoutine);
    LONG exit = find(me, (ULONG)enter + 1, KTRACE_INTERRUPT_EXIT, ~0u);
    REQUIRE(exit > enter);
    CHECK_EQ(KeQueryTraceRecord(me, (ULONG)exit)->Data16, e->Data16);
    CHECK_EQ(find(me, 0, KTRACE_DPC_BEGIN, ~0u), -1); /* the dpc category was off */
}

static ULONG_PTR mark_here(ULONG_PTR Value)
{
    KeTraceMark((ULONG)Value);
    return 0;
}

TEST(trace, every_cpu_records_at_ipi_and_high_level)
{
    REQUIRE(KeStartTrace(KTRACE_CAT_BUGCHECK)); /* a category that records nothing by itself */
    KeIpiGenericCall(mark_here, MARK_BASE + 10);
    KIRQL old = KfRaiseIrql(HIGH_LEVEL);
    KeTraceMark(MARK_BASE + 11);
    KeLowerIrql(old);
    KeStopTrace();
    for (LONG n = 0; n < KeNumberProcessors; n++) {
        LONG at = find((ULONG)n, 0, KTRACE_MARK, MARK_BASE + 10);
        CHECK_GE(at, 0);
        if (at >= 0)
            CHECK_EQ(KeQueryTraceRecord((ULONG)n, (ULONG)at)->Irql, IPI_LEVEL);
    }
    LONG high = find(KeGetCurrentProcessorNumber(), 0, KTRACE_MARK, MARK_BASE + 11);
    REQUIRE(high >= 0);
    CHECK_EQ(KeQueryTraceRecord(KeGetCurrentProcessorNumber(), (ULONG)high)->Irql, HIGH_LEVEL);
}

TEST(trace, full_buffer_counts_every_drop_and_keeps_the_first)
{
    ULONG me = KeGetCurrentProcessorNumber();
    KTRACE_STATS s;

    REQUIRE(KeStartTrace(KTRACE_CAT_BUGCHECK));
    REQUIRE(KeQueryTraceProcessor(me, &s));
    ULONG extra = 1234;
    for (ULONG i = 0; i < s.Capacity + extra; i++)
        KeTraceMark(i);
    KeStopTrace();
    REQUIRE(KeQueryTraceProcessor(me, &s));
    CHECK_EQ(s.Recorded, s.Capacity);
    CHECK_EQ(s.Dropped, extra);
    CHECK_EQ(s.Torn, 0);
    CHECK_EQ(KeQueryTraceRecord(me, 0)->Data32, 0);
    CHECK_EQ(KeQueryTraceRecord(me, s.Capacity - 1)->Data32, s.Capacity - 1);
    CHECK(KeQueryTraceRecord(me, s.Capacity) == NULL);
    REQUIRE(KeStartTrace(KTRACE_CAT_BUGCHECK)); /* a new session starts empty */
    KeStopTrace();
    REQUIRE(KeQueryTraceProcessor(me, &s));
    CHECK_EQ(s.Recorded, 0);
    CHECK_EQ(s.Dropped, 0);
}

TEST(trace, stopped_records_nothing)
{
    KTRACE_STATS before, after;
    ULONG me = KeGetCurrentProcessorNumber();

    REQUIRE(KeStartTrace(KTRACE_CAT_DEFAULT));
    KeStopTrace();
    CHECK_EQ(KeQueryTraceCategories(), 0);
    REQUIRE(KeQueryTraceProcessor(me, &before));
    KeTraceMark(MARK_BASE + 20);
    KeStallExecutionProcessor(20000);
    REQUIRE(KeQueryTraceProcessor(me, &after));
    CHECK_EQ(after.Recorded, before.Recorded);
}

TEST(trace, category_names)
{
    ULONG mask;
    PCSTR bad = NULL;
    char text[96];

    CHECK(KeParseTraceCategories("interrupt,dpc", &mask, &bad));
    CHECK_EQ(mask, KTRACE_CAT_INTERRUPT | KTRACE_CAT_DPC);
    CHECK(KeParseTraceCategories("default", &mask, &bad));
    CHECK_EQ(mask, KTRACE_CAT_DEFAULT);
    CHECK_EQ(mask & KTRACE_CAT_IRQL, 0);
    CHECK(KeParseTraceCategories("all", &mask, &bad));
    CHECK_EQ(mask, KTRACE_CAT_ALL);
    CHECK(!KeParseTraceCategories("dpc,bogus", &mask, &bad));
    CHECK_STR_EQ(bad, "bogus");
    KeFormatTraceCategories(KTRACE_CAT_IRQL | KTRACE_CAT_LOCK, text, sizeof(text));
    CHECK_STR_EQ(text, "irql,lock");
}

static KDPC BusyDpcs[8];

/* Interrupts land inside records all the time here: every CPU's records must still be in
 * timestamp order, and its interrupt entries and exits must pair up innermost first. */
TEST(trace, records_stay_in_order_under_interrupts)
{
    KTRACE_STATS s;

    for (ULONG i = 0; i < ARRAYSIZE(BusyDpcs); i++) {
        KeInitializeDpc(&BusyDpcs[i], trace_dpc, NULL);
        KeSetImportanceDpc(&BusyDpcs[i], HighImportance);
        KeSetTargetProcessorDpc(&BusyDpcs[i], (CCHAR)(i % (ULONG)KeNumberProcessors));
    }
    REQUIRE(KeStartTrace(KTRACE_CAT_ALL));
    for (ULONG round = 0; round < 300; round++) {
        for (ULONG i = 0; i < ARRAYSIZE(BusyDpcs); i++)
            KeInsertQueueDpc(&BusyDpcs[i], NULL, NULL);
        KeStallExecutionProcessor(50);
    }
    KeStopTrace();
    for (LONG n = 0; n < KeNumberProcessors; n++) {
        REQUIRE(KeQueryTraceProcessor((ULONG)n, &s));
        CHECK_EQ(s.Torn, 0);
        USHORT open[16];
        ULONG depth = 0, orphans = 0;
        for (ULONG i = 0; i < s.Recorded; i++) {
            const KTRACE_RECORD *r = KeQueryTraceRecord((ULONG)n, i);
            if (i > 0 && r->Tsc < KeQueryTraceRecord((ULONG)n, i - 1)->Tsc) {
                CHECK_GE(r->Tsc, KeQueryTraceRecord((ULONG)n, i - 1)->Tsc);
                break;
            }
            if (r->Type == KTRACE_INTERRUPT_ENTER && depth < ARRAYSIZE(open))
                open[depth++] = r->Data16 & 0xff;
            else if (r->Type == KTRACE_INTERRUPT_EXIT && depth > 0)
                CHECK_EQ(open[--depth], r->Data16 & 0xff);
            else if (r->Type == KTRACE_INTERRUPT_EXIT)
                orphans++; /* the IPI that started the trace */
        }
        CHECK_LE(orphans, 2);
    }
}

#include <irqlab/prcb.h>
#include <irqlab/thread.h>

/* A one-tick sleep switches this thread out to the idle thread and back: two switch records,
 * each followed by the extension that names the thread it left. */
TEST(trace, a_sleep_records_both_context_switches)
{
    LARGE_INTEGER tick = { .QuadPart = -(LONGLONG)KeQueryTimeIncrement() };
    PKTHREAD self = KeGetCurrentThread(), idle = KeGetCurrentPrcb()->IdleThread;
    ULONG me = KeGetCurrentProcessorNumber(), out = 0, back = 0;
    KTRACE_STATS s;

    REQUIRE(KeStartTrace(KTRACE_CAT_CSWITCH));
    KeDelayExecutionThread(KernelMode, FALSE, &tick);
    KeStopTrace();
    REQUIRE(KeQueryTraceProcessor(me, &s));
    for (ULONG i = 0; i + 1 < s.Recorded; i++) {
        const KTRACE_RECORD *r = KeQueryTraceRecord(me, i), *ext = KeQueryTraceRecord(me, i + 1);
        if (r->Type != KTRACE_CONTEXT_SWITCH)
            continue;
        CHECK_EQ(ext->Type, KTRACE_EXTENSION);
        out += r->Data64 == (ULONG64)idle && ext->Data64 == (ULONG64)self && (r->Data16 & 0xff) == Waiting;
        back += r->Data64 == (ULONG64)self && ext->Data64 == (ULONG64)idle;
    }
    CHECK_EQ(out, 1);
    CHECK_EQ(back, 1);
}
