/*
 * kdsyntax_test.c - WinDbg's expression syntax as students type it: `?`
 * reads the rest of the line (spaces between terms), registers are terms
 * (@rip, @rsp, @cr8, @$ip, @$thread), poi/qwo/dwo/wo/by read memory, and an
 * error that is not a syntax error is not called one (1/0, poi(0)).
 */
#include <arch/arch.h>
#include <irqlab/prcb.h>
#include <irqlab/rtl.h>
#include <irqlab/test.h>
#include <irqlab/thread.h>
#include <irqlab/kd.h>
#include <irqlab/kequery.h>
#include "kdcapture.h"

/* What `? ...` printed, as a value; FALSE when it printed something else. */
static BOOLEAN evaluated(PCSTR Line, ULONG64 *Value)
{
    static const char prefix[] = "Evaluate expression: ";
    PCSTR out = KtRunLine(Line), p;

    if (strncmp(out, prefix, sizeof(prefix) - 1) != 0 || (p = strchr(out, '=')) == NULL)
        return FALSE;
    ULONG64 v = 0;
    for (p += 2; *p && *p != '\n'; p++)
        if (*p != '`')
            v = v * 16 + (ULONG64)(*p <= '9' ? *p - '0' : *p - 'a' + 10);
    *Value = v;
    return TRUE;
}

#define CHECK_VALUE(line, expected)                                                        \
    do {                                                                                   \
        ULONG64 v_ = 0;                                                                    \
        if (!CHECK(evaluated((line), &v_)) || !CHECK_EQ(v_, (ULONG64)(expected)))          \
            DbgPrint("    # '%s' printed: %s", (line), KtConsoleText);                            \
    } while (0)

TEST(kdsyntax, question_mark_takes_the_rest_of_the_line)
{
    ULONG64 block = (ULONG64)(ULONG_PTR)KiProcessorBlock;

    CHECK_VALUE("? KiProcessorBlock + 8", block + 8);
    CHECK_VALUE("? nt!KiProcessorBlock+8", block + 8);
    CHECK_VALUE("? 1 + 2 * 3", 7);
    CHECK_VALUE("? (1 + 2) * 3", 9);
    CHECK_VALUE("? 0n100 / 0n7 - 1", 0xd);
    CHECK_VALUE("? - 1 + 2", 1);
    CHECK_VALUE("?   10 % 3  ", 1);
    CHECK_STR_EQ(KtRunLine("? 1 2"), "Syntax error in '1 2' at '2': syntax error\n");
    CHECK_STR_EQ(KtRunLine("?"), "Missing expression\n");
}

TEST(kdsyntax, memory_operators_read_sized_values)
{
    static ULONG64 cell = 0x8877665544332211ull;
    char line[64];

    RtlFormat(line, sizeof(line), "? poi(%llx)", (ULONG64)(ULONG_PTR)&cell);
    CHECK_VALUE(line, cell);
    RtlFormat(line, sizeof(line), "? qwo(%llx)", (ULONG64)(ULONG_PTR)&cell);
    CHECK_VALUE(line, cell);
    RtlFormat(line, sizeof(line), "? dwo(%llx) + 1", (ULONG64)(ULONG_PTR)&cell);
    CHECK_VALUE(line, 0x44332212);
    RtlFormat(line, sizeof(line), "? wo( %llx )", (ULONG64)(ULONG_PTR)&cell);
    CHECK_VALUE(line, 0x2211);
    RtlFormat(line, sizeof(line), "? by(%llx + 1)", (ULONG64)(ULONG_PTR)&cell);
    CHECK_VALUE(line, 0x22);
    CHECK_VALUE("? poi(KiProcessorBlock)", (ULONG64)(ULONG_PTR)KiProcessorBlock[0]);
}

TEST(kdsyntax, errors_say_what_kind)
{
    CHECK_STR_EQ(KtRunLine("? 1/0"), "Divide by zero error in '1/0'\n");
    CHECK_STR_EQ(KtRunLine("? 5 % (3 - 3)"), "Divide by zero error in '5 % (3 - 3)'\n");
    CHECK_STR_EQ(KtRunLine("? poi(0)"), "Memory access error at '00000000`00000000'\n");
    CHECK_STR_EQ(KtRunLine("? by(80000000`00000000) + 1"), "Memory access error at '80000000`00000000'\n");
    CHECK_STR_EQ(KtRunLine("? nosuchsymbol + 1"), "Couldn't resolve error at 'nosuchsymbol + 1'\n");
    CHECK_STR_EQ(KtRunLine("? @nosuch"), "Bad register error at '@nosuch'\n");
}

/* Until the debugger stops the machine, registers are the console's own (kernel/kd/kdregs.c). */
TEST(kdsyntax, registers_are_terms)
{
    ULONG64 value = 0, rsp = arch_stack_pointer();
    char line[96];

    CHECK_VALUE("? @cr8", PASSIVE_LEVEL);
    CHECK_VALUE("? @CR8 + 1", PASSIVE_LEVEL + 1);
    CHECK_VALUE("? @$thread", (ULONG64)(ULONG_PTR)KeGetCurrentThread());
    CHECK_VALUE("? @$prcb", (ULONG64)(ULONG_PTR)KeGetCurrentPrcb());
    CHECK_VALUE("? @$pcr", (ULONG64)(ULONG_PTR)KeGetPcr());
    CHECK_VALUE("? @rip - KdRegisterValue", 0); /* the console's rip: the routine that reads it */
    CHECK_VALUE("? @$ip - @rip", 0);
    CHECK_VALUE("? @$csp - @rsp", 0);
    REQUIRE(evaluated("? @rsp", &value));
    CHECK(value < rsp && rsp - value < 0x4000); /* below this test's frame, on the same stack */
    REQUIRE(evaluated("? @rbp", &value));
    CHECK(value < rsp && rsp - value < 0x4000);
    REQUIRE(evaluated("? @rip", &value));
    /* WinDbg's ln: "(start)   symbol   |  (next)   next symbol", then the exact match */
    RtlFormat(line, sizeof(line), "(%08llx`%08llx)   irqlab!KdRegisterValue   |  (", value >> 32, value & 0xffffffff);
    CHECK(strncmp(KtRunLine("ln @rip"), line, strlen(line)) == 0);
    CHECK(KtContains(KtRunLine("ln @$ip + 0"), "\nExact matches:\n    irqlab!KdRegisterValue\n"));
    RtlFormat(line, sizeof(line), "(%08llx`%08llx)   irqlab!KdRegisterValue+0x3   |  (", value >> 32,
              value & 0xffffffff);
    CHECK(strncmp(KtRunLine("ln @rip + 3"), line, strlen(line)) == 0);
    CHECK(!KtContains(KtRunLine("ln @rip + 3"), "Exact matches"));
}
