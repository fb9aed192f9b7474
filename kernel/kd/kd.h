/*
 * kd.h - the kernel debugger console's entry points (kernel/kd/).
 */
#ifndef KERNEL_KD_KD_H
#define KERNEL_KD_KD_H

#include <irqlab/nt.h>

/* Runs the console on this CPU forever: prompt, line editing, commands. */
DECLSPEC_NORETURN VOID KdConsoleLoop(VOID);

#endif
