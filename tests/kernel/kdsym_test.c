/*
 * kdsym_test.c - symbols and memory at the prompt, as WinDbg shows them:
 * x <module>!<glob> lists matching symbols with their addresses (nt and
 * irqlab both name the kernel; the output is capped and says how many
 * more), lm shows the image's bounds, dps/dqs name the symbol each pointer
 * falls in, .reload is accepted, and !ipi shows each processor's IPI state.
 */
#include <irqlab/dpc.h>
#include <irqlab/prcb.h>
#include <irqlab/rtl.h>
#include <irqlab/test.h>
#include <irqlab/kd.h>
#include <irqlab/kequery.h>
#include "kdcapture.h"

/* WinDbg's 64-bit address form, for expected lines. */
static PCSTR at(char *Buffer, ULONG64 Address)
{
    RtlFormat(Buffer, 24, "%08llx`%08llx", Address >> 32, Address & 0xffffffff);
    return Buffer;
}

TEST(kdsym, x_lists_matching_symbols_in_either_module)
{
    char a[24], line[96];

    PCSTR out = KtRun("x nt!KeInsertQueue*", 0);
    RtlFormat(line, sizeof(line), "%s irqlab!KeInsertQueueDpc", at(a, (ULONG64)(ULONG_PTR)KeInsertQueueDpc));
    CHECK_LINE(out, line);
    CHECK(KtContains(out, "irqlab!KeInsertQueueApc"));
    CHECK_LINE(KtRun("x irqlab!KeInsertQueue*", 0), line);
    CHECK_LINE(KtRun("X NT!keinsertqueued?c", 0), line); /* command, module and pattern ignore case */
    CHECK_EQ(KtCountLines(KtConsoleText), 1);
    CHECK(KtContains(KtRun("x irqlab!KiRetire*", 0), "irqlab!KiRetireDpcList"));
    CHECK(KtContains(KtRun("x nt!Ke*Dpc*", 0), "irqlab!KeFlushQueuedDpcs"));
}

TEST(kdsym, x_caps_its_output_and_refuses_other_modules)
{
    PCSTR out = KtRun("x nt!*", 0);
    CHECK_EQ(KtCountLines(out), 65);
    CHECK(KtContains(out, "... and "));
    CHECK(KtContains(out, " more matching symbols; narrow the pattern"));
    CHECK_LINE(KtRun("x nt!NoSuchSymbol*", 0), "No symbol matches 'nt!NoSuchSymbol*'");
    CHECK_LINE(KtRun("x hal!Hal*", 0), "No module matches 'hal': the kernel, irqlab (also nt), is the only one; type lm");
    CHECK_LINE(KtRun("x", 0), "Missing pattern; usage: x <module>!<pattern>");
}

TEST(kdsym, lm_shows_the_image)
{
    ULONG_PTR start, end;
    char a[24], b[24], line[128];

    KiQueryImageBounds(&start, &end);
    CHECK(start <= (ULONG_PTR)KeInsertQueueDpc && (ULONG_PTR)KeInsertQueueDpc < end);
    RtlFormat(line, sizeof(line), "%s %s   irqlab     (private symbols, built in)  alias nt", at(a, start),
              at(b, end));
    PCSTR out = KtRun("lm", 0);
    CHECK_LINE(out, "start             end                 module name");
    CHECK_LINE(out, line);
    CHECK_EQ(KtCountLines(out), 2);
    CHECK_LINE(KtRun("lm m nt", 0), line);
    CHECK_EQ(KtCountLines(KtRun("lm m hal", 0)), 1);
    CHECK(KtContains(KtRun("lm x", 0), "usage: lm [m <pattern>]"));
    CHECK_LINE(KtRun(".reload", 0),
               "Symbols are built into the kernel image and always loaded (irqlab, alias nt): nothing to reload");
}

TEST(kdsym, dps_names_the_symbol_of_each_pointer)
{
    static ULONG64 table[3];
    char a[24], v[24], line[128];

    table[0] = (ULONG64)(ULONG_PTR)KeInsertQueueDpc;
    table[1] = 0x1234;
    table[2] = (ULONG64)(ULONG_PTR)KeInsertQueueDpc + 5;
    PCSTR out = KtRun("dps %llx L3", (ULONG64)(ULONG_PTR)table);
    CHECK_EQ(KtCountLines(out), 3);
    RtlFormat(line, sizeof(line), "%s  %s irqlab!KeInsertQueueDpc", at(a, (ULONG64)(ULONG_PTR)table),
              at(v, table[0]));
    CHECK_LINE(out, line);
    RtlFormat(line, sizeof(line), "%s  00000000`00001234", at(a, (ULONG64)(ULONG_PTR)&table[1]));
    CHECK_LINE(out, line);
    RtlFormat(line, sizeof(line), "%s  %s irqlab!KeInsertQueueDpc+0x5", at(a, (ULONG64)(ULONG_PTR)&table[2]),
              at(v, table[2]));
    CHECK_LINE(out, line);
    RtlFormat(line, sizeof(line), "%s  %s irqlab!KeInsertQueueDpc", at(a, (ULONG64)(ULONG_PTR)table),
              at(v, table[0]));
    CHECK_LINE(KtRun("dqs %llx L1", (ULONG64)(ULONG_PTR)table), line);
    CHECK_LINE(KtRun("dps 0 L1", 0), "00000000`00000000  ????????`????????");
    CHECK_EQ(KtCountLines(KtRun("dps", 0)), 0x10); /* goes on after the last, WinDbg's 128 bytes */
    CHECK(KtContains(KtRun("dps 0 L0", 0), "Range error: L0"));
    CHECK(KtContains(KtRun("dps KiProcessorBlock 5", 0), "Expected L<count> after the address, not '5'"));
}

TEST(kdsym, ipi_shows_each_processors_state)
{
    char a[24], prefix[48];

    PCSTR out = KtRun("!ipi", 0);
    CHECK(strncmp(out, "CPU KPRCB             Requests", 30) == 0);
    CHECK_EQ(KtCountLines(out), (ULONG)KeNumberProcessors + 1);
    RtlFormat(prefix, sizeof(prefix), "  0 %s ", at(a, (ULONG64)(ULONG_PTR)KiProcessorBlock[0]));
    CHECK(KtContains(out, prefix));
    out = KtRun("!ipi 0", 0);
    CHECK_EQ(KtCountLines(out), 2);
    CHECK(KtContains(out, prefix));
    CHECK(KtContains(KtRun("!ipi 0n99", 0), "Processor 63 is not online"));
}
