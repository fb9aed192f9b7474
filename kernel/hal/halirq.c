/*
 * halirq.c - interrupts between and within processors: software interrupts,
 * IPIs, NMIs and the end of an interrupt, all through the local APIC.  On
 * x64 an interrupt's priority class is vector >> 4, which the APIC compares
 * with CR8 (Intel SDM vol. 3, 10.8.3.1), so a self-IPI on a level's vector
 * is pending until IRQL drops below that level: NT's software interrupts.
 */
#include <arch/apic.h>
#include <irqlab/hal.h>
#include <irqlab/vectors.h>

VOID HalRequestSoftwareInterrupt(KIRQL RequestIrql)
{
    apic_self_ipi(RequestIrql == APC_LEVEL ? APC_VECTOR : DISPATCH_VECTOR);
}

VOID HalSendIpi(ULONG ApicId, ULONG Vector)
{
    apic_send_ipi(ApicId, Vector, APIC_DEST_SINGLE);
}

ULONG HalGetCurrentApicId(VOID)
{
    return apic_id();
}

VOID HalSendNmiToOthers(VOID)
{
    apic_send_nmi(0, APIC_DEST_OTHERS);
}

VOID HalPerformEndOfInterrupt(VOID)
{
    apic_eoi();
}

VOID HalSendSelfIpi(ULONG Vector)
{
    apic_self_ipi(Vector);
}

BOOLEAN HalIsInterruptRequested(ULONG Vector)
{
    return apic_irr_pending(Vector);
}

BOOLEAN HalIsInterruptInService(ULONG Vector)
{
    return apic_in_service(Vector);
}
