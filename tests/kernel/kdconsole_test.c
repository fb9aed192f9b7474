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

static char KtText[8192];

static PCSTR run(PCSTR Line)
{
    KiCaptureOutput(KtText, sizeof(KtText));
    KdExecuteLine(Line);
    KiCaptureOutput(NULL, 0);
    return KtText;
}

static BOOLEAN contains(PCSTR Text, PCSTR Part)
{
    size_t n = strlen(Part);

    for (; *Text; Text++)
        if (strncmp(Text, Part, n) == 0)
            return TRUE;
    return FALSE;
}

#define CHECK_HAS(text, part)                                                                \
    do {                                                                                     \
        PCSTR t_ = (text);                                                                   \
        if (!CHECK(contains(t_, (part))))                                                    \
            DbgPrint("    # expected '%s' in:\n%s", (part), t_);                             \
    } while (0)

static ULONG count(PCSTR Text, PCSTR Part)
{
    ULONG n = 0;
    size_t len = strlen(Part);

    for (; *Text; Text++)
        n += strncmp(Text, Part, len) == 0;
    return n;
}

TEST(kdconsole, usage_lines_say_hex)
{
    CHECK_HAS(run("help !labirql"), "<irql 0-f hex>");
    CHECK_HAS(run("help !labdpc"), "<count 1-10 hex>");
    CHECK_HAS(run("help !labtimer"), "<due ms hex");
}

TEST(kdconsole, a_refusal_names_the_argument_and_why)
{
    CHECK_HAS(run("!labirql 13 0n100"), "IRQL 13 (0n19) is above HIGH_LEVEL (f)");
    CHECK_HAS(run("!labirql d 0n5000"), "1388 (0n5000) milliseconds");
    CHECK_HAS(KtText, "the 3,000 ms maximum");
    CHECK_HAS(run("!labirql 2 0"), "the hold is 1 to 0n3000 ms");
    CHECK_HAS(run("!labdpc 11"), "Count 11 (0n17) is out of range: 1 to 10 hex (0n16) DPCs");
    CHECK_HAS(run("!labdpc 1 40"), "Processor 40 is not online");
    CHECK_HAS(run("!labtimer 0n700000"), "Due time aae60 (0n700000) ms is out of range");
    CHECK_HAS(run("!labtimer 0n10 0n50"), "Period 32 (0n50) ms is out of range");
}

/* !labdpc on this CPU reports the runs itself; !labrelease after it has nothing new to say. */
TEST(kdconsole, labrelease_reports_each_run_once)
{
    CHECK_HAS(run("!labdpc 10 0"), "Queued 16 medium DPCs for processor 0");
    CHECK_EQ(count(KtText, " ran as number "), 16);
    run("!labrelease");
    CHECK_EQ(count(KtText, " ran as number "), 0);
    CHECK_HAS(KtText, "(no lab DPC ran since the last report)");
    run("!labrelease");
    CHECK_EQ(count(KtText, " ran as number "), 0);
}

TEST(kdconsole, a_dump_stops_at_the_top_of_the_address_space)
{
    CHECK_HAS(run("dq ffffffffffffffff"), "No whole 8-byte unit fits between ffffffffffffffff and the top");
    CHECK(!contains(KtText, "00000000`00000000"));
    run("dq fffffffffffffff0");
    CHECK_EQ(count(KtText, "\n"), 2);
    CHECK_HAS(KtText, "ffffffff`fffffff0  ????????`???????? ????????`????????\n");
    CHECK_HAS(KtText, "(the dump stops at the top of the address space)");
    CHECK_HAS(run("dq"), "Missing address");
    run("db fffffffffffffff8 L20");
    CHECK_EQ(count(KtText, "\n"), 2);
    CHECK(!contains(KtText, "00000000`00000000"));
}

TEST(kdconsole, a_line_too_long_is_said_to_be_cut)
{
    CHAR typed[201], line[KD_LINE_MAX];

    memset(typed, 'x', 200);
    typed[200] = '\r';
    KdInputPush(NULL, typed, sizeof(typed));
    KiCaptureOutput(KtText, sizeof(KtText)); /* the echo */
    ULONG dropped = KdReadLine(line);
    KiCaptureOutput(NULL, 0);
    CHECK_EQ(dropped, 200 - (KD_LINE_MAX - 1));
    CHECK_EQ(strlen(line), KD_LINE_MAX - 1);
    CHECK_HAS(KtText, "Line too long: the editor keeps 159 characters and dropped 41 more; not run");
    KdInputPush(NULL, "short\r", 6);
    KiCaptureOutput(KtText, sizeof(KtText));
    CHECK_EQ(KdReadLine(line), 0);
    KiCaptureOutput(NULL, 0);
    CHECK_STR_EQ(line, "short");
}

TEST(kdconsole, reboot_says_what_no_reboot_makes_of_it)
{
    CHECK_HAS(run("help reboot"), "-no-reboot");
    CHECK_HAS(KtText, "exits instead");
}

/* WinDbg's command names are case-insensitive: students type !IRQL, Help, DT. */
TEST(kdconsole, commands_are_case_insensitive)
{
    CHECK(!contains(run("!IRQL"), "Unknown command"));
    CHECK_HAS(KtText, "IRQL");
    CHECK_HAS(run("Help"), "list the commands");
    CHECK_HAS(run("DT _KDPC"), "+0x038 DpcData");
    CHECK_HAS(run("HELP !LabIrql"), "<irql 0-f hex>");
    CHECK_HAS(run("!NoSuchThing"), "Unknown command '!NoSuchThing'");
}
