/*
 * hal.h - the HAL services a legacy driver uses (NT's wdm.h/ntddk.h names):
 * port I/O, and turning an ISA IRQ into a system vector and a device IRQL
 * for KeInitializeInterrupt.
 */
#ifndef IRQLAB_HAL_H
#define IRQLAB_HAL_H

#include <irqlab/interrupt.h>

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

#endif
