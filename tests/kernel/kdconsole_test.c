/*
 * kdconsole_test.c - what a student meets at the prompt: a refused lab
 * command says which argument is wrong and why (numbers are hex, as in
 * WinDbg), a lab DPC's run is reported once, a dump stops at the top of the
 * address space, a line longer than the editor's buffer is said to be cut,
 * and `reboot` says what QEMU's -no-reboot makes of it.
 */
#include <irqlab/rtl.h>
#include <irqlab/test.h>
#include <irqlab/kd.h>
#include <irqlab/kequery.h>
#include "kdcapture.h"

TEST(kdconsole, usage_lines_say_hex)
{
    CHECK_HAS(KtRunLine("help !labirql"), "<irql 0-f hex>");
    CHECK_HAS(KtRunLine("help !labdpc"), "<count 1-10 hex>");
    CHECK_HAS(KtRunLine("help !labtimer"), "<due ms hex");
}

TEST(kdconsole, a_refusal_names_the_argument_and_why)
{
    CHECK_HAS(KtRunLine("!labirql 13 0n100"), "IRQL 13 (0n19) is above HIGH_LEVEL (f)");
    CHECK_HAS(KtRunLine("!labirql d 0n5000"), "1388 (0n5000) milliseconds");
    CHECK_HAS(KtConsoleText, "the 3,000 ms maximum");
    CHECK_HAS(KtRunLine("!labirql 2 0"), "the hold is 1 to 0n3000 ms");
    CHECK_HAS(KtRunLine("!labdpc 11"), "Count 11 (0n17) is out of range: 1 to 10 hex (0n16) DPCs");
    CHECK_HAS(KtRunLine("!labdpc 1 40"), "Processor 40 is not online");
    CHECK_HAS(KtRunLine("!labtimer 0n700000"), "Due time aae60 (0n700000) ms is out of range");
    CHECK_HAS(KtRunLine("!labtimer 0n10 0n50"), "Period 32 (0n50) ms is out of range");
}

/* !labdpc on this CPU reports the runs itself; !labrelease after it has nothing new to say. */
TEST(kdconsole, labrelease_reports_each_run_once)
{
    CHECK_HAS(KtRunLine("!labdpc 10 0"), "Queued 16 medium DPCs for processor 0");
    CHECK_EQ(KtCount(KtConsoleText, " ran as number "), 16);
    KtRunLine("!labrelease");
    CHECK_EQ(KtCount(KtConsoleText, " ran as number "), 0);
    CHECK_HAS(KtConsoleText, "(no lab DPC ran since the last report)");
    KtRunLine("!labrelease");
    CHECK_EQ(KtCount(KtConsoleText, " ran as number "), 0);
}

TEST(kdconsole, a_dump_stops_at_the_top_of_the_address_space)
{
    CHECK_HAS(KtRunLine("dq ffffffffffffffff"), "No whole 8-byte unit fits between ffffffffffffffff and the top");
    CHECK(!KtContains(KtConsoleText, "00000000`00000000"));
    KtRunLine("dq fffffffffffffff0");
    CHECK_EQ(KtCount(KtConsoleText, "\n"), 2);
    CHECK_HAS(KtConsoleText, "ffffffff`fffffff0  ????????`???????? ????????`????????\n");
    CHECK_HAS(KtConsoleText, "(the dump stops at the top of the address space)");
    CHECK_HAS(KtRunLine("dq"), "Missing address");
    KtRunLine("db fffffffffffffff8 L20");
    CHECK_EQ(KtCount(KtConsoleText, "\n"), 2);
    CHECK(!KtContains(KtConsoleText, "00000000`00000000"));
}

TEST(kdconsole, a_line_too_long_is_said_to_be_cut)
{
    CHAR typed[201], line[KD_LINE_MAX];

    memset(typed, 'x', 200);
    typed[200] = '\r';
    KdInputPush(NULL, typed, sizeof(typed));
    KiCaptureOutput(KtConsoleText, sizeof(KtConsoleText)); /* the echo */
    ULONG dropped = KdReadLine(line);
    KiCaptureOutput(NULL, 0);
    CHECK_EQ(dropped, 200 - (KD_LINE_MAX - 1));
    CHECK_EQ(strlen(line), KD_LINE_MAX - 1);
    CHECK_HAS(KtConsoleText, "Line too long: the editor keeps 159 characters and dropped 41 more; not run");
    KdInputPush(NULL, "short\r", 6);
    KiCaptureOutput(KtConsoleText, sizeof(KtConsoleText));
    CHECK_EQ(KdReadLine(line), 0);
    KiCaptureOutput(NULL, 0);
    CHECK_STR_EQ(line, "short");
}

TEST(kdconsole, reboot_says_what_no_reboot_makes_of_it)
{
    CHECK_HAS(KtRunLine("help reboot"), "-no-reboot");
    CHECK_HAS(KtConsoleText, "exits instead");
}

/* WinDbg's command names are case-insensitive: students type !IRQL, Help, DT. */
TEST(kdconsole, commands_are_case_insensitive)
{
    CHECK(!KtContains(KtRunLine("!IRQL"), "Unknown command"));
    CHECK_HAS(KtConsoleText, "IRQL");
    CHECK_HAS(KtRunLine("Help"), "list the commands");
    CHECK_HAS(KtRunLine("DT _KDPC"), "+0x038 DpcData");
    CHECK_HAS(KtRunLine("HELP !LabIrql"), "<irql 0-f hex>");
    CHECK_HAS(KtRunLine("!NoSuchThing"), "Unknown command '!NoSuchThing'");
}
