/*
 * ki.h - kernel-internal (Ki) routines shared between kernel/ files.
 * Not for drivers or tests: they include <irqlab/ke.h>.
 */
#ifndef KERNEL_KE_KI_H
#define KERNEL_KE_KI_H

#include <irqlab/ke.h>
#include <arch/trapframe.h>

struct irqlab_bootinfo;

/* Exit values for isa-debug-exit; QEMU exits with (value << 1) | 1. */
#define KI_EXIT_SUCCESS     0x10 /* status 33 */
#define KI_EXIT_TEST_FAILED 0x11 /* status 35 */
#define KI_EXIT_BUGCHECK    0x12 /* status 37 */

/* init.c */
void KiSystemStartup(ULONG64 BootInfoPhysical);

/* trap.c: called by trap.asm for every vector, interrupts off. */
void KiDispatchTrap(PKTRAP_FRAME TrapFrame);

/* interrupt.c: the vector chains; the dispatcher for vectors 32-255. */
void KiInitializeInterrupts(void);
void KiInterruptDispatch(PKTRAP_FRAME TrapFrame);

/* hal.c: ACPI, the I/O APICs, this CPU's local APIC with its error and NMI lines. */
struct acpi_info;
void KiInitializeHal(ULONG64 Rsdp);
/* The parsed MADT/FADT/HPET, or NULL when ACPI was missing or broken. */
const struct acpi_info *HalGetAcpiInfo(void);

/* clock.c: calibrates the timers and starts the clock interrupt. */
void KiInitializeClock(void);

/* bugcheck.c: the exception path, with the faulting frame for the report. */
DECLSPEC_NORETURN void KiBugCheckWithFrame(ULONG Code, ULONG_PTR P1, ULONG_PTR P2, ULONG_PTR P3,
                                           ULONG_PTR P4, PKTRAP_FRAME TrapFrame);

/* print.c: writes bytes whole under the print lock; Force steals it (bugcheck). */
void KiPrintRaw(const char *Text, size_t Length);
void KiPrintForceUnlock(void);

/* symbols.c: nearest symbol at or below Address; FALSE if none. */
BOOLEAN KiLookupSymbol(ULONG_PTR Address, PCSTR *Name, ULONG_PTR *Offset);
/* Formats "irqlab!Name+0x1c" (or the bare address) into Buffer. */
void KiFormatSymbol(ULONG_PTR Address, char *Buffer, size_t Size);

/* cmdline.c */
void KiParseCommandLine(PCSTR CommandLine);

/* test.c */
BOOLEAN KiTestsRequested(void);
DECLSPEC_NORETURN void KiRunTests(void);
/* Called by the bugcheck path; prints the verdict when a test expects a bugcheck. */
void KiTestBugCheckVerdict(ULONG Code, const ULONG_PTR Parameters[4]);

/* version.c */
extern const char KiVersionString[];

#endif
