/*
 * hal.c - bringing up this CPU's interrupt hardware (NT's HalInitProcessor):
 * the local APIC with its spurious and error vectors.  The APIC error
 * interrupt reports the error status register and carries on.
 */
#include <arch/apic.h>
#include <arch/arch.h>
#include <irqlab/interrupt.h>
#include <irqlab/rtl.h>
#include <irqlab/vectors.h>
#include "ki.h"

static KINTERRUPT KiApicErrorInterrupt;

static BOOLEAN KiApicErrorService(PKINTERRUPT Interrupt, PVOID Context)
{
    UNREFERENCED_PARAMETER(Context);
    DbgPrint("apic: error interrupt, ESR %08x (%llu so far)\n", apic_read_error(),
             Interrupt->ServiceCount + 1);
    return TRUE;
}

void KiInitializeHal(void)
{
    PCSTR mode = KeGetCommandLineValue("apic");
    BOOLEAN force_xapic = mode && strcmp(mode, "xapic") == 0;

    if (mode && !force_xapic)
        DbgPrint("apic: apic=%s is not known (apic=xapic is); ignoring it\n", mode);
    KiInitializeInterrupts();
    apic_init(force_xapic, SPURIOUS_VECTOR, APIC_ERROR_VECTOR);
    KeInitializeInterrupt(&KiApicErrorInterrupt, KiApicErrorService, NULL, NULL, APIC_ERROR_VECTOR,
                          IPI_LEVEL, IPI_LEVEL, Latched, FALSE);
    if (!KeConnectInterrupt(&KiApicErrorInterrupt))
        KeBugCheckEx(HAL_INITIALIZATION_FAILED, 3, APIC_ERROR_VECTOR, 0, 0);
    DbgPrint("apic: local APIC id %u, %s, version %08x\n", apic_id(),
             apic_is_x2apic() ? "x2APIC (MSRs)" : "xAPIC (MMIO)", apic_read(APIC_VERSION));
}
