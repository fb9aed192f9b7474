/*
 * mutex.c - the kernel mutex (KMUTEX, NT's KMUTANT) and the semaphore
 * (KSEMAPHORE): dispatcher objects whose waits wait.c satisfies.
 *
 * A mutex's SignalState is 1 when free and goes down with each acquire by
 * its owner, so the owner may take it again (recursion) and must release it
 * as often.  Holding a kernel mutex puts the owner in a critical region
 * (its ApcDisable; Microsoft's "Kernel Mutexes": normal kernel APCs are
 * held back).  The owner's KTHREAD.MutantListHead lists what it holds; a
 * thread that ends holding a kernel mutex is NT's bugcheck
 * THREAD_TERMINATE_HELD_MUTEX (thread.c).  Releasing a mutex one does not
 * own raises STATUS_MUTANT_NOT_OWNED in the WRK's KeReleaseMutant, and a
 * semaphore released past its limit STATUS_SEMAPHORE_LIMIT_EXCEEDED: with
 * no handler in kernel mode, both end in 0x1E with that status, as here.
 */
#include <irqlab/thread.h>
#include "ki.h"

VOID KeInitializeMutex(PRKMUTEX Mutex, ULONG Level)
{
    UNREFERENCED_PARAMETER(Level);
    Mutex->Header.Type = MutantObject;
    Mutex->Header.TimerControlFlags = Mutex->Header.Hand = Mutex->Header.TimerMiscFlags = 0;
    Mutex->Header.SignalState = 1;
    InitializeListHead(&Mutex->Header.WaitListHead);
    Mutex->OwnerThread = NULL;
    Mutex->Abandoned = FALSE;
    Mutex->ApcDisable = 1; /* a kernel mutex, not a user-mode mutant */
}

LONG KeReadStateMutex(PRKMUTEX Mutex)
{
    return __atomic_load_n(&Mutex->Header.SignalState, __ATOMIC_ACQUIRE);
}

LONG KeReleaseMutex(PRKMUTEX Mutex, BOOLEAN Wait)
{
    ASSERT(KeGetCurrentIrql() <= DISPATCH_LEVEL);
    KIRQL irql = KiAcquireDispatcherLock();
    PKTHREAD self = KeGetCurrentThread();
    if (Mutex->OwnerThread != self) {
        KiReleaseDispatcherLock(irql);
        KeBugCheckEx(KMODE_EXCEPTION_NOT_HANDLED, (ULONG_PTR)(LONG_PTR)STATUS_MUTANT_NOT_OWNED,
                     (ULONG_PTR)__builtin_return_address(0), (ULONG_PTR)Mutex, (ULONG_PTR)Mutex->OwnerThread);
    }
    LONG previous = Mutex->Header.SignalState++;
    if (Mutex->Header.SignalState == 1) { /* the last release: free, and the first waiter gets it */
        RemoveEntryList(&Mutex->MutantListEntry);
        Mutex->OwnerThread = NULL;
        self->KernelApcDisable += Mutex->ApcDisable; /* its critical region ends */
        if (self->KernelApcDisable == 0 && self->SpecialApcDisable == 0)
            KiCheckForKernelApcDelivery(); /* under the lock: pending, delivered once IRQL drops */
        KiWaitTest(&Mutex->Header, MUTANT_INCREMENT);
    }
    KiEndSignal(irql, Wait);
    return previous;
}

VOID KeInitializeSemaphore(PRKSEMAPHORE Semaphore, LONG Count, LONG Limit)
{
    ASSERT(Count >= 0 && Limit > 0 && Count <= Limit);
    Semaphore->Header.Type = SemaphoreObject;
    Semaphore->Header.TimerControlFlags = Semaphore->Header.Hand = Semaphore->Header.TimerMiscFlags = 0;
    Semaphore->Header.SignalState = Count;
    InitializeListHead(&Semaphore->Header.WaitListHead);
    Semaphore->Limit = Limit;
}

LONG KeReadStateSemaphore(PRKSEMAPHORE Semaphore)
{
    return __atomic_load_n(&Semaphore->Header.SignalState, __ATOMIC_ACQUIRE);
}

LONG KeReleaseSemaphore(PRKSEMAPHORE Semaphore, KPRIORITY Increment, LONG Adjustment, BOOLEAN Wait)
{
    ASSERT(KeGetCurrentIrql() <= DISPATCH_LEVEL);
    KIRQL irql = KiAcquireDispatcherLock();
    LONG previous = Semaphore->Header.SignalState;
    if (Adjustment <= 0 || Adjustment > Semaphore->Limit - previous) {
        KiReleaseDispatcherLock(irql);
        KeBugCheckEx(KMODE_EXCEPTION_NOT_HANDLED, (ULONG_PTR)(LONG_PTR)STATUS_SEMAPHORE_LIMIT_EXCEEDED,
                     (ULONG_PTR)__builtin_return_address(0), (ULONG_PTR)Semaphore, (ULONG_PTR)Adjustment);
    }
    Semaphore->Header.SignalState = previous + Adjustment;
    KiWaitTest(&Semaphore->Header, Increment);
    KiEndSignal(irql, Wait);
    return previous;
}
