/*
 * bugcodes.h - the bugcheck codes irqlab raises, with NT's values (NT's
 * bugcodes.h; Microsoft's "Bug Check Code Reference"), and the shape of a
 * routine that raises one, which the boot sequence hands to the floors below
 * Ke (kernel/mm) so that they stop the system without calling up into Ke.
 */
#ifndef IRQLAB_BUGCODES_H
#define IRQLAB_BUGCODES_H

#include <irqlab/nt.h>

#define IRQL_NOT_GREATER_OR_EQUAL    0x00000009
#define IRQL_NOT_LESS_OR_EQUAL       0x0000000A
#define THREAD_TERMINATE_HELD_MUTEX  0x4000008A
#define MAXIMUM_WAIT_OBJECTS_EXCEEDED 0x0000000C
#define SPIN_LOCK_ALREADY_OWNED      0x0000000F
#define SPIN_LOCK_NOT_OWNED          0x00000010
#define BAD_POOL_HEADER              0x00000019
#define KMODE_EXCEPTION_NOT_HANDLED  0x0000001E
#define KERNEL_APC_PENDING_DURING_EXIT 0x00000020
#define NO_MORE_IRP_STACK_LOCATIONS  0x00000035
#define MULTIPLE_IRP_COMPLETE_REQUESTS 0x00000044
#define PFN_LIST_CORRUPT             0x0000004E
#define HAL_INITIALIZATION_FAILED    0x0000005C
#define INSTALL_MORE_MEMORY          0x0000007D
#define UNEXPECTED_KERNEL_MODE_TRAP  0x0000007F
#define NMI_HARDWARE_FAILURE         0x00000080
#define MACHINE_CHECK_EXCEPTION      0x0000009C
#define ATTEMPTED_SWITCH_FROM_DPC    0x000000B8
#define MUTEX_ALREADY_OWNED          0x000000BF
#define BAD_POOL_CALLER              0x000000C2
#define IRQL_UNEXPECTED_VALUE        0x000000C8
#define MANUALLY_INITIATED_CRASH     0x000000E2
#define LOADER_BLOCK_MISMATCH        0x00000100
#define CLOCK_WATCHDOG_TIMEOUT       0x00000101
#define DPC_WATCHDOG_VIOLATION       0x00000133

/* KeBugCheckEx's shape, for a floor below Ke that is handed it. */
typedef DECLSPEC_NORETURN VOID (*PBUGCHECK_ROUTINE)(ULONG BugCheckCode, ULONG_PTR P1, ULONG_PTR P2, ULONG_PTR P3,
                                                   ULONG_PTR P4);

#endif
