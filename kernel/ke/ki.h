/*
 * ki.h - kernel-internal (Ki) routines shared between kernel/ files.
 * Not for drivers or tests: they include <irqlab/ke.h>.
 */
#ifndef KERNEL_KE_KI_H
#define KERNEL_KE_KI_H

#include <arch/arch.h>
#include <irqlab/ke.h>
#include <irqlab/prcb.h>

struct irqlab_bootinfo;

/* Exit values for isa-debug-exit; QEMU exits with (value << 1) | 1. */
#define KI_EXIT_SUCCESS     0x10 /* status 33 */
#define KI_EXIT_TEST_FAILED 0x11 /* status 35 */
#define KI_EXIT_BUGCHECK    0x12 /* status 37 */

/* init.c; the TSC at kernel entry and once every processor was started (boot figures). */
void KiSystemStartup(ULONG64 BootInfoPhysical);
extern ULONG64 KiBootTsc, KiProcessorsUpTsc;

/* processor.c: one CPU's KPCR (with its KPRCB), descriptor tables and stacks. */
enum { KI_STACK_KERNEL, KI_STACK_DPC, KI_STACK_DOUBLE_FAULT, KI_STACK_NMI, KI_STACK_MACHINE_CHECK,
       KI_STACK_COUNT };
typedef struct _KI_PROCESSOR {
    KPCR Pcr;
    UCHAR ArchTables[ARCH_CPU_TABLES_SIZE] __attribute__((aligned(16)));
    ULONG64 StackTop[KI_STACK_COUNT]; /* kept across a failed start, for the next CPU */
} KI_PROCESSOR, *PKI_PROCESSOR;
PKI_PROCESSOR KiBootProcessorBlock(VOID);
/* Zeroes the KPCR and tables and fills in NT's defaults for CPU Number. */
VOID KiInitializeProcessorBlock(PKI_PROCESSOR Processor, ULONG Number, ULONG ApicId);
/* Allocates the stacks still missing and records them in the KPRCB; FALSE when out of memory. */
BOOLEAN KiAllocateProcessorStacks(PKI_PROCESSOR Processor);
VOID KiAddActiveProcessor(PKPRCB Prcb);
VOID KiSnapshotIrql(VOID);

/* mp.c: starts the other CPUs (boot CPU, PASSIVE_LEVEL, interrupts on), at most
 * KiProcessorLimit of them in all (numproc=, else MAXIMUM_PROCESSORS). */
VOID KiStartProcessors(VOID);
extern ULONG KiProcessorLimit;

/* dpc.c: the 0x2F interrupt; the retire loop (DISPATCH_LEVEL), from it and the idle loop. */
VOID KiInitializeDpc(VOID);
VOID KiRetireDpcList(PKPRCB Prcb);

/* idle.c: where every AP ends up, at DISPATCH_LEVEL. */
DECLSPEC_NORETURN VOID KiIdleLoop(VOID);

/* ipi.c */
#define KI_IPI_GENERIC_CALL 0x1 /* run KeIpiGenericCall's function */
#define KI_IPI_DPC          0x2 /* drain the DPC queue (a DISPATCH interrupt on the target) */
VOID KiInitializeIpi(VOID);
/* Sets Request on each CPU in Targets and interrupts it at IPI_LEVEL. */
VOID KiIpiSend(KAFFINITY Targets, ULONG Request);

/* trap.c: called by trap.asm for every vector, interrupts off. */
void KiDispatchTrap(PKTRAP_FRAME TrapFrame);

/* interrupt.c: the vector chains; the dispatcher for vectors 32-255. */
void KiInitializeInterrupts(void);
void KiInterruptDispatch(PKTRAP_FRAME TrapFrame);
/* For the debugger: the KINTERRUPTs chained on a vector (at most Max). */
struct _KINTERRUPT;
ULONG KiQueryVectorInterrupts(ULONG Vector, struct _KINTERRUPT **Interrupts, ULONG Max);
/* A per-processor system vector (clock, IPI, APIC error) at its class's IRQL, with no
 * interrupt lock: every CPU services it independently.  Bugchecks 0x5C if it is taken. */
VOID KiConnectSystemInterrupt(struct _KINTERRUPT *Interrupt,
                              BOOLEAN (*ServiceRoutine)(struct _KINTERRUPT *, PVOID), ULONG Vector);

/* hal.c: ACPI, the I/O APICs, this CPU's local APIC with its error and NMI lines. */
struct acpi_info;
void KiInitializeHal(ULONG64 Rsdp);
/* An AP's own local APIC and NMI lines, after the boot CPU ran KiInitializeHal. */
void KiInitializeHalProcessor(void);
/* The parsed MADT/FADT/HPET, or NULL when ACPI was missing or broken. */
const struct acpi_info *HalGetAcpiInfo(void);

/* clock.c: calibrates the timers and starts the clock interrupt; each AP starts its own. */
void KiInitializeClock(void);
void KiStartClockProcessor(void);

/* runtime.c: NT's KeUpdateRunTime for this CPU's tick, and the tunables it uses (command line). */
extern ULONG KiMaximumDpcQueueDepth, KiMinimumDpcRate, KiIdealDpcRate, KiAdjustDpcThreshold;
VOID KiInitializeRunTime(VOID); /* after the clock: the watchdog limits are in ticks */
VOID KiInitializeRunTimeProcessor(PKPRCB Prcb);
VOID KiUpdateRunTime(PKPRCB Prcb, KIRQL PreviousIrql);
/* Any IRQL: TRUE once the clock watchdog's limit has passed since SinceTsc, read on this same
 * CPU (never when the watchdog is off). */
BOOLEAN KiClockWatchdogExpired(ULONG64 SinceTsc);
BOOLEAN KiClockWatchdogEnabled(VOID);
/* Bugcheck 0x101 CLOCK_WATCHDOG_TIMEOUT for the first CPU in Silent (an affinity mask). */
DECLSPEC_NORETURN VOID KiClockWatchdogTimeout(KAFFINITY Silent);

/* timer.c: the per-CPU timer list; the clock's check (CLOCK_LEVEL); expiry from the retire loop. */
VOID KiInitializeTimerProcessor(PKPRCB Prcb);
VOID KiCheckTimers(PKPRCB Prcb);
VOID KiTimerExpiration(PKPRCB Prcb);
/* For the debugger: a copy of a CPU's set timers, in due order (IRQL <= DISPATCH_LEVEL). */
typedef struct _KI_TIMER_INFO {
    struct _KTIMER *Timer;
    ULONG64 DueTime;
    ULONG Period;
    PKDPC Dpc;
    PKDEFERRED_ROUTINE Routine;
} KI_TIMER_INFO;
ULONG KiQueryTimers(ULONG Processor, KI_TIMER_INFO *Timers, ULONG Max);

/* bugcheck.c: TRUE once some CPU has begun a bugcheck; the others then freeze (no return). */
BOOLEAN KiBugCheckInProgress(void);
DECLSPEC_NORETURN void KiFreezeProcessor(void);
/* bugcheck.c: the exception path, with the faulting frame for the report. */
DECLSPEC_NORETURN void KiBugCheckWithFrame(ULONG Code, ULONG_PTR P1, ULONG_PTR P2, ULONG_PTR P3,
                                           ULONG_PTR P4, PKTRAP_FRAME TrapFrame);

/* print.c: writes bytes whole under the print lock; Force steals it (bugcheck). */
void KiPrintRaw(const char *Text, size_t Length);
void KiPrintForceUnlock(void);
/* Until called again with NULL, this CPU's DbgPrint output goes into Buffer (NUL-terminated,
 * cut at Size) instead of serial; a bugcheck still prints.  For tests of console output. */
VOID KiCaptureOutput(char *Buffer, size_t Size);
/* Bytes printed since the capture began, kept or not (read it before ending the capture). */
size_t KiCapturedLength(VOID);

/* symbols.c: nearest symbol at or below Address; FALSE if none. */
BOOLEAN KiLookupSymbol(ULONG_PTR Address, PCSTR *Name, ULONG_PTR *Offset);
/* The address of the symbol Name[0..Length); FALSE when there is none (a linear search). */
BOOLEAN KiFindSymbol(PCSTR Name, ULONG Length, ULONG_PTR *Address);
/* Formats "irqlab!Name+0x1c" (or the bare address) into Buffer. */
void KiFormatSymbol(ULONG_PTR Address, char *Buffer, size_t Size);
/* The same for a return address on a stack: named after the call it returns from. */
void KiFormatReturnAddress(ULONG_PTR Address, char *Buffer, size_t Size);

/* cmdline.c */
void KiParseCommandLine(PCSTR CommandLine);
/* Key's value as a number in [Minimum, Maximum]; Default when absent or bad (said on serial). */
ULONG KiCommandLineNumber(PCSTR Key, ULONG Minimum, ULONG Maximum, ULONG Default);

/* test.c */
BOOLEAN KiTestsRequested(void);
DECLSPEC_NORETURN void KiRunTests(void);
/* Called by the bugcheck path; prints the verdict when a test expects a bugcheck. */
void KiTestBugCheckVerdict(ULONG Code, const ULONG_PTR Parameters[4]);

/* bench.c: bench= on the command line runs the benchmarks and exits. */
BOOLEAN KiBenchmarksRequested(VOID);
DECLSPEC_NORETURN VOID KiRunBenchmarks(VOID);

/* version.c */
extern const char KiVersionString[];

#endif
