/*
 * floors_test.c - the ways a lower floor reaches a higher one without
 * calling it (docs/architecture.md, "The floors"): bugcheck callbacks, the
 * command-line keys each floor declares, the one stack walker and symbol
 * formatter that the bugcheck and the console share.
 */
#include <arch/arch.h>
#include <irqlab/kequery.h>
#include <irqlab/rtl.h>
#include <irqlab/test.h>
#include <irqlab/dpc.h>

static VOID KtNoCallback(PVOID Buffer, ULONG Length)
{
    UNREFERENCED_PARAMETER(Buffer);
    UNREFERENCED_PARAMETER(Length);
}

TEST(floors, a_bugcheck_callback_registers_once_and_deregisters_once)
{
    static KBUGCHECK_CALLBACK_RECORD record;

    KeInitializeCallbackRecord(&record);
    CHECK(!KeDeregisterBugCheckCallback(&record)); /* not registered yet */
    CHECK(KeRegisterBugCheckCallback(&record, KtNoCallback, NULL, 0, (PUCHAR) "floors test"));
    CHECK_EQ(record.State, BufferInserted);
    CHECK(!KeRegisterBugCheckCallback(&record, KtNoCallback, NULL, 0, (PUCHAR) "floors test"));
    CHECK(KeDeregisterBugCheckCallback(&record));
    CHECK_EQ(record.State, BufferEmpty);
    CHECK(!KeDeregisterBugCheckCallback(&record));
}

extern const KCOMMAND_LINE_OPTION __start_kopts[], __stop_kopts[];

static BOOLEAN declared(PCSTR Key)
{
    for (const KCOMMAND_LINE_OPTION *o = __start_kopts; o < __stop_kopts; o++)
        if (strcmp(o->Key, Key) == 0)
            return TRUE;
    return FALSE;
}

TEST(floors, every_floor_declares_the_keys_it_reads)
{
    static const PCSTR keys[] = { "test", "bench", "storm", "apic", "tick", "numproc", "dpcqueuedepth",
                                  "clockwatchdog" };

    for (ULONG i = 0; i < ARRAYSIZE(keys); i++)
        CHECK(declared(keys[i]));
    CHECK(!declared("no-such-option"));
}

static __attribute__((noinline)) ULONG walk_here(PKI_STACK_FRAME Frames, ULONG Max)
{
    ULONG n = KiWalkStack(0, 0, arch_frame_pointer(), Frames, Max);
    __asm__ volatile("" ::: "memory"); /* keep this frame: not a tail call */
    return n;
}

TEST(floors, the_stack_walker_names_the_callers_in_order)
{
    KI_STACK_FRAME frames[8];
    CHAR symbol[96];

    ULONG n = walk_here(frames, ARRAYSIZE(frames));
    REQUIRE(n >= 3); /* this test, the runner, the boot sequence */
    KiFormatReturnAddress(frames[0].Pc, symbol, sizeof(symbol));
    CHECK(strncmp(symbol, "irqlab!KtRoutine_floors_the_stack_walker", 40) == 0);
    CHECK(!frames[0].Exact && !frames[0].TrapFrame);
    CHECK_EQ(KiWalkStack(0, 0, 0, frames, ARRAYSIZE(frames)), 0); /* the end of every chain */
    CHECK_EQ(KiWalkStack(0, 0, 0x1000, frames, ARRAYSIZE(frames)), 0); /* not a kernel address */
}

#define KT_CROSSER "irqlab!KtRoutine_floors_the_stack_walker_crosses"

struct walk_seen {
    ULONG Frames, Trap, Caller; /* Trap, Caller: the rows of the trap frame and of the test (0: none) */
    BOOLEAN Exact;              /* the row below the trap is the interrupted RIP itself */
};

/* A DPC's view: the 0x2F interrupt's trap frame, then the stacks it crossed back to the inserter. */
static VOID walk_in_dpc(PKDPC Dpc, PVOID Context, PVOID Arg1, PVOID Arg2)
{
    struct walk_seen *s = Context;
    KI_STACK_FRAME frames[32];
    CHAR symbol[96];

    UNREFERENCED_PARAMETER(Dpc);
    UNREFERENCED_PARAMETER(Arg1);
    UNREFERENCED_PARAMETER(Arg2);
    s->Frames = KiWalkStack(0, 0, arch_frame_pointer(), frames, ARRAYSIZE(frames));
    for (ULONG n = 0; n < s->Frames; n++) {
        KiFormatReturnAddress(frames[n].Pc, symbol, sizeof(symbol));
        if (frames[n].TrapFrame && !s->Trap) {
            s->Trap = n;
            s->Exact = n + 1 < s->Frames && frames[n + 1].Exact;
        }
        if (strncmp(symbol, KT_CROSSER, sizeof(KT_CROSSER) - 1) == 0 && !s->Caller)
            s->Caller = n;
    }
}

TEST(floors, the_stack_walker_crosses_a_trap_frame_and_the_dpc_stack)
{
    struct walk_seen s = { 0 };
    KDPC dpc;

    KeInitializeDpc(&dpc, walk_in_dpc, &s);
    CHECK(KeInsertQueueDpc(&dpc, NULL, NULL)); /* at PASSIVE_LEVEL: it runs in the 0x2F interrupt */
    CHECK_GE(s.Frames, 6);
    CHECK_GT(s.Trap, 0);
    CHECK(s.Exact);
    CHECK_GT(s.Caller, s.Trap); /* this test, below the trap and back on its own stack */
}

TEST(floors, one_symbol_formatter_says_when_it_found_none)
{
    CHAR text[96];

    CHECK(KiFormatSymbol((ULONG_PTR)KeBugCheckEx, text, sizeof(text)));
    CHECK_STR_EQ(text, "irqlab!KeBugCheckEx");
    CHECK(!KiFormatSymbol(0x1000, text, sizeof(text)));
    CHECK_STR_EQ(text, "0000000000001000");
}
