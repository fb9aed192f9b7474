/*
 * trap.c - KiDispatchTrap, where every vector lands (from trap.asm).
 *
 * A CPU exception in the kernel is fatal, as in NT: irqlab has no exception
 * handlers to unwind to, so each one becomes the bugcheck NT would raise for
 * it.  The one exception is an instruction listed in the fixup table (the
 * debugger's safe copy), which resumes at its fixup, like a __try around a
 * probe.  Vectors from 32 up are interrupts (kernel/ke/interrupt.c), but
 * for 0x2C, NT's assertion trap (ASSERT in include/irqlab/rtl.h); the two
 * software interrupts, 0x1F (apc.c) and 0x2F (dpc.c), have their own.
 */
#include <arch/arch.h>
#include <irqlab/mm.h>
#include <irqlab/vectors.h>
#include "ki.h"

/* x86 exception vector -> NT exception code, as KiXxxFault raises them on x64. */
static NTSTATUS exception_status(ULONG vector)
{
    switch (vector) {
    case 0: return STATUS_INTEGER_DIVIDE_BY_ZERO;
    case 1: return STATUS_SINGLE_STEP;
    case 3: return STATUS_BREAKPOINT;
    case 4: return STATUS_INTEGER_OVERFLOW;
    case 5: return STATUS_ARRAY_BOUNDS_EXCEEDED;
    case 6: return STATUS_ILLEGAL_INSTRUCTION;
    case 13:
    case 14: return STATUS_ACCESS_VIOLATION;
    case 16:
    case 19: return STATUS_FLOAT_MULTIPLE_TRAPS;
    case 17: return STATUS_DATATYPE_MISALIGNMENT;
    default: return STATUS_SUCCESS; /* no NT exception: an unexpected trap */
    }
}

/* ExceptionInformation[0] of an access violation: 0 read, 1 write, 8 execute (DEP). */
static ULONG_PTR page_fault_access(ULONG64 error_code)
{
    if (error_code & 0x10)
        return 8;
    return (error_code & 0x2) ? 1 : 0;
}

/* A #DF whose #PF hit the page below the running thread's stack: say so before NT's 0x7F (P1 8). */
static VOID say_if_stack_overflow(VOID)
{
    PKTHREAD thread = KeGetCurrentThread();
    ULONG64 address = arch_read_cr2(), limit = thread ? (ULONG64)thread->StackLimit : 0;

    if (limit && address < limit && address >= limit - PAGE_SIZE)
        DbgPrint("stack overflow: thread %p ran past the bottom of its kernel stack (%p-%p) into the "
                 "guard page at %p\n", thread, (PVOID)limit, thread->StackBase, (PVOID)address);
}

static void exception_bugcheck(PKTRAP_FRAME f)
{
    ULONG vector = (ULONG)f->Vector;
    NTSTATUS status = exception_status(vector);

    if (vector == 2 && KiBugCheckInProgress()) { /* the reporting CPU stops the others with an NMI */
        PKPRCB prcb = KeGetCurrentPrcb();
        prcb->Irqlab.FrozenRip = f->Rip;
        prcb->Irqlab.FrozenIrql = (KIRQL)arch_read_cr8();
        prcb->Irqlab.FrozenInterruptsOn = (f->EFlags & ARCH_FLAGS_IF) != 0;
        KiFreezeProcessor();
    }
    if (vector == 2 && KiDebuggerFreezeNmi(f)) /* the debugger held this CPU and has let it go */
        return;
    if (vector == 2)
        KiBugCheckWithFrame(NMI_HARDWARE_FAILURE, 0, 0, 0, 0, f);
    if (vector == 18)
        KiBugCheckWithFrame(MACHINE_CHECK_EXCEPTION, 0, 0, 0, 0, f);
    if (vector == 8)
        say_if_stack_overflow();
    if (status == STATUS_SUCCESS) /* #NM, #DF, #TS, #NP, #SS, ... */
        KiBugCheckWithFrame(UNEXPECTED_KERNEL_MODE_TRAP, vector, 0, 0, 0, f);
    ULONG_PTR code = (ULONG_PTR)(LONG_PTR)status;
    if (vector == 14)
        KiBugCheckWithFrame(KMODE_EXCEPTION_NOT_HANDLED, code, f->Rip, page_fault_access(f->ErrorCode),
                            arch_read_cr2(), f);
    /* NT reports a #GP access violation with an unknown address: all ones. */
    KiBugCheckWithFrame(KMODE_EXCEPTION_NOT_HANDLED, code, f->Rip, 0, vector == 13 ? ~0ull : 0, f);
}

extern const arch_fixup __start_kfixup[], __stop_kfixup[];

/* A #PF or #GP on an instruction that expects it (arch_copy_safe): resume at its fixup. */
static BOOLEAN fixup(PKTRAP_FRAME f)
{
    if (f->Vector != 14 && f->Vector != 13)
        return FALSE;
    for (const arch_fixup *e = __start_kfixup; e < __stop_kfixup; e++) {
        if (e->fault_ip == f->Rip) {
            f->Rip = e->resume_ip;
            return TRUE;
        }
    }
    return FALSE;
}

/* int 0x2c, as NT's KiRaiseAssertion: STATUS_ASSERTION_FAILURE at the int, unhandled in kernel mode. */
static DECLSPEC_NORETURN void assertion_bugcheck(PKTRAP_FRAME f)
{
    f->Rip -= 2; /* the trap saved the address after the two-byte int */
    KiBugCheckWithFrame(KMODE_EXCEPTION_NOT_HANDLED, (ULONG_PTR)(LONG_PTR)STATUS_ASSERTION_FAILURE, f->Rip, 0, 0,
                        f);
}

void KiDispatchTrap(PKTRAP_FRAME TrapFrame)
{
    if (TrapFrame->Vector == ASSERTION_VECTOR)
        assertion_bugcheck(TrapFrame);
    if (TrapFrame->Vector == APC_VECTOR) {
        KiApcInterrupt(TrapFrame);
        return;
    }
    if (TrapFrame->Vector == DISPATCH_VECTOR) {
        KiDpcInterrupt(TrapFrame);
        return;
    }
    if (TrapFrame->Vector < 32 && fixup(TrapFrame))
        return;
    if ((TrapFrame->Vector == 1 || TrapFrame->Vector == 3) && KiDebuggerTrap(TrapFrame))
        return;
    if (TrapFrame->Vector < 32) {
        exception_bugcheck(TrapFrame); /* returns only for the debugger's freeze NMI */
        return;
    }
    KiInterruptDispatch(TrapFrame);
}
