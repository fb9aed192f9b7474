/*
 * halp.h - what the HAL's own files share (kernel/hal/ only).
 */
#ifndef KERNEL_HAL_HALP_H
#define KERNEL_HAL_HALP_H

#include <irqlab/nt.h>

/* hal.c: the boot CPU's APIC ID (device interrupts are routed to it). */
extern ULONG HalpBootApicId;

#endif
