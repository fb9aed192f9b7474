/*
 * kdba.c - hardware breakpoints, WinDbg's ba <e|w|r><1|2|4|8> <address>
 * [passes] ["commands"], through the four debug registers (Intel SDM vol. 3,
 * "Debug Registers"), the same on every processor (KeSetDebugRegisters).
 * e stops before the instruction runs (a fault, resumed with EFLAGS.RF set);
 * w and r stop after the access (a trap), r meaning read or write as in
 * WinDbg.  They share the ids, bl, bc, bd, be and the commands with bp.
 */
#include <arch/arch.h>
#include <irqlab/kequery.h>
#include <irqlab/rtl.h>
#include "kd.h"
#include "kdstop.h"

#define KD_TEXT __attribute__((section(".text.kdstop")))
#define BA_USAGE "ba <e|w|r><1|2|4|8> <address> [passes] [\"commands\"]"
#define DEBUG_REGISTERS 4

/* DR7's R/W and LEN fields for one slot (SDM vol. 3, "Debug Control Register (DR7)"). */
static ULONG64 control_bits(const KD_BREAKPOINT *B)
{
    ULONG64 rw = B->Access == 'e' ? 0 : B->Access == 'w' ? 1 : 3;
    ULONG64 len = B->Size == 1 ? 0 : B->Size == 2 ? 1 : B->Size == 8 ? 2 : 3;

    return (1ull << (2 * B->Slot)) | (rw << (16 + 4 * B->Slot)) | (len << (18 + 4 * B->Slot));
}

VOID KdLoadDebugRegisters(VOID)
{
    ULONG64 address[DEBUG_REGISTERS] = { 0 }, control = 0;

    for (LONG i = 0; i < KD_BREAKPOINTS; i++) {
        const KD_BREAKPOINT *b = &KdBreakpoints[i];
        if (b->Used && b->Access && b->Enabled) {
            ASSERT(b->Slot < DEBUG_REGISTERS && !(control & (3ull << (2 * b->Slot)))); /* one ba a register */
            address[b->Slot] = b->Address;
            control |= control_bits(b);
        }
    }
    KeSetDebugRegisters(address, control);
}

KD_TEXT LONG KdHardwareBreakpointHit(ULONG64 Dr6)
{
    for (LONG i = 0; i < KD_BREAKPOINTS; i++) {
        const KD_BREAKPOINT *b = &KdBreakpoints[i];
        if (b->Used && b->Access && b->Enabled && (Dr6 & (1ull << b->Slot)))
            return i;
    }
    return -1;
}

KD_TEXT BOOLEAN KdHardwareExecuteAt(ULONG64 Rip)
{
    for (LONG i = 0; i < KD_BREAKPOINTS; i++) {
        const KD_BREAKPOINT *b = &KdBreakpoints[i];
        if (b->Used && b->Access == 'e' && b->Enabled && b->Address == Rip)
            return TRUE;
    }
    return FALSE;
}

/* The debug register a new ba gets (or its own, redefined); -1 when all four hold one. */
static LONG free_slot(const KD_BREAKPOINT *New)
{
    ULONG used = 0;

    for (LONG i = 0; i < KD_BREAKPOINTS; i++) {
        const KD_BREAKPOINT *b = &KdBreakpoints[i];
        if (b->Used && b->Access && b->Address == New->Address && b->Access == New->Access)
            return b->Slot;
        if (b->Used && b->Access)
            used |= 1u << b->Slot;
    }
    for (LONG slot = 0; slot < DEBUG_REGISTERS; slot++)
        if (!(used & (1u << slot)))
            return slot;
    DbgPrint("ba: all four debug registers (DR0-DR3) hold a breakpoint: bc one of them first (bl lists them)\n");
    return -1;
}

/* "w4" or "w 4": the access and the size. */
static BOOLEAN access_and_size(PCSTR *Args, KD_BREAKPOINT *New)
{
    CHAR word[8];
    ULONG64 size;

    if (!KdNextWord(Args, word, sizeof(word))) {
        DbgPrint("usage: %s\n", BA_USAGE);
        return FALSE;
    }
    New->Access = (CHAR)(word[0] | 0x20);
    if (New->Access != 'e' && New->Access != 'w' && New->Access != 'r') {
        DbgPrint("ba: the access is e (execute), w (write) or r (read or write), not '%c'\n", word[0]);
        return FALSE;
    }
    if (word[1] ? !KdEvaluateText(word + 1, &size) : !KdNextValue(Args, &size, TRUE, "size"))
        return FALSE;
    if (size != 1 && size != 2 && size != 4 && size != 8) {
        DbgPrint("ba: the size is 1, 2, 4 or 8 bytes, not %llu\n", size);
        return FALSE;
    }
    if (New->Access == 'e' && size != 1) {
        DbgPrint("ba e: an execute breakpoint's size is 1 (the debug registers watch an instruction's first byte)\n");
        return FALSE;
    }
    New->Size = (UCHAR)size;
    return TRUE;
}

/* Says why no data breakpoint may watch Address; FALSE when one may. */
static BOOLEAN refuse_data(const KD_BREAKPOINT *New)
{
    CHAR text[24];
    UCHAR probe[8];

    KdFormatAddress(New->Address, text, sizeof(text));
    if (New->Address & (New->Size - 1u)) {
        DbgPrint("ba: %s is not aligned to the size %u (a debug register watches an aligned range)\n", text,
                 New->Size);
        return TRUE;
    }
    if (!KdReadMemory(New->Address, probe, New->Size)) {
        DbgPrint("ba: %s is not mapped: nothing there could be read or written\n", text);
        return TRUE;
    }
    return FALSE;
}

KD_COMMAND(ba, "ba", BA_USAGE, "break on access: a debug register watches an address on every processor")
{
    KD_BREAKPOINT new = { 0 };

    if (!access_and_size(&Args, &new) || !KdNextValue(&Args, &new.Address, TRUE, "address") ||
        !KdParseBreakpointTail(Args, BA_USAGE, &new))
        return;
    if (new.Access == 'e' ? KdRefuseCodeBreakpoint(new.Address) : refuse_data(&new))
        return;
    LONG slot = free_slot(&new);
    if (slot < 0)
        return;
    new.Slot = (UCHAR)slot;
    KdStoreBreakpoint(&new);
}
