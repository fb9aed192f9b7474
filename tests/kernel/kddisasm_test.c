/*
 * kddisasm_test.c - u, ub and uf at the console: WinDbg's columns and
 * symbols, the raise to HIGH_LEVEL inside KeInsertQueueDpc, ub landing on
 * an instruction boundary, and a wild address or a bad argument answered in
 * a line while the console goes on.
 */
#include <irqlab/rtl.h>
#include <irqlab/test.h>
#include <irqlab/kd.h>
#include <irqlab/ke.h>
#include <irqlab/dpc.h>
#include <irqlab/kequery.h>
#include <irqlab/mm.h>
#include "kdcapture.h"

/* Every `lea` line of a listing: no `ptr` (WinDbg gives an address computation no operand size). */
static BOOLEAN lea_lines_have_no_size(PCSTR Text)
{
    for (PCSTR line = Text; *line; line++) {
        if (line != Text && line[-1] != '\n')
            continue;
        PCSTR end = line;
        while (*end && *end != '\n')
            end++;
        for (PCSTR p = line; p + 8 < end; p++)
            if (strncmp(p, " lea     ", 9) == 0 && KtContainsBefore(p, end, "ptr"))
                return FALSE;
    }
    return TRUE;
}

static int hex_digit(char C)
{
    return C >= '0' && C <= '9' ? C - '0' : C >= 'a' && C <= 'f' ? C - 'a' + 10 : -1;
}

/* The Index-th instruction line (labels skipped): its address and how many bytes it shows. */
static BOOLEAN instruction_line(PCSTR Text, ULONG Index, ULONG64 *Address, ULONG *Length)
{
    for (PCSTR line = Text; *line; line++) {
        if (line != Text && line[-1] != '\n')
            continue;
        if (line[8] != '`' || line[17] != ' ' || Index-- != 0)
            continue;
        *Address = 0;
        for (ULONG i = 0; i < 17; i++)
            if (i != 8)
                *Address = *Address * 16 + (ULONG64)hex_digit(line[i]);
        for (*Length = 0; hex_digit(line[18 + 2 * *Length]) >= 0; (*Length)++)
            ;
        return TRUE;
    }
    return FALSE;
}

static VOID format_address(char *Out, size_t Size, ULONG64 Address)
{
    RtlFormat(Out, Size, "%08llx`%08llx", Address >> 32, Address & 0xffffffff);
}

TEST(kddisasm, u_shows_the_cr8_write_in_windbg_columns)
{
    char line[96], address[24];

    PCSTR out = KtRun("u KeRaiseIrql L10", 0);
    CHECK(strncmp(out, "irqlab!KeRaiseIrql:\n", 20) == 0);
    CHECK_HAS(out, "mov     cr8,");
    CHECK_HAS(out, "mov     r12,cr8");
    format_address(address, sizeof(address), (ULONG64)KeRaiseIrql);
    RtlFormat(line, sizeof(line), "\n%s 55              push    rbp\n", address);
    CHECK_HAS(out, line);
    CHECK_HAS(out, "cmp     dil,0Fh\n"); /* MASM numbers, no space after the comma */
    CHECK_HAS(out, "byte ptr [rbx],r12b"); /* a size on every memory operand */
}

TEST(kddisasm, uf_finds_the_raise_to_high_level_in_KeInsertQueueDpc)
{
    PCSTR out = KtRun("uf nt!KeInsertQueueDpc", 0);
    CHECK(strncmp(out, "irqlab!KeInsertQueueDpc:\n", 25) == 0);
    CHECK_HAS(out, ",cr8\n");             /* the caller's level, read in line as Windows' own listing shows */
    CHECK_HAS(out, "mov     eax,0Fh\n"); /* HIGH_LEVEL ... */
    CHECK_HAS(out, "mov     cr8,rax\n"); /* ... written: the raise itself */
    CHECK_HAS(out, " ret\n");
    CHECK_HAS(out, "lock cmpxchg qword ptr ["); /* the claim on KDPC.DpcData (+0x38), whatever registers */
    CHECK_HAS(out, "+38h],");
    CHECK(lea_lines_have_no_size(out)); /* an address computed, not a memory operand */
    CHECK_HAS(out, "\nirqlab!KeInsertQueueDpc+0x"); /* a jump target inside gets its own line */
    CHECK(!KtContains(out, "irqlab!KeInsertQueueDpc:\n" "irqlab!"));
    for (char digit = '0'; digit <= '9'; digit++) { /* 0 to 9 are written without the h */
        char small[5] = { '+', digit, 'h', ']', 0 };
        CHECK(!KtContains(out, small));
    }
    PCSTR last = out + strlen(out) - 1;
    while (last > out && last[-1] != '\n')
        last--;
    CHECK(!KtContains(last, "nop") && !KtContains(last, "int     3")); /* the padding after it is left out */
    out = KtRun("uf KeInsertQueueDpc+5", 0); /* inside a function: the whole function */
    CHECK(strncmp(out, "irqlab!KeInsertQueueDpc:\n", 25) == 0);
}

TEST(kddisasm, ub_ends_on_an_instruction_boundary)
{
    ULONG64 at[7], end, last;
    ULONG length;

    PCSTR out = KtRun("u KeInsertQueueDpc L7", 0);
    for (ULONG i = 0; i < 7; i++)
        REQUIRE(instruction_line(out, i, &at[i], &length));
    end = at[6];
    out = KtRun("ub %llx L4", end);
    REQUIRE(instruction_line(out, 3, &last, &length));
    CHECK_EQ(last + length, end);
    CHECK(!instruction_line(out, 4, &last, &length));
    REQUIRE(instruction_line(out, 0, &last, &length));
    CHECK_EQ(last, at[2]);
    out = KtRun("ub KeInsertQueueDpc L3", 0); /* before a function: the one before it, to its end */
    REQUIRE(instruction_line(out, 2, &last, &length));
    CHECK_EQ(last + length, (ULONG64)KeInsertQueueDpc);
    CHECK_HAS(KtRun("ub %llx", at[1] + 1), "No instruction ends at"); /* inside mov rbp,rsp */
    out = KtRun("u", 0); /* u after ub: from where ub ended */
    REQUIRE(instruction_line(out, 0, &last, &length));
    CHECK_EQ(last, (ULONG64)KeInsertQueueDpc);
}

TEST(kddisasm, u_goes_on_after_the_last_listing)
{
    ULONG64 second, next;
    ULONG length;

    PCSTR out = KtRun("u KeRaiseIrql L2", 0);
    REQUIRE(instruction_line(out, 1, &second, &length));
    out = KtRun("u L1", 0);
    REQUIRE(instruction_line(out, 0, &next, &length));
    CHECK_EQ(next, second + 3); /* mov rbp,rsp: 48 89 e5 */
    CHECK(strncmp(out, "irqlab!KeRaiseIrql+0x4:\n", 24) == 0);
}

TEST(kddisasm, a_wild_address_is_a_memory_error_and_the_console_goes_on)
{
    CHECK_HAS(KtRun("u 0", 0), "Memory access error at '00000000`00000000'");
    CHECK_HAS(KtRun("u 80000000`00000000 L2", 0), "Memory access error at '80000000`00000000'");
    CHECK_HAS(KtRun("uf 0", 0), "Memory access error at '00000000`00000000'");
    CHECK_HAS(KtRun("ub 1000", 0), "Memory access error at '00000000`00000fff'");
    CHECK_HAS(KtRun("u KeRaiseIrql L1", 0), "push    rbp");
}

TEST(kddisasm, bad_arguments_get_the_usage)
{
    PCSTR out = KtRun("u junk", 0);
    CHECK_HAS(out, "Couldn't resolve error at 'junk'");
    CHECK_HAS(out, "usage: u [address] [L<count>]");
    CHECK_HAS(KtRun("u KeRaiseIrql 5", 0), "Expected L<count> after the address, not '5'; usage: u [address] [L<count>]");
    CHECK_HAS(KtRun("u KeRaiseIrql L0", 0), "Range error: L0; u [address] [L<count>] lists 1 to 0x100 instructions");
    CHECK_HAS(KtRun("ub KeRaiseIrql L101", 0), "Range error: L101");
    CHECK_HAS(KtRun("uf", 0), "usage: uf <function>");
    CHECK_HAS(KtRun("uf KeRaiseIrql KeLowerIrql", 0), "Extra arguments 'KeLowerIrql'; usage: uf <function>");
    CHECK_HAS(KtRun("help u", 0), "usage: u [address] [L<count>]");
}

/* Code with no symbol (a pool page): uf follows the flow to the ret, ub guesses a start that resyncs. */
TEST(kddisasm, code_outside_the_image_is_listed_by_its_flow)
{
    static const UCHAR code[] = { 0x31, 0xc0, 0x74, 0x02, 0x90, 0x90, 0xc3, 0xcc, 0xcc, 0xcc };
    UCHAR *page = MmAllocateKernelPages(1);
    ULONG64 last;
    ULONG length;

    REQUIRE(page != NULL);
    memcpy(page + 0x100, code, sizeof(code));
    PCSTR out = KtRun("uf %llx", (ULONG64)page + 0x100);
    CHECK_HAS(out, "xor     eax,eax\n");
    CHECK(KtContains(out, "c3              ret\n") && !KtContains(out, "int     3"));
    REQUIRE(instruction_line(out, 4, &last, &length));
    CHECK_EQ(last, (ULONG64)page + 0x106);
    CHECK(!instruction_line(out, 5, &last, &length));
    out = KtRun("ub %llx L2", (ULONG64)page + 0x106);
    REQUIRE(instruction_line(out, 1, &last, &length));
    CHECK_EQ(last + length, (ULONG64)page + 0x106);
    CHECK_HAS(out, "90              nop\n");
}
