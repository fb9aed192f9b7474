/*
 * console.c - the `N: kd> ` prompt: a line editor (Backspace, Ctrl-U,
 * Left/Right, Home/End, Up/Down through the history) reading the one input
 * stream of serial and keyboard (input.c), and the dispatch of a line to
 * the commands registered with KD_COMMAND (the .kdcmds section).
 *
 * Input arrives as a terminal sends it: Escape sequences for the cursor
 * keys, 0x7F or 0x08 for Backspace.  An unknown sequence is dropped whole.
 */
#include <arch/arch.h>
#include <irqlab/interrupt.h>
#include <irqlab/rtl.h>
#include <irqlab/kequery.h>
#include <irqlab/ps.h>
#include <irqlab/thread.h>
#include "kd.h"

#define LINE_MAX KD_LINE_MAX
#define HISTORY  16

extern const KD_COMMAND __start_kdcmds[], __stop_kdcmds[];

static CHAR KdHistory[HISTORY][LINE_MAX];
static ULONG KdHistoryCount; /* lines ever entered; the last HISTORY are kept */

typedef struct _LINE {
    CHAR Text[LINE_MAX];
    ULONG Length, Cursor;
    ULONG Dropped; /* characters typed while the line was full */
} LINE;

/* Case-insensitive, as WinDbg's command names are (!IRQL, Help, DT). */
static const KD_COMMAND *find(PCSTR Name, ULONG Length)
{
    for (const KD_COMMAND *c = __start_kdcmds; c < __stop_kdcmds; c++)
        if (strlen(c->Name) == Length && _strnicmp(c->Name, Name, Length) == 0)
            return c;
    return NULL;
}

VOID KdExecuteLine(PCSTR Line)
{
    while (*Line == ' ')
        Line++;
    ULONG n = 0;
    if (Line[0] == '~')
        n = 1; /* ~1 is WinDbg's "~ 1" */
    else
        while (Line[n] && Line[n] != ' ')
            n++;
    if (n == 0)
        return;
    const KD_COMMAND *c = find(Line, n);
    if (c == NULL) {
        DbgPrint("Unknown command '%.*s'; type help for the list\n", (int)n, Line);
        return;
    }
    if (KdIsStopped() && !KdStoppedAllows(c->Name))
        return;
    PCSTR args = Line + n;
    while (*args == ' ')
        args++;
    c->Run(args);
}

KD_COMMAND(help, "help", "help [command]", "list the commands, or one command's usage")
{
    CHAR name[32];

    if (KdNextWord(&Args, name, sizeof(name))) {
        const KD_COMMAND *c = find(name, strlen(name));
        if (c == NULL)
            DbgPrint("Unknown command '%s'; type help for the list\n", name);
        else
            DbgPrint("usage: %s\n  %s\n", c->Usage, c->Help);
        return;
    }
    /* In name order: the section holds them in link order.  A few dozen: a selection walk will do. */
    for (const KD_COMMAND *last = NULL, *next;; last = next) {
        next = NULL;
        for (const KD_COMMAND *c = __start_kdcmds; c < __stop_kdcmds; c++)
            if ((!last || strcmp(c->Name, last->Name) > 0) && (!next || strcmp(c->Name, next->Name) < 0))
                next = c;
        if (next == NULL)
            break;
        DbgPrint("  %-12s %s\n", next->Name, next->Help);
    }
    DbgPrint("Numbers are hex unless written 0n (decimal) or 0y (binary); `Name`, `nt!Name` or\n"
             "`irqlab!Name` is a symbol; @rip, @rsp, @rbp, @cr8, @$ip, @$prcb, @$pcr, @$thread are registers;\n"
             "expressions take + - * / %% ( ) and poi() qwo() dwo() wo() by().  ? and ln read the rest of\n"
             "the line as one expression; elsewhere an expression is one word, with no spaces.\n");
}

/* ---- the line editor ------------------------------------------------------ */

/* Redraws from the cursor to the end, then puts the terminal's cursor back. */
static VOID redraw_tail(LINE *L, ULONG Erase)
{
    DbgPrint("%.*s%*s", (int)(L->Length - L->Cursor), L->Text + L->Cursor, (int)Erase, "");
    for (ULONG i = L->Cursor; i < L->Length + Erase; i++)
        DbgPrint("\b");
}

static VOID replace_line(LINE *L, PCSTR Text)
{
    ULONG old = L->Length;

    while (L->Cursor > 0) {
        DbgPrint("\b");
        L->Cursor--;
    }
    L->Length = (ULONG)strnlen(Text, LINE_MAX - 1);
    L->Dropped = 0; /* a new line: what the old one lost no longer matters */
    memcpy(L->Text, Text, L->Length);
    L->Cursor = 0;
    redraw_tail(L, old > L->Length ? old - L->Length : 0);
    DbgPrint("%.*s", (int)L->Length, L->Text);
    L->Cursor = L->Length;
}

static VOID insert_char(LINE *L, CHAR C)
{
    if (L->Length == LINE_MAX - 1) {
        DbgPrint("\a"); /* full: refuse, audibly; Enter then says so */
        L->Dropped++;
        return;
    }
    memmove(L->Text + L->Cursor + 1, L->Text + L->Cursor, L->Length - L->Cursor);
    L->Text[L->Cursor] = C;
    L->Length++;
    DbgPrint("%c", C);
    L->Cursor++;
    redraw_tail(L, 0);
}

static VOID backspace(LINE *L)
{
    if (L->Cursor == 0)
        return;
    memmove(L->Text + L->Cursor - 1, L->Text + L->Cursor, L->Length - L->Cursor);
    L->Cursor--;
    L->Length--;
    DbgPrint("\b");
    redraw_tail(L, 1);
}

/* Up (Back > 0) or down through the history; *Index counts back from the newest. */
static VOID recall(LINE *L, ULONG *Index, int Back)
{
    ULONG kept = KdHistoryCount < HISTORY ? KdHistoryCount : HISTORY;
    ULONG want = *Index + (ULONG)Back;

    if ((Back > 0 && *Index >= kept) || (Back < 0 && *Index == 0))
        return;
    *Index = want;
    replace_line(L, want == 0 ? "" : KdHistory[(KdHistoryCount - want) % HISTORY]);
}

/* After ESC: reads the rest of a CSI or SS3 sequence and acts on the keys the editor knows. */
static VOID escape(LINE *L, ULONG *Index)
{
    int c = KdInputWait();
    if (c != '[' && c != 'O')
        return;
    CHAR final = 0, param = 0;
    for (int i = 0; i < 8 && !final; i++) { /* parameters, then the final byte */
        c = KdInputWait();
        if (c >= '0' && c <= '9')
            param = (CHAR)c;
        else
            final = (CHAR)c;
    }
    if (final == 'A')
        recall(L, Index, 1);
    else if (final == 'B')
        recall(L, Index, -1);
    else if (final == 'C' && L->Cursor < L->Length)
        DbgPrint("%c", L->Text[L->Cursor++]);
    else if (final == 'D' && L->Cursor > 0)
        L->Cursor--, DbgPrint("\b");
    else if (final == 'H' || (final == '~' && param == '1'))
        for (; L->Cursor > 0; L->Cursor--)
            DbgPrint("\b");
    else if (final == 'F' || (final == '~' && param == '4'))
        for (; L->Cursor < L->Length; L->Cursor++)
            DbgPrint("%c", L->Text[L->Cursor]);
    else if (final == '~' && param == '3' && L->Cursor < L->Length)
        L->Cursor++, backspace(L);
}

static VOID read_line(LINE *L)
{
    ULONG index = 0;

    L->Length = L->Cursor = L->Dropped = 0;
    for (;;) {
        int c = KdInputWait();
        if (c == '\r' || c == '\n')
            break;
        if (c == 0x7f || c == 0x08)
            backspace(L);
        else if (c == 0x15) /* Ctrl-U */
            replace_line(L, "");
        else if (c == 0x03) /* Ctrl-C: break in, here (WinDbg's Ctrl+Break) */
            DbgBreakPoint();
        else if (c == 0x1b)
            escape(L, &index);
        else if (c >= 0x20 && c < 0x7f)
            insert_char(L, (CHAR)c);
    }
    DbgPrint("\n");
    L->Text[L->Length] = '\0';
}

static VOID remember(PCSTR Text)
{
    if (*Text == '\0' || (KdHistoryCount && strcmp(KdHistory[(KdHistoryCount - 1) % HISTORY], Text) == 0))
        return;
    memcpy(KdHistory[KdHistoryCount % HISTORY], Text, strlen(Text) + 1);
    KdHistoryCount++;
}

ULONG KdReadLine(CHAR *Text)
{
    LINE line;

    read_line(&line);
    memcpy(Text, line.Text, line.Length + 1);
    if (line.Dropped)
        DbgPrint("Line too long: the editor keeps %u characters and dropped %u more; not run (Up recalls the "
                 "kept part)\n", LINE_MAX - 1, line.Dropped);
    return line.Dropped;
}

static DECLSPEC_NORETURN VOID KdConsoleLoop(VOID)
{
    CHAR text[LINE_MAX];

    ULONG64 khz = KeQueryTscFrequency(NULL) / 1000;
    if (khz)
        DbgPrint("boot: kernel entry -> %d processors up in %llu ms -> console in %llu ms\n", KeNumberProcessors,
                 (KiProcessorsUpTsc - KiBootTsc) / khz, (arch_rdtsc() - KiBootTsc) / khz);
    DbgPrint("kd: console ready on COM1 and the keyboard; type help\n");
    for (;;) {
        DbgPrint("%u: kd> ", KeGetCurrentProcessorNumber());
        ULONG dropped = KdReadLine(text);
        remember(text);
        if (dropped == 0) /* a cut command could mean something else: it is not run */
            KdExecuteLine(text);
    }
}

/* A system thread at the priority PsCreateSystemThread gives (8), held to CPU 0 as a driver holds
 * its thread (KeSetSystemAffinityThreadEx): `0: kd>` and the labs that hold CPU 0 count on it. */
static VOID KdConsoleThread(PVOID Context)
{
    UNREFERENCED_PARAMETER(Context);
    KeSetSystemAffinityThreadEx(1);
    KdConsoleLoop();
}

VOID KdStartConsole(VOID)
{
    HANDLE handle;

    ASSERT(KeGetCurrentIrql() == PASSIVE_LEVEL);
    if (!NT_SUCCESS(PsCreateSystemThread(&handle, THREAD_ALL_ACCESS, NULL, NULL, NULL, KdConsoleThread, NULL))) {
        DbgPrint("kd: no thread for the console: it runs in the boot sequence's own thread\n");
        KdConsoleLoop();
    }
    ZwClose(handle);
}
