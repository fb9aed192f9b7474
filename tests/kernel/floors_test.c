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

static __attribute__((noinline)) ULONG walk_here(ULONG64 *Returns, ULONG Max)
{
    ULONG n = KiWalkFrameChain(arch_frame_pointer(), NULL, Returns, Max);
    __asm__ volatile("" ::: "memory"); /* keep this frame: not a tail call */
    return n;
}

TEST(floors, the_stack_walker_names_the_callers_in_order)
{
    ULONG64 returns[8];
    CHAR symbol[96];

    ULONG n = walk_here(returns, ARRAYSIZE(returns));
    REQUIRE(n >= 3); /* this test, the runner, the boot sequence */
    KiFormatReturnAddress(returns[0], symbol, sizeof(symbol));
    CHECK(strncmp(symbol, "irqlab!KtRoutine_floors_the_stack_walker", 40) == 0);
    CHECK_EQ(KiWalkFrameChain(0, NULL, returns, ARRAYSIZE(returns)), 0); /* the end of every chain */
    CHECK_EQ(KiWalkFrameChain(0x1000, NULL, returns, ARRAYSIZE(returns)), 0); /* not a kernel address */
}

TEST(floors, one_symbol_formatter_says_when_it_found_none)
{
    CHAR text[96];

    CHECK(KiFormatSymbol((ULONG_PTR)KeBugCheckEx, text, sizeof(text)));
    CHECK_STR_EQ(text, "irqlab!KeBugCheckEx");
    CHECK(!KiFormatSymbol(0x1000, text, sizeof(text)));
    CHECK_STR_EQ(text, "0000000000001000");
}
