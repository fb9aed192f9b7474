/*
 * kdregs.c - registers and WinDbg's pseudo-registers as expression terms
 * (@rip, @rsp, @rbp, @efl, @cr0, @cr3, @cr4, @cr8, @$ip, @$csp, @$pcr,
 * @$prcb, @$thread; https://learn.microsoft.com/windows-hardware/drivers/debugger/register-syntax
 * and .../pseudo-register-syntax).  On a stopped machine they are the
 * registers of the processor ~n selected, as it stopped (kdframe.c);
 * otherwise the console's own values on the CPU it runs on.
 */
#include <arch/arch.h>
#include <irqlab/rtl.h>
#include <irqlab/thread.h>
#include "kd.h"

BOOLEAN KdRegisterValue(PCSTR Name, ULONG64 *Value)
{
    if (KdIsStopped())
        return KdStoppedRegisterValue(Name, Value);
    /* The console's own rip: this routine, as `r` shows its own command routine. */
    if (_stricmp(Name, "rip") == 0 || _stricmp(Name, "$ip") == 0)
        *Value = (ULONG64)(ULONG_PTR)KdRegisterValue;
    else if (_stricmp(Name, "rsp") == 0 || _stricmp(Name, "$csp") == 0)
        *Value = arch_stack_pointer();
    else if (_stricmp(Name, "rbp") == 0)
        *Value = arch_frame_pointer();
    else if (_stricmp(Name, "efl") == 0)
        *Value = arch_read_flags();
    else if (_stricmp(Name, "cr0") == 0)
        *Value = arch_read_cr0();
    else if (_stricmp(Name, "cr3") == 0)
        *Value = arch_read_cr3();
    else if (_stricmp(Name, "cr4") == 0)
        *Value = arch_read_cr4();
    else if (_stricmp(Name, "cr8") == 0) /* the IRQL, which x64 NT keeps in CR8 (Intel SDM vol. 3, 10.8.6) */
        *Value = KeGetCurrentIrql();
    else if (_stricmp(Name, "$pcr") == 0)
        *Value = (ULONG64)(ULONG_PTR)KeGetPcr();
    else if (_stricmp(Name, "$prcb") == 0)
        *Value = (ULONG64)(ULONG_PTR)KeGetCurrentPrcb();
    else if (_stricmp(Name, "$thread") == 0)
        *Value = (ULONG64)(ULONG_PTR)KeGetCurrentThread();
    else
        return FALSE;
    return TRUE;
}
