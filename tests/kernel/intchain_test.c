/*
 * intchain_test.c - a shared vector's chain, as NT's KiChainedDispatch walks
 * it: level-sensitive routines until the first claims the interrupt, latched
 * ones until a whole pass claims nothing; objects of two modes never share a
 * vector; and KeDisconnectInterrupt returns only once no CPU can still call
 * the object, so its memory may be reused at once.
 */
#include <irqlab/dpc.h>
#include <irqlab/hal.h>
#include <irqlab/interrupt.h>
#include <irqlab/prcb.h>
#include <irqlab/test.h>
#include <irqlab/vectors.h>

#define CHAIN_VECTOR DEVICE_VECTOR(6, 4)

struct claim {
    ULONG Calls;
    ULONG ClaimFirst; /* claims this many of its first calls */
};

static BOOLEAN claiming(PKINTERRUPT Interrupt, PVOID Context)
{
    struct claim *c = Context;

    UNREFERENCED_PARAMETER(Interrupt);
    return c->Calls++ < c->ClaimFirst;
}

/* Two objects share CHAIN_VECTOR; the first claims once; one self-IPI; the calls each got. */
static VOID raise_once(KINTERRUPT_MODE Mode, struct claim *A, struct claim *B)
{
    KINTERRUPT a, b;

    KeInitializeInterrupt(&a, claiming, A, NULL, CHAIN_VECTOR, 6, 6, Mode, TRUE);
    KeInitializeInterrupt(&b, claiming, B, NULL, CHAIN_VECTOR, 6, 6, Mode, TRUE);
    CHECK(KeConnectInterrupt(&a));
    CHECK(KeConnectInterrupt(&b));
    HalSendSelfIpi(CHAIN_VECTOR); /* taken at once: PASSIVE_LEVEL */
    KeStallExecutionProcessor(100);
    KeDisconnectInterrupt(&a);
    KeDisconnectInterrupt(&b);
}

TEST(intchain, level_sensitive_stops_at_the_first_claim)
{
    struct claim a = { 0, 1 }, b = { 0, 0 };

    raise_once(LevelSensitive, &a, &b);
    CHECK_EQ(a.Calls, 1);
    CHECK_EQ(b.Calls, 0);
}

TEST(intchain, latched_walks_again_until_a_pass_claims_nothing)
{
    struct claim a = { 0, 1 }, b = { 0, 0 };

    raise_once(Latched, &a, &b);
    CHECK_EQ(a.Calls, 2); /* claimed in the first pass, so a second pass follows */
    CHECK_EQ(b.Calls, 2);
}

TEST(intchain, two_modes_never_share_a_vector)
{
    KINTERRUPT a, b, c;
    struct claim unused = { 0, 0 };

    KeInitializeInterrupt(&a, claiming, &unused, NULL, CHAIN_VECTOR, 6, 6, Latched, TRUE);
    KeInitializeInterrupt(&b, claiming, &unused, NULL, CHAIN_VECTOR, 6, 6, LevelSensitive, TRUE);
    KeInitializeInterrupt(&c, claiming, &unused, NULL, CHAIN_VECTOR, 6, 6, Latched, FALSE);
    CHECK(KeConnectInterrupt(&a));
    CHECK(!KeConnectInterrupt(&b)); /* another mode */
    CHECK(!KeConnectInterrupt(&c)); /* not shareable */
    CHECK(KeDisconnectInterrupt(&a));
    CHECK(!KeDisconnectInterrupt(&a));
    CHECK(KeConnectInterrupt(&b)); /* the vector is free again */
    CHECK(KeDisconnectInterrupt(&b));
}

/* ---- disconnect while another CPU keeps raising the vector --------------------------- */

struct object {
    KINTERRUPT Interrupt;
    volatile ULONG Alive;
};

static struct object KtObject;
static volatile LONG KtStop, KtCallsAfterDisconnect, KtRaised;
static KDPC KtRaiser;

static BOOLEAN check_alive(PKINTERRUPT Interrupt, PVOID Context)
{
    struct object *o = Context;

    UNREFERENCED_PARAMETER(Interrupt);
    if (o->Alive != 0x11fe)
        __atomic_add_fetch(&KtCallsAfterDisconnect, 1, __ATOMIC_RELAXED);
    return TRUE;
}

/* On the last CPU at DISPATCH_LEVEL: the vector's class is above it, so each self-IPI runs at once. */
static VOID raise_until_stopped(PKDPC Dpc, PVOID Context, PVOID Arg1, PVOID Arg2)
{
    UNREFERENCED_PARAMETER(Dpc);
    UNREFERENCED_PARAMETER(Context);
    UNREFERENCED_PARAMETER(Arg1);
    UNREFERENCED_PARAMETER(Arg2);
    while (!__atomic_load_n(&KtStop, __ATOMIC_ACQUIRE)) {
        HalSendSelfIpi(CHAIN_VECTOR);
        __atomic_add_fetch(&KtRaised, 1, __ATOMIC_RELAXED);
    }
}

TEST(intchain, no_call_after_disconnect_returns)
{
    SKIP_UNLESS(KeNumberProcessors > 1, "needs another CPU to raise the vector");
    KtStop = 0;
    KtCallsAfterDisconnect = 0;
    KtRaised = 0;
    KeInitializeDpc(&KtRaiser, raise_until_stopped, NULL);
    KeSetImportanceDpc(&KtRaiser, HighImportance);
    KeSetTargetProcessorDpc(&KtRaiser, (CCHAR)(KeNumberProcessors - 1));
    KeInsertQueueDpc(&KtRaiser, NULL, NULL);
    for (ULONG round = 0; round < 300; round++) {
        KtObject.Alive = 0x11fe;
        KeInitializeInterrupt(&KtObject.Interrupt, check_alive, &KtObject, NULL, CHAIN_VECTOR, 6, 6, Latched, FALSE);
        CHECK(KeConnectInterrupt(&KtObject.Interrupt));
        KeStallExecutionProcessor(50);
        KeDisconnectInterrupt(&KtObject.Interrupt);
        KtObject.Alive = 0; /* as if freed: no call may come now */
        KeStallExecutionProcessor(20);
    }
    __atomic_store_n(&KtStop, 1, __ATOMIC_RELEASE);
    KeFlushQueuedDpcs();
    CHECK_GT(KtRaised, 300);
    CHECK_EQ(KtCallsAfterDisconnect, 0);
}
