/*
 * kdframe.c - r on the stopped machine: the registers of the processor ~n
 * selected, as its trap or freeze NMI saved them, in WinDbg's layout, then
 * the instruction it will run; `r <register>=<value>` writes one of them
 * back (it takes effect when the machine goes on).
 */
#include <irqlab/rtl.h>
#include "kd.h"
#include "kdstop.h"

typedef struct _KD_REGISTER {
    PCSTR Name;
    ULONG Offset;
} KD_REGISTER;

#define REG(name, field) { name, offsetof(KTRAP_FRAME, field) }
static const KD_REGISTER KdRegisters[] = {
    REG("rax", Rax), REG("rbx", Rbx), REG("rcx", Rcx), REG("rdx", Rdx), REG("rsi", Rsi), REG("rdi", Rdi),
    REG("rip", Rip), REG("rsp", Rsp), REG("rbp", Rbp), REG("r8", R8), REG("r9", R9), REG("r10", R10),
    REG("r11", R11), REG("r12", R12), REG("r13", R13), REG("r14", R14), REG("r15", R15), REG("efl", EFlags),
};

static ULONG64 *slot(PKTRAP_FRAME Frame, ULONG Index)
{
    return (ULONG64 *)((PUCHAR)Frame + KdRegisters[Index].Offset);
}

BOOLEAN KdStoppedRegisterValue(PCSTR Name, ULONG64 *Value)
{
    ULONG cpu = KdStopState.Context;
    PKTRAP_FRAME f = KdStoppedFrame(cpu);
    PKPRCB prcb = KiProcessorBlock[cpu];

    if (f == NULL)
        return FALSE;
    for (ULONG i = 0; i < ARRAYSIZE(KdRegisters); i++) {
        if (_stricmp(KdRegisters[i].Name, Name) == 0) {
            *Value = *slot(f, i);
            return TRUE;
        }
    }
    if (_stricmp(Name, "$ip") == 0 || _stricmp(Name, "$csp") == 0)
        *Value = _stricmp(Name, "$ip") == 0 ? f->Rip : f->Rsp;
    else if (_stricmp(Name, "cr8") == 0)
        *Value = KdStoppedIrql(cpu);
    else if (_stricmp(Name, "$prcb") == 0 || _stricmp(Name, "$pcr") == 0)
        *Value = _stricmp(Name, "$prcb") == 0 ? (ULONG64)prcb : (ULONG64)CONTAINING_RECORD(prcb, KPCR, Prcb);
    else if (_stricmp(Name, "$thread") == 0)
        *Value = (ULONG64)prcb->CurrentThread;
    else
        return FALSE;
    return TRUE;
}

/* `r name=value`: one register of the stopped processor. */
static VOID write_register(PKTRAP_FRAME Frame, PCSTR Args)
{
    CHAR name[8];
    ULONG n = 0;

    while (Args[n] && Args[n] != '=' && Args[n] != ' ' && n + 1 < sizeof(name)) {
        name[n] = Args[n];
        n++;
    }
    name[n] = 0;
    PCSTR value = Args + n;
    while (*value == ' ' || *value == '=')
        value++;
    for (ULONG i = 0; i < ARRAYSIZE(KdRegisters); i++) {
        ULONG64 v;
        if (strcmp(KdRegisters[i].Name, name) != 0)
            continue;
        if (*value == 0) /* `r rip`: just the one */
            DbgPrint("%s=%016llx\n", name, *slot(Frame, i));
        else if (KdEvaluateText(value, &v))
            *slot(Frame, i) = v;
        return;
    }
    DbgPrint("Bad register error in 'r %s' (rax ... r15, rip, rsp, rbp, efl)\n", Args);
}

VOID KdStoppedRegisters(PCSTR Args)
{
    ULONG cpu = KdStopState.Context;
    PKTRAP_FRAME f = KdStoppedFrame(cpu);

    if (f == NULL) {
        DbgPrint("r: processor %u stopped without its registers\n", cpu);
        return;
    }
    if (!KdAtEnd(Args)) {
        write_register(f, Args);
        return;
    }
    DbgPrint("rax=%016llx rbx=%016llx rcx=%016llx\nrdx=%016llx rsi=%016llx rdi=%016llx\n", f->Rax, f->Rbx,
             f->Rcx, f->Rdx, f->Rsi, f->Rdi);
    DbgPrint("rip=%016llx rsp=%016llx rbp=%016llx\n r8=%016llx  r9=%016llx r10=%016llx\n", f->Rip, f->Rsp,
             f->Rbp, f->R8, f->R9, f->R10);
    DbgPrint("r11=%016llx r12=%016llx r13=%016llx\nr14=%016llx r15=%016llx\n", f->R11, f->R12, f->R13, f->R14,
             f->R15);
    DbgPrint("efl=%08llx  cr8=%u (%s)  processor %u\n", f->EFlags, KdStoppedIrql(cpu), KeIrqlName(KdStoppedIrql(cpu)),
             cpu);
    KdPrintStopPlace(f->Rip);
}
