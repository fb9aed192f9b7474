/*
 * kdbp.c - breakpoints in WinDbg's syntax: bp/bu <address> [passes]
 * ["commands"], bl, bc, bd, be (ids or *); ba's hardware ones (kdba.c)
 * share the table, the ids and these commands.  A breakpoint is an
 * int 3 written over the first byte of an instruction of the kernel's text
 * (KeWriteKernelText: through the physical memory map, so the text stays
 * read-only and executable).  They are in the text while the machine runs
 * and out of it while it is stopped, so that u and db show the code as it
 * is.  Set on the running machine, a change reaches every processor inside
 * one KeIpiGenericCall, each executing a serializing instruction after it
 * (Intel SDM vol. 3, 8.1.3, cross-modifying code).
 */
#include <arch/arch.h>
#include <irqlab/kequery.h>
#include <irqlab/prcb.h>
#include <irqlab/rtl.h>
#include <irqlab/thread.h>
#include "disasm.h"
#include "kd.h"
#include "kdstop.h"

#define KD_TEXT __attribute__((section(".text.kdstop")))
#define INT3 0xcc
#define BP_USAGE "bp <address> [passes] [\"commands\"]"

extern const UCHAR __KdTextStart[], __KdTextEnd[];

KD_BREAKPOINT KdBreakpoints[KD_BREAKPOINTS];

KD_TEXT LONG KdFindBreakpoint(ULONG64 Address)
{
    for (LONG i = 0; i < KD_BREAKPOINTS; i++)
        if (KdBreakpoints[i].Used && !KdBreakpoints[i].Access && KdBreakpoints[i].Address == Address)
            return i;
    return -1;
}

KD_TEXT VOID KdRemoveBreakpoints(VOID)
{
    for (LONG i = 0; i < KD_BREAKPOINTS; i++) {
        KD_BREAKPOINT *b = &KdBreakpoints[i];
        if (b->Inserted)
            KeWriteKernelText(b->Address, b->Original, NULL);
        b->Inserted = FALSE;
    }
}

KD_TEXT VOID KdInsertBreakpoints(ULONG64 Skip)
{
    for (LONG i = 0; i < KD_BREAKPOINTS; i++) {
        KD_BREAKPOINT *b = &KdBreakpoints[i];
        if (b->Used && b->Enabled && !b->Access && !b->Inserted && b->Address != Skip)
            b->Inserted = KeWriteKernelText(b->Address, INT3, &b->Original);
    }
}

/* On every processor at IPI_LEVEL: the caller's processor rewrites, every one serializes after. */
static ULONG_PTR sync_text(ULONG_PTR Writer)
{
    if (KeGetCurrentProcessorNumber() == Writer) {
        KdRemoveBreakpoints();
        KdInsertBreakpoints(0);
    }
    arch_serialize();
    return 0;
}

/* After a change to the table: on the running machine, the text and the debug registers follow it
 * now; on the stopped one, as it goes on. */
static VOID apply(VOID)
{
    KdLoadDebugRegisters();
    if (!KdIsStopped())
        KeIpiGenericCall(sync_text, KeGetCurrentProcessorNumber());
}

/* Is Address the first byte of an instruction of the function it is in? */
static BOOLEAN at_instruction(ULONG64 Address)
{
    PCSTR name;
    ULONG_PTR offset;
    KD_INSTRUCTION ins;
    ULONG64 unreadable;

    if (!KiLookupSymbol((ULONG_PTR)Address, &name, &offset))
        return TRUE; /* no function to decode from: trust it */
    ULONG64 at = Address - offset;
    while (at < Address && KdDecodeAt(at, &ins, &unreadable))
        at += ins.Length;
    return at == Address;
}

/* Routines outside the debugger's text range that a stop calls while its breakpoints are still in
 * the text (the freeze, the text writes, the trap's own lookups): an int 3 there would hit the stop. */
static BOOLEAN used_while_stopping(ULONG64 Address)
{
    static const PCSTR routines[] = {
        "KeGetCurrentProcessorNumber", "memcpy", "memset",
        "HalSendNmiToOthers", "KeStallExecutionProcessor", "KiPrintForceUnlock", "KiBugCheckInProgress",
        "KiFreezeProcessor", "MmGetPhysicalAddress", "KiHoldPrintForStop", "KiReleasePrintAfterStop",
        "KiPrintRaw", "captured", "write_out", "arch_serial_write", "take", "give_back", "me_plus_one",
        "KiCaptureOutput", /* run holding DbgPrint's lock, which the stop takes */
    };
    PCSTR name;
    ULONG_PTR offset;

    if (!KiLookupSymbol((ULONG_PTR)Address, &name, &offset))
        return FALSE;
    for (ULONG i = 0; i < ARRAYSIZE(routines); i++)
        if (strcmp(name, routines[i]) == 0)
            return TRUE;
    return FALSE;
}

static BOOLEAN on_stop_path(ULONG64 Address)
{
    return (Address >= (ULONG64)__KdTextStart && Address < (ULONG64)__KdTextEnd) || used_while_stopping(Address);
}

BOOLEAN KdRefuseCodeBreakpoint(ULONG64 Address)
{
    CHAR where[96], text[24];

    KiFormatSymbol((ULONG_PTR)Address, where, sizeof(where));
    KdFormatAddress(Address, text, sizeof(text));
    if (!KeIsKernelText(Address)) {
        DbgPrint("Cannot set a breakpoint at %s (%s): it is not in the kernel's code\n", text, where);
        return TRUE;
    }
    if (on_stop_path(Address)) {
        DbgPrint("Cannot set a breakpoint at %s (%s): it is on the debugger's own stop path\n", text, where);
        return TRUE;
    }
    if (!at_instruction(Address)) {
        DbgPrint("Cannot set a breakpoint at %s (%s): it is not the start of an instruction (u shows them)\n",
                 text, where);
        return TRUE;
    }
    return FALSE;
}

/* The optional "commands" at the end of a bp line. */
static BOOLEAN quoted(PCSTR Args, CHAR *Out, ULONG Size)
{
    while (*Args == ' ')
        Args++;
    Out[0] = 0;
    if (*Args == 0)
        return TRUE;
    PCSTR end = Args[0] == '"' ? strchr(Args + 1, '"') : NULL;
    if (end == NULL || (ULONG)(end - Args - 1) >= Size || !KdAtEnd(end + 1))
        return FALSE;
    memcpy(Out, Args + 1, (size_t)(end - Args - 1));
    Out[end - Args - 1] = 0;
    return TRUE;
}

BOOLEAN KdParseBreakpointTail(PCSTR Args, PCSTR Usage, KD_BREAKPOINT *New)
{
    ULONG64 passes = 1;

    while (*Args == ' ')
        Args++;
    if (*Args && *Args != '"' && !KdNextValue(&Args, &passes, TRUE, "passes"))
        return FALSE;
    if (!quoted(Args, New->Command, sizeof(New->Command))) {
        DbgPrint("usage: %s (the commands in double quotes, at most %u characters)\n", Usage,
                 (ULONG)sizeof(New->Command) - 1);
        return FALSE;
    }
    New->Passes = New->PassesLeft = (ULONG)passes;
    return TRUE;
}

/* The id a new breakpoint gets: the one already at its address (and access), else the lowest free. */
static LONG id_for(const KD_BREAKPOINT *New)
{
    for (LONG i = 0; i < KD_BREAKPOINTS; i++) {
        KD_BREAKPOINT *b = &KdBreakpoints[i];
        if (b->Used && b->Address == New->Address && b->Access == New->Access) {
            DbgPrint("breakpoint %d redefined\n", i);
            return i;
        }
    }
    for (LONG i = 0; i < KD_BREAKPOINTS; i++)
        if (!KdBreakpoints[i].Used)
            return i;
    DbgPrint("All %u breakpoints are in use: bc one first\n", KD_BREAKPOINTS);
    return -1;
}

LONG KdStoreBreakpoint(const KD_BREAKPOINT *New)
{
    LONG id = id_for(New);

    if (id < 0)
        return -1;
    KD_BREAKPOINT *b = &KdBreakpoints[id];
    BOOLEAN was = b->Used && b->Inserted;
    UCHAR original = b->Original;
    *b = *New;
    b->Used = b->Enabled = TRUE;
    b->Inserted = was;
    b->Original = original;
    apply();
    return id;
}

static VOID set_breakpoint(PCSTR Args)
{
    KD_BREAKPOINT new = { 0 };

    if (!KdNextValue(&Args, &new.Address, TRUE, "address") || !KdParseBreakpointTail(Args, BP_USAGE, &new))
        return;
    if (!KdRefuseCodeBreakpoint(new.Address))
        KdStoreBreakpoint(&new);
}

KD_COMMAND(bp, "bp", BP_USAGE, "set a breakpoint (int 3) at a kernel address; it stops the machine")
{
    set_breakpoint(Args);
}

KD_COMMAND(bu, "bu", "bu <address> [passes] [\"commands\"]", "as bp: every symbol is loaded, so none is unresolved")
{
    set_breakpoint(Args);
}

KD_COMMAND(bl, "bl", "bl", "list the breakpoints")
{
    CHAR text[24], where[96];
    ULONG listed = 0;

    if (!KdNoMoreArguments(Args, "bl"))
        return;
    for (LONG i = 0; i < KD_BREAKPOINTS; i++) {
        KD_BREAKPOINT *b = &KdBreakpoints[i];
        if (!b->Used || b->Temporary)
            continue;
        KdFormatAddress(b->Address, text, sizeof(text));
        if (!KiFormatSymbol((ULONG_PTR)b->Address, where, sizeof(where)))
            where[0] = 0; /* pool, a stack: no symbol to show */
        CHAR kind[8] = "   "; /* WinDbg leaves the access and size column blank for bp */
        if (b->Access)
            RtlFormat(kind, sizeof(kind), "%c %u", b->Access, b->Size);
        DbgPrint("%6d %c %-7s Clear  %s %s %04x (%04x) %s%s%s%s\n", i, b->Enabled ? 'e' : 'd',
                 b->Enabled ? "Disable" : "Enable", text, kind, b->PassesLeft, b->Passes, where,
                 b->Command[0] ? " \"" : "", b->Command, b->Command[0] ? "\"" : "");
        listed++;
    }
    if (listed == 0)
        DbgPrint("No breakpoints\n");
}

/* bc, bd, be: each id or * named, changed by Change. */
static VOID for_each_named(PCSTR Args, PCSTR Usage, VOID (*Change)(KD_BREAKPOINT *))
{
    CHAR word[24];
    ULONG64 id;

    if (KdAtEnd(Args)) {
        DbgPrint("usage: %s\n", Usage);
        return;
    }
    while (KdNextWord(&Args, word, sizeof(word))) {
        if (strcmp(word, "*") == 0) {
            for (LONG i = 0; i < KD_BREAKPOINTS; i++)
                if (KdBreakpoints[i].Used && !KdBreakpoints[i].Temporary)
                    Change(&KdBreakpoints[i]);
        } else if (!KdEvaluateText(word, &id)) {
            return;
        } else if (id >= KD_BREAKPOINTS || !KdBreakpoints[id].Used) {
            DbgPrint("No breakpoint %llu (bl lists them)\n", id);
        } else {
            Change(&KdBreakpoints[id]);
        }
    }
    apply();
}

static VOID clear(KD_BREAKPOINT *B)
{
    B->Enabled = FALSE; /* apply() takes it out of the text, then it is forgotten */
    B->Clearing = TRUE;
}

static VOID disable(KD_BREAKPOINT *B)
{
    B->Enabled = FALSE;
}

static VOID enable(KD_BREAKPOINT *B)
{
    B->Enabled = TRUE;
}

KD_COMMAND(bc, "bc", "bc <id>... | *", "clear breakpoints")
{
    for_each_named(Args, "bc <id>... | *", clear);
    for (LONG i = 0; i < KD_BREAKPOINTS; i++)
        if (KdBreakpoints[i].Clearing && !KdBreakpoints[i].Inserted)
            memset(&KdBreakpoints[i], 0, sizeof(KdBreakpoints[i]));
}

KD_COMMAND(bd, "bd", "bd <id>... | *", "disable breakpoints (bl still lists them)")
{
    for_each_named(Args, "bd <id>... | *", disable);
}

KD_COMMAND(be, "be", "be <id>... | *", "enable breakpoints")
{
    for_each_named(Args, "be <id>... | *", enable);
}

KD_TEXT VOID KdForgetTemporaryBreakpoints(VOID)
{
    for (LONG i = 0; i < KD_BREAKPOINTS; i++)
        if (KdBreakpoints[i].Temporary && !KdBreakpoints[i].Inserted)
            memset(&KdBreakpoints[i], 0, sizeof(KdBreakpoints[i]));
}

BOOLEAN KdSetTemporaryBreakpoint(ULONG64 Address)
{
    if (!KeIsKernelText(Address) || on_stop_path(Address))
        return FALSE;
    if (KdFindBreakpoint(Address) >= 0)
        return TRUE; /* one is there already: it stops there anyway */
    for (LONG i = 0; i < KD_BREAKPOINTS; i++) {
        if (!KdBreakpoints[i].Used) {
            KdBreakpoints[i] = (KD_BREAKPOINT){ .Used = TRUE, .Enabled = TRUE, .Temporary = TRUE,
                                                .Address = Address, .Passes = 1, .PassesLeft = 1,
                                                .Thread = KeGetCurrentThread() };
            return TRUE;
        }
    }
    return FALSE;
}
