/*
 * ke.h - the public kernel interface a driver or test includes: IRQL levels,
 * bugcheck, ASSERT and DbgPrint, with NT's names and signatures.
 */
#ifndef IRQLAB_KE_H
#define IRQLAB_KE_H

#include <irqlab/nt.h>

/* ---- IRQL (x64 NT levels; CR8 holds the current one) ------------------- */
typedef UCHAR KIRQL, *PKIRQL;
#define PASSIVE_LEVEL  0
#define LOW_LEVEL      0
#define APC_LEVEL      1
#define DISPATCH_LEVEL 2
#define CMCI_LEVEL     5
#define SYNCH_LEVEL    12
#define CLOCK_LEVEL    13
#define IPI_LEVEL      14
#define POWER_LEVEL    14
#define PROFILE_LEVEL  15
#define HIGH_LEVEL     15

/* The NT name of a level ("DISPATCH_LEVEL", "DIRQL 5", ...); never NULL. */
const char *KeIrqlName(KIRQL Irql);

/* IRQL: any.  Reads CR8. */
KIRQL KeGetCurrentIrql(VOID);
/* IRQL: any; NewIrql >= current, else bugcheck IRQL_NOT_GREATER_OR_EQUAL (0x9). */
KIRQL KfRaiseIrql(KIRQL NewIrql);
VOID KeRaiseIrql(KIRQL NewIrql, PKIRQL OldIrql);
KIRQL KeRaiseIrqlToDpcLevel(VOID);
KIRQL KeRaiseIrqlToSynchLevel(VOID);
/* IRQL: any; NewIrql <= current, else bugcheck IRQL_NOT_LESS_OR_EQUAL (0xA). */
VOID KeLowerIrql(KIRQL NewIrql);

/* IRQL: any.  Busy-waits at least MicroSeconds (TSC-timed once the clock is calibrated). */
VOID KeStallExecutionProcessor(ULONG MicroSeconds);

/* ---- bugcheck ----------------------------------------------------------- */
#define IRQL_NOT_GREATER_OR_EQUAL    0x00000009
#define IRQL_NOT_LESS_OR_EQUAL       0x0000000A
#define MAXIMUM_WAIT_OBJECTS_EXCEEDED 0x0000000C
#define SPIN_LOCK_ALREADY_OWNED      0x0000000F
#define SPIN_LOCK_NOT_OWNED          0x00000010
#define BAD_POOL_HEADER              0x00000019
#define KMODE_EXCEPTION_NOT_HANDLED  0x0000001E
#define PFN_LIST_CORRUPT             0x0000004E
#define HAL_INITIALIZATION_FAILED    0x0000005C
#define INSTALL_MORE_MEMORY          0x0000007D
#define UNEXPECTED_KERNEL_MODE_TRAP  0x0000007F
#define NMI_HARDWARE_FAILURE         0x00000080
#define MACHINE_CHECK_EXCEPTION      0x0000009C
#define ATTEMPTED_SWITCH_FROM_DPC    0x000000B8
#define BAD_POOL_CALLER              0x000000C2
#define MANUALLY_INITIATED_CRASH     0x000000E2
#define LOADER_BLOCK_MISMATCH        0x00000100
#define CLOCK_WATCHDOG_TIMEOUT       0x00000101
#define DPC_WATCHDOG_VIOLATION       0x00000133

/* IRQL: any.  Stops the system with an NT-style report on serial. */
DECLSPEC_NORETURN VOID KeBugCheckEx(ULONG BugCheckCode, ULONG_PTR P1, ULONG_PTR P2, ULONG_PTR P3,
                                    ULONG_PTR P4);
DECLSPEC_NORETURN VOID KeBugCheck(ULONG BugCheckCode);

/* Name of a bugcheck code as !analyze prints it, or NULL if irqlab has none. */
const char *KeBugCheckName(ULONG BugCheckCode);

/*
 * ASSERT: in debug builds (DBG=1, the default) a false expression bugchecks
 * with KMODE_EXCEPTION_NOT_HANDLED and STATUS_ASSERTION_FAILURE, which is
 * what NT_ASSERT's int 0x2c produces on x64 Windows.
 */
DECLSPEC_NORETURN VOID KiAssertFailed(PCSTR Expression, PCSTR File, ULONG Line);
#if DBG
#define ASSERT(e) ((e) ? (void)0 : KiAssertFailed(#e, __FILE__, __LINE__))
#else
#define ASSERT(e) ((void)0)
#endif

/* ---- debug output --------------------------------------------------------- */
/*
 * IRQL: any.  Each call is written to serial as one unit under a lock, so a
 * caller that prints a whole line per call never has it torn by another CPU.
 * Output longer than 511 bytes is cut and ends in "...".
 */
ULONG DbgPrint(PCSTR Format, ...) __attribute__((format(printf, 1, 2)));

/* ---- kernel command line (key=value words, from \irqlab\cmdline.txt) ----- */
/* The value of key, or NULL if absent; "" for a bare key. */
PCSTR KeGetCommandLineValue(PCSTR Key);

#endif
