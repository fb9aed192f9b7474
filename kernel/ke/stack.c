/*
 * stack.c - the one stack walker (NT's RtlWalkFrameChain): irqlab keeps
 * frame pointers (-fno-omit-frame-pointer), so each frame starts with the
 * caller's RBP and the return address.  The bugcheck report and the
 * console's `k` both walk with it.
 */
#include <irqlab/mm.h>
#include "ki.h"

/* A saved frame pointer we may follow: aligned, in the kernel half, mapped, and above the last one. */
static BOOLEAN frame_ok(ULONG64 Rbp, ULONG64 Previous)
{
    if (Rbp == 0 || (Rbp & 7) || Rbp <= Previous)
        return FALSE;
    if ((Rbp >> 47) != 0x1ffff) /* kernel half, canonical */
        return FALSE;
    return MmIsAddressValid((PVOID)Rbp) && MmIsAddressValid((PVOID)(Rbp + 8));
}

ULONG KiWalkFrameChain(ULONG64 Rbp, ULONG64 *Frames, ULONG64 *ReturnAddresses, ULONG Max)
{
    ULONG n = 0;
    ULONG64 previous = 0;

    while (n < Max && frame_ok(Rbp, previous)) {
        const ULONG64 *frame = (const ULONG64 *)Rbp;
        if (frame[1] == 0)
            break;
        if (Frames)
            Frames[n] = Rbp;
        ReturnAddresses[n++] = frame[1];
        previous = Rbp;
        Rbp = frame[0];
    }
    return n;
}
