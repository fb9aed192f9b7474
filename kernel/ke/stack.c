/*
 * stack.c - the one stack walker (NT's RtlWalkFrameChain, and the trap-frame
 * step of NT's RtlVirtualUnwind): irqlab keeps frame pointers
 * (-fno-omit-frame-pointer), so each frame starts with the caller's RBP and
 * the return address.  Two return addresses change stacks: KiTrapCommon's
 * call into KiDispatchTrap, whose KTRAP_FRAME holds the interrupted RIP, RSP
 * and RBP, and arch_call_on_stack's, whose saved RBP lies on the caller's
 * stack.  The bugcheck report, the console's `k` and `!thread` walk with it
 * and print with KiPrintStack, in WinDbg's columns.
 */
#include <irqlab/mm.h>
#include <irqlab/rtl.h>
#include "ki.h"

/* Whether Size bytes at Address are in the kernel half (canonical) and mapped. */
static BOOLEAN readable(ULONG64 Address, ULONG Size)
{
    if ((Address >> 47) != 0x1ffff || Address + Size < Address)
        return FALSE;
    return MmIsAddressValid((PVOID)Address) && MmIsAddressValid((PVOID)(Address + Size - 1));
}

/* A saved frame pointer we may follow: aligned, readable, and above Floor (the stack grows down). */
static BOOLEAN frame_ok(ULONG64 Rbp, ULONG64 Floor)
{
    return Rbp != 0 && (Rbp & 7) == 0 && Rbp > Floor && readable(Rbp, 16);
}

static VOID add_frame(PKI_STACK_FRAME Frame, ULONG64 Pc, ULONG64 ChildSp, ULONG64 TrapFrame, BOOLEAN Exact)
{
    Frame->Pc = Pc;
    Frame->ChildSp = ChildSp;
    Frame->TrapFrame = TrapFrame;
    Frame->Exact = Exact;
}

/* Whether Address follows a call: e8 rel32, or ff /2 through a register or [register] (Intel SDM vol. 2, CALL). */
static BOOLEAN after_call(ULONG64 Address)
{
    const UCHAR *c = (const UCHAR *)Address;

    if (!readable(Address - 6, 6))
        return FALSE;
    return c[-5] == 0xe8 || (c[-2] == 0xff && (c[-1] & 0x38) == 0x10) || (c[-3] == 0xff && (c[-2] & 0x38) == 0x10);
}

/* An interrupted function that has no frame of its own at Rip: a leaf gcc built without one, or at
 * its first instruction or its ret.  Its return address is then at RSP and RBP is still its
 * caller's.  NT reads this from unwind data (RtlVirtualUnwind); here the prologue says it. */
static BOOLEAN frameless_at(ULONG64 Rip)
{
    PCSTR name;
    ULONG_PTR offset;

    if (!KiLookupSymbol(Rip, &name, &offset) || !readable(Rip - offset, 4) || !readable(Rip, 1))
        return FALSE;
    const UCHAR *start = (const UCHAR *)(Rip - offset);
    BOOLEAN framed = start[0] == 0x55 && start[1] == 0x48 && start[2] == 0x89 && start[3] == 0xe5; /* push rbp; mov rbp, rsp */
    return !framed || offset == 0 || *(const UCHAR *)Rip == 0xc3;
}

ULONG KiWalkStack(ULONG64 Rip, ULONG64 Rsp, ULONG64 Rbp, PKI_STACK_FRAME Frames, ULONG Max)
{
    ULONG n = 0;
    ULONG64 floor = 0;

    if (Rip && n < Max) { /* a stopped context: where it stopped, and its caller if no frame is built yet */
        add_frame(&Frames[n++], Rip, Rsp, 0, TRUE);
        ULONG64 caller = Rsp && readable(Rsp, 8) ? *(const ULONG64 *)Rsp : 0;
        if (n < Max && frameless_at(Rip) && after_call(caller))
            add_frame(&Frames[n++], caller, Rsp + 8, 0, FALSE);
    }
    while (n < Max && frame_ok(Rbp, floor)) {
        const ULONG64 *frame = (const ULONG64 *)Rbp;
        ULONG64 pc = frame[1], trap = Rbp + 16; /* KiTrapCommon's RSP at the call: the KTRAP_FRAME */
        if (pc == 0)
            break;
        floor = Rbp;
        Rbp = frame[0];
        if (pc == arch_call_on_stack_return)
            floor = 0; /* the saved RBP is on the stack arch_call_on_stack was called from */
        if (pc != arch_trap_return || !readable(trap, sizeof(KTRAP_FRAME))) {
            add_frame(&Frames[n++], pc, (ULONG64)(frame + 2), 0, FALSE);
            continue;
        }
        const KTRAP_FRAME *f = (const KTRAP_FRAME *)trap;
        add_frame(&Frames[n++], pc, trap, trap, FALSE);
        if (f->Rip == 0 || n == Max)
            break;
        /* The interrupted instruction itself, as WinDbg shows it below a trap frame. */
        add_frame(&Frames[n++], f->Rip, f->Rsp, 0, TRUE);
        ULONG64 caller = readable(f->Rsp, 8) ? *(const ULONG64 *)f->Rsp : 0;
        if (n < Max && frameless_at(f->Rip) && after_call(caller))
            add_frame(&Frames[n++], caller, f->Rsp + 8, 0, FALSE);
        Rbp = f->Rbp;
        floor = f->Rsp - 8; /* its chain starts at or above the interrupted RSP, on whatever stack that is */
    }
    return n;
}

/* WinDbg's 64-bit form, fffff800`4150b2e0. */
static VOID format_value(CHAR *Out, ULONG Size, ULONG64 Value)
{
    RtlFormat(Out, Size, "%08llx`%08llx", Value >> 32, Value & 0xffffffffull);
}

/* A qword of the stack, or "????????`????????" where it cannot be read (as WinDbg prints it). */
static VOID format_memory(CHAR *Out, ULONG Size, ULONG64 Address)
{
    if (readable(Address, 8))
        format_value(Out, Size, *(const ULONG64 *)Address);
    else
        RtlFormat(Out, Size, "????????`????????");
}

static VOID print_frame(PCSTR Indent, const KI_STACK_FRAME *Frame, ULONG Number, ULONG64 RetAddr, ULONG Flags)
{
    CHAR sp[20], ret[20], args[3][20], site[96], trap[40] = "";

    format_value(sp, sizeof(sp), Frame->ChildSp);
    format_value(ret, sizeof(ret), RetAddr);
    for (ULONG i = 0; i < 3; i++)
        format_memory(args[i], sizeof(args[i]), Frame->ChildSp + 8 * i);
    if (Frame->Exact)
        KiFormatSymbol(Frame->Pc, site, sizeof(site));
    else
        KiFormatReturnAddress(Frame->Pc, site, sizeof(site));
    if ((Flags & KI_STACK_TRAPS) && Frame->TrapFrame)
        RtlFormat(trap, sizeof(trap), " (TrapFrame @ %08llx`%08llx)", Frame->TrapFrame >> 32,
                  Frame->TrapFrame & 0xffffffffull);
    if (Flags & KI_STACK_NUMBERS)
        DbgPrint("%s%02x ", Indent, Number);
    else
        DbgPrint("%s", Indent);
    if (Flags & KI_STACK_ARGS)
        DbgPrint("%s %s     : %s %s %s : %s%s\n", sp, ret, args[0], args[1], args[2], site, trap);
    else
        DbgPrint("%s %s     %s%s\n", sp, ret, site, trap);
}

VOID KiPrintStack(PCSTR Indent, const KI_STACK_FRAME *Frames, ULONG Count, ULONG Flags)
{
    DbgPrint("%s%sChild-SP          RetAddr               %sCall Site\n", Indent,
             (Flags & KI_STACK_NUMBERS) ? " # " : "",
             (Flags & KI_STACK_ARGS) ? ": Args to Child                                         : " : "");
    for (ULONG n = 0; n < Count; n++)
        print_frame(Indent, &Frames[n], n, n + 1 < Count ? Frames[n + 1].Pc : 0, Flags);
}

VOID KiPrintTrapFrame(const KTRAP_FRAME *f)
{
    DbgPrint("rax=%016llx rbx=%016llx rcx=%016llx\n", f->Rax, f->Rbx, f->Rcx);
    DbgPrint("rdx=%016llx rsi=%016llx rdi=%016llx\n", f->Rdx, f->Rsi, f->Rdi);
    DbgPrint("rip=%016llx rsp=%016llx rbp=%016llx\n", f->Rip, f->Rsp, f->Rbp);
    DbgPrint(" r8=%016llx  r9=%016llx r10=%016llx\n", f->R8, f->R9, f->R10);
    DbgPrint("r11=%016llx r12=%016llx r13=%016llx\n", f->R11, f->R12, f->R13);
    DbgPrint("r14=%016llx r15=%016llx\n", f->R14, f->R15);
    DbgPrint("cs=%04llx  ss=%04llx  efl=%08llx  vector=%llu (%s)  error code=%llx\n", f->SegCs,
             f->SegSs, f->EFlags, f->Vector, arch_exception_name((ULONG)f->Vector), f->ErrorCode);
}
