/*
 * bugcallback.c - NT's bugcheck callbacks (KeRegisterBugCheckCallback):
 * routines that a component above Ke hands down and that the bugcheck calls
 * after its report, with the code and parameters in KiBugCheckData as NT
 * keeps them for the debugger.  The test runner's verdict is one; the
 * bugcheck knows no caller by name.
 */
#include <arch/rawlock.h>
#include <irqlab/list.h>
#include "ki.h"

ULONG_PTR KiBugCheckData[5];
static LIST_ENTRY KiBugCheckCallbackList = { &KiBugCheckCallbackList, &KiBugCheckCallbackList };
static ARCH_RAW_LOCK KiBugCheckCallbackLock;

BOOLEAN KeRegisterBugCheckCallback(PKBUGCHECK_CALLBACK_RECORD CallbackRecord,
                                   PKBUGCHECK_CALLBACK_ROUTINE CallbackRoutine, PVOID Buffer, ULONG Length,
                                   PUCHAR Component)
{
    BOOLEAN inserted = FALSE;
    ULONG64 flags = arch_raw_lock_acquire(&KiBugCheckCallbackLock);

    if (CallbackRecord->State == BufferEmpty) { /* NT refuses a record already registered */
        CallbackRecord->CallbackRoutine = CallbackRoutine;
        CallbackRecord->Buffer = Buffer;
        CallbackRecord->Length = Length;
        CallbackRecord->Component = Component;
        CallbackRecord->State = BufferInserted;
        InsertTailList(&KiBugCheckCallbackList, &CallbackRecord->Entry);
        inserted = TRUE;
    }
    arch_raw_lock_release(&KiBugCheckCallbackLock, flags);
    return inserted;
}

BOOLEAN KeDeregisterBugCheckCallback(PKBUGCHECK_CALLBACK_RECORD CallbackRecord)
{
    BOOLEAN removed = FALSE;
    ULONG64 flags = arch_raw_lock_acquire(&KiBugCheckCallbackLock);

    if (CallbackRecord->State == BufferInserted) {
        RemoveEntryList(&CallbackRecord->Entry);
        CallbackRecord->State = BufferEmpty;
        removed = TRUE;
    }
    arch_raw_lock_release(&KiBugCheckCallbackLock, flags);
    return removed;
}

/* The bugcheck, at HIGH_LEVEL with the other CPUs frozen: no lock (its holder may be frozen). */
VOID KiInvokeBugCheckCallbacks(ULONG Code, const ULONG_PTR P[4])
{
    KiBugCheckData[0] = Code;
    for (ULONG i = 0; i < 4; i++)
        KiBugCheckData[i + 1] = P[i];
    for (PLIST_ENTRY e = KiBugCheckCallbackList.Flink; e != &KiBugCheckCallbackList; e = e->Flink) {
        PKBUGCHECK_CALLBACK_RECORD r = CONTAINING_RECORD(e, KBUGCHECK_CALLBACK_RECORD, Entry);
        if (r->State != BufferInserted)
            continue;
        r->State = BufferStarted;
        r->CallbackRoutine(r->Buffer, r->Length);
        r->State = BufferFinished;
    }
}
