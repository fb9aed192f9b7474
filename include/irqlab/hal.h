/*
 * hal.h - the hardware abstraction layer (kernel/hal/), the floor below Ke.
 *
 * First the services a legacy driver uses (NT's wdm.h/ntddk.h names): port
 * I/O, turning an ISA IRQ into a system vector and a device IRQL for
 * KeInitializeInterrupt, stalls.  Then what Ke asks of the interrupt
 * controllers, the clock and the processors, in NT's names where NT's HAL
 * exports one (HalRequestSoftwareInterrupt, HalRequestIpi, HalReturnToFirmware,
 * KeStallExecutionProcessor) and irqlab's own otherwise.  The HAL alone
 * touches the local APIC, the I/O APICs, ACPI's tables and the PIT; it calls
 * only arch/, kernel/mm and kernel/rtl (docs/architecture.md).
 */
#ifndef IRQLAB_HAL_H
#define IRQLAB_HAL_H

#include <irqlab/nt.h>

typedef enum _INTERFACE_TYPE { Internal = 0, Isa = 1 } INTERFACE_TYPE;

/* IRQL: any. */
UCHAR READ_PORT_UCHAR(PUCHAR Port);
VOID WRITE_PORT_UCHAR(PUCHAR Port, UCHAR Value);

/*
 * IRQL: PASSIVE_LEVEL.  For Isa, BusInterruptLevel is the IRQ: routes it
 * (masked, MADT overrides honoured) to CPU 0 and returns its vector, with
 * its DIRQL in *Irql and the CPUs it reaches in *Affinity; 0 when it cannot
 * be routed.  ISA IRQ n gets DIRQL 11 - n / 2 (the 8259's order: a lower
 * IRQ has the higher priority) and vector (DIRQL << 4) | n.
 */
ULONG HalGetInterruptVector(INTERFACE_TYPE InterfaceType, ULONG BusNumber, ULONG BusInterruptLevel,
                            ULONG BusInterruptVector, PKIRQL Irql, PKAFFINITY Affinity);
/* IRQL: <= DISPATCH_LEVEL.  Unmask / mask a vector HalGetInterruptVector routed; FALSE if it did not. */
BOOLEAN HalEnableSystemInterrupt(ULONG Vector, KIRQL Irql, KINTERRUPT_MODE InterruptMode);
VOID HalDisableSystemInterrupt(ULONG Vector, KIRQL Irql);

/* IRQL: any.  What the FADT says of an 8042: 1 present, 0 absent, -1 it does not say. */
LONG HalQuery8042Present(VOID);

/* IRQL: any.  Busy-waits at least MicroSeconds (TSC-timed once the clock is calibrated). */
VOID KeStallExecutionProcessor(ULONG MicroSeconds);

/* ---- for Ke: start-up ------------------------------------------------------------ */
/* Boot CPU, once: ACPI's tables, the I/O APICs (all lines masked), this CPU's local APIC with its
 * spurious and error vectors and its NMI lines; xAPIC even where x2APIC exists when ForceXapic.
 * Returns this CPU's APIC ID. */
ULONG HalInitSystem(ULONG64 Rsdp, BOOLEAN ForceXapic);
/* Each AP, on itself: its local APIC and NMI lines.  Returns its APIC ID. */
ULONG HalInitializeProcessor(VOID);
/* The APIC error vector's service: the error status register (and clears it). */
ULONG HalQueryApicError(VOID);

/* The processors ACPI's MADT lists; FALSE for Index past the end (or no usable MADT). */
typedef struct _HAL_PROCESSOR {
    ULONG ApicId;
    BOOLEAN Enabled;     /* FALSE: absent, or online-capable (hot-add is not supported) */
    BOOLEAN Reachable;   /* FALSE: an APIC ID this APIC mode cannot address (xAPIC: above 254) */
} HAL_PROCESSOR;
BOOLEAN HalQueryProcessor(ULONG Index, HAL_PROCESSOR *Processor);
/* Readies the start-up code below 1 MiB; FALSE when there is no room for it. */
BOOLEAN HalPrepareProcessorStart(VOID);
/* NT's HalStartNextProcessor: INIT-STARTUP-STARTUP to ApicId, which runs Entry(Context) on
 * StackTop with the kernel's page tables, interrupts off.  HalCancelProcessorStart sends one
 * that never answered back to wait-for-STARTUP. */
VOID HalStartProcessor(ULONG ApicId, ULONG64 StackTop, VOID (*Entry)(PVOID), PVOID Context);
VOID HalCancelProcessorStart(ULONG ApicId);

/* ---- for Ke: the clock -------------------------------------------------------------- */
/* Boot CPU, once: measures the TSC and the APIC timer against the PIT; FALSE when the PIT never
 * answered.  Then each CPU (the boot CPU too) starts its periodic clock on Vector at Hz. */
BOOLEAN HalInitializeClock(VOID);
VOID HalStartClock(ULONG Vector, ULONG Hz);
/* TSC ticks per second and where the figure came from ("CPUID 0x15", "PIT", ...); APIC timer Hz. */
ULONG64 HalQueryTscFrequency(PCSTR *Source);
ULONG64 HalQueryApicTimerFrequency(VOID);

/* ---- for Ke: interrupts between and within processors ----------------------------- */
/* NT's HalRequestSoftwareInterrupt: DISPATCH_LEVEL (or APC_LEVEL) pending on this CPU, taken
 * once its IRQL drops below that level (a self-IPI on the level's vector). */
VOID HalRequestSoftwareInterrupt(KIRQL RequestIrql);
/* Vector to the processor with this APIC ID (NT's HalRequestIpi, with the vector named). */
VOID HalSendIpi(ULONG ApicId, ULONG Vector);
/* This processor's local APIC ID. */
ULONG HalGetCurrentApicId(VOID);
/* An NMI to every processor but this one (the bugcheck's freeze). */
VOID HalSendNmiToOthers(VOID);
/* The end of an interrupt at the local APIC (NT's HalEndSystemInterrupt, less the IRQL). */
VOID HalPerformEndOfInterrupt(VOID);
/* For tests and the debugger: raise Vector on this CPU; is it requested (IRR) or in service (ISR)? */
VOID HalSendSelfIpi(ULONG Vector);
BOOLEAN HalIsInterruptRequested(ULONG Vector);
BOOLEAN HalIsInterruptInService(ULONG Vector);

/* For tests: the MADT, FADT and HPET as parsed (arch/acpi.h), or NULL when ACPI was missing or broken. */
struct acpi_info;
const struct acpi_info *HalGetAcpiInfo(VOID);

/* NT's HalReturnToFirmware: HalPowerDownRoutine ends QEMU with status 33 (docs/testing.md),
 * HalRebootRoutine resets the machine (QEMU's -no-reboot makes that an exit too). */
typedef enum _FIRMWARE_REENTRY {
    HalHaltRoutine, HalPowerDownRoutine, HalRestartRoutine, HalRebootRoutine
} FIRMWARE_REENTRY;
DECLSPEC_NORETURN VOID HalReturnToFirmware(FIRMWARE_REENTRY Routine);

#endif
