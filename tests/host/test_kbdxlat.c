/*
 * test_kbdxlat.c - the set 1 scan code decoder (kernel/io/kbdxlat.c) fed the
 * byte sequences a real keyboard sends: letters, shifted rows, the locks and
 * their LEDs, Ctrl and Alt, E0 keys with their fake shifts, the keypad both
 * ways, Pause, function keys, unknown codes, the terminal bytes, and every
 * two-byte sequence plus a random stream under the sanitizers.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "kbdxlat.h"
#include "ktap.h"

/*
 * Feeds the bytes and returns what the events say, as the terminal bytes of
 * each with control characters written <xx>, so expectations read "<1b>[A".
 */
static const char *typed(PKBD_DECODER d, const UCHAR *bytes, size_t n)
{
    static char out[256];
    size_t used = 0;

    for (size_t i = 0; i < n; i++) {
        KBD_EVENT e;
        CHAR term[16];
        if (!KbdDecode(d, bytes[i], &e))
            continue;
        ULONG len = KbdEventToTerminal(&e, term, sizeof(term));
        for (ULONG j = 0; j < len && used + 5 < sizeof(out); j++) {
            UCHAR c = (UCHAR)term[j];
            used += c >= 0x20 && c < 0x7f ? (size_t)snprintf(out + used, 2, "%c", c)
                                          : (size_t)snprintf(out + used, 5, "<%02x>", c);
        }
    }
    out[used] = '\0';
    return out;
}
#define TYPE(d, ...) typed(d, (const UCHAR[]){ __VA_ARGS__ }, sizeof((const UCHAR[]){ __VA_ARGS__ }))

/* Feeds the bytes and returns how many returned TRUE; *last is the last event that did. */
static int feed(PKBD_DECODER d, const UCHAR *bytes, size_t n, KBD_EVENT *last)
{
    int events = 0;
    for (size_t i = 0; i < n; i++) {
        KBD_EVENT e;
        if (KbdDecode(d, bytes[i], &e)) {
            events++;
            *last = e;
        }
    }
    return events;
}
#define FEED(d, last, ...) feed(d, (const UCHAR[]){ __VA_ARGS__ }, sizeof((const UCHAR[]){ __VA_ARGS__ }), last)

/* One make and its break; the string of characters codes[0..n) type. */
static const char *press_each(PKBD_DECODER d, const UCHAR *codes, size_t n)
{
    UCHAR bytes[64];
    for (size_t i = 0; i < n; i++) {
        bytes[2 * i] = codes[i];
        bytes[2 * i + 1] = codes[i] | 0x80;
    }
    return typed(d, bytes, 2 * n);
}
#define PRESS_EACH(d, ...) press_each(d, (const UCHAR[]){ __VA_ARGS__ }, sizeof((const UCHAR[]){ __VA_ARGS__ }))

static BOOLEAN same_state(const KBD_DECODER *a, const KBD_DECODER *b)
{
    return a->Extended == b->Extended && a->PauseSkip == b->PauseSkip && a->Leds == b->Leds &&
           a->Held == b->Held;
}

/* The invariants every call keeps, whatever the bytes; counts the calls that broke one. */
static unsigned long check_byte(PKBD_DECODER d, UCHAR byte)
{
    KBD_EVENT e;
    CHAR term[16];
    BOOLEAN got = KbdDecode(d, byte, &e);
    unsigned long bad = 0;
    int kinds = (e.Char != 0) + (e.Key != KBD_KEY_NONE) + (e.LedsChanged != 0);

    bad += got ? kinds != 1 : kinds != 0;
    bad += e.Key > KBD_KEY_F12 || (d->Leds & ~7) != 0 || d->PauseSkip > 5;
    bad += got && !e.LedsChanged && KbdEventToTerminal(&e, term, sizeof(term)) == 0;
    return bad;
}

int main(void)
{
    KBD_DECODER d;
    KBD_EVENT e = { 0 };

    CASE("kbd.letters") {
        KbdDecoderInitialize(&d);
        EXPECT_STR(PRESS_EACH(&d, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19), "qwertyuiop");
        EXPECT_STR(PRESS_EACH(&d, 0x1e, 0x1f, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26), "asdfghjkl");
        EXPECT_STR(PRESS_EACH(&d, 0x2c, 0x2d, 0x2e, 0x2f, 0x30, 0x31, 0x32), "zxcvbnm");
        EXPECT(FEED(&d, &e, 0x1e) == 1 && e.Char == 'a' && e.Key == KBD_KEY_NONE && !e.LedsChanged);
        EXPECT(FEED(&d, &e, 0x9e) == 0);
    }
    CASE("kbd.shift_letters") {
        KbdDecoderInitialize(&d);
        EXPECT_STR(TYPE(&d, 0x2a, 0x30, 0xb0, 0xaa), "B");
        EXPECT_STR(TYPE(&d, 0x30, 0xb0), "b");
        EXPECT_STR(TYPE(&d, 0x36, 0x1e, 0x9e, 0xb6, 0x1e), "Aa");
        /* Both shifts down, one released: still shifted. */
        EXPECT_STR(TYPE(&d, 0x2a, 0x36, 0xaa, 0x1e, 0xb6, 0x1e), "Aa");
        EXPECT(d.Held == 0);
    }
    CASE("kbd.digits_and_punctuation") {
        KbdDecoderInitialize(&d);
        EXPECT_STR(PRESS_EACH(&d, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d),
                   "1234567890-=");
        EXPECT_STR(PRESS_EACH(&d, 0x1a, 0x1b, 0x27, 0x28, 0x29, 0x2b, 0x33, 0x34, 0x35), "[];'`\\,./");
        TYPE(&d, 0x2a);
        EXPECT_STR(PRESS_EACH(&d, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d),
                   "!@#$%^&*()_+");
        EXPECT_STR(PRESS_EACH(&d, 0x1a, 0x1b, 0x27, 0x28, 0x29, 0x2b, 0x33, 0x34, 0x35), "{}:\"~|<>?");
    }
    CASE("kbd.enter_backspace_tab_esc_space") {
        KbdDecoderInitialize(&d);
        EXPECT_STR(PRESS_EACH(&d, 0x1c, 0x0e, 0x0f, 0x01, 0x39), "<0d><7f><09><1b> ");
        EXPECT(FEED(&d, &e, 0xe0, 0x1c, 0xe0, 0x9c) == 1 && e.Char == '\r');
    }
    CASE("kbd.caps_lock") {
        KbdDecoderInitialize(&d);
        EXPECT(FEED(&d, &e, 0x3a) == 1 && e.LedsChanged && e.Char == 0 && e.Key == KBD_KEY_NONE);
        EXPECT(d.Leds == KBD_LED_CAPS);
        EXPECT(FEED(&d, &e, 0xba) == 0 && d.Leds == KBD_LED_CAPS);
        EXPECT_STR(PRESS_EACH(&d, 0x1e, 0x02, 0x1a), "A1[");
        EXPECT_STR(TYPE(&d, 0x2a, 0x1e, 0x9e, 0x02, 0x82, 0xaa), "a!");
        EXPECT(FEED(&d, &e, 0x3a, 0xba) == 1 && e.LedsChanged && d.Leds == 0);
        EXPECT_STR(PRESS_EACH(&d, 0x1e), "a");
    }
    CASE("kbd.held_lock_toggles_once") {
        KbdDecoderInitialize(&d);
        EXPECT(KbdDecode(&d, 0x3a, &e) && e.LedsChanged);
        EXPECT(!KbdDecode(&d, 0x3a, &e) && !e.LedsChanged);
        EXPECT(!KbdDecode(&d, 0x3a, &e) && !e.LedsChanged);
        EXPECT(!KbdDecode(&d, 0xba, &e));
        EXPECT(d.Leds == KBD_LED_CAPS && d.Held == 0);
        EXPECT(FEED(&d, &e, 0x45, 0x45, 0xc5, 0x46, 0x46, 0x46, 0xc6) == 2);
        EXPECT(d.Leds == (KBD_LED_CAPS | KBD_LED_NUM | KBD_LED_SCROLL));
        EXPECT(FEED(&d, &e, 0x46, 0xc6) == 1 && e.LedsChanged && d.Leds == (KBD_LED_CAPS | KBD_LED_NUM));
    }
    CASE("kbd.ctrl") {
        KbdDecoderInitialize(&d);
        EXPECT(FEED(&d, &e, 0x1d, 0x16, 0x96) == 1 && e.Char == 0x15);
        EXPECT_STR(TYPE(&d, 0x1e, 0x2c, 0x2a, 0x1e, 0x02, 0x1a, 0xaa, 0x9d, 0x16), "<01><1a><01>1[u");
        EXPECT_STR(TYPE(&d, 0xe0, 0x1d, 0x2e, 0xe0, 0x9d, 0x2e), "<03>c");
        EXPECT_STR(TYPE(&d, 0x3a, 0xba, 0x1d, 0x1e, 0x9d, 0x1e), "<01>A");
        EXPECT((d.Held & KBD_HELD_CTRL) == 0);
    }
    CASE("kbd.alt_gives_plain_characters") {
        KbdDecoderInitialize(&d);
        EXPECT(FEED(&d, &e, 0x38) == 0 && d.Held == KBD_HELD_LALT);
        EXPECT_STR(TYPE(&d, 0x1e, 0x2a, 0x1e, 0x02, 0xaa), "aA!");
        EXPECT(FEED(&d, &e, 0xb8, 0xe0, 0x38) == 0 && d.Held == KBD_HELD_RALT);
        EXPECT_STR(TYPE(&d, 0x30, 0xe0, 0xb8, 0x30), "bb");
        EXPECT(d.Held == 0);
    }
    CASE("kbd.extended_keys") {
        static const struct {
            UCHAR code;
            USHORT key;
        } nav[] = {
            { 0x48, KBD_KEY_UP },      { 0x50, KBD_KEY_DOWN },      { 0x4b, KBD_KEY_LEFT },
            { 0x4d, KBD_KEY_RIGHT },   { 0x47, KBD_KEY_HOME },      { 0x4f, KBD_KEY_END },
            { 0x49, KBD_KEY_PAGE_UP }, { 0x51, KBD_KEY_PAGE_DOWN }, { 0x52, KBD_KEY_INSERT },
            { 0x53, KBD_KEY_DELETE },
        };
        KbdDecoderInitialize(&d);
        d.Leds = KBD_LED_NUM; /* E0 keys ignore Num Lock */
        for (size_t i = 0; i < ARRAYSIZE(nav); i++) {
            e.Key = KBD_KEY_NONE;
            EXPECT(FEED(&d, &e, 0xe0, nav[i].code, 0xe0, nav[i].code | 0x80) == 1);
            EXPECT(e.Key == nav[i].key && e.Char == 0);
        }
        EXPECT_STR(TYPE(&d, 0xe0, 0x35, 0xe0, 0xb5), "/");
        EXPECT(!d.Extended);
    }
    CASE("kbd.fake_shifts_ignored") {
        KbdDecoderInitialize(&d);
        EXPECT(FEED(&d, &e, 0xe0, 0x2a, 0xe0, 0x48, 0xe0, 0xc8, 0xe0, 0xaa) == 1 && e.Key == KBD_KEY_UP);
        EXPECT(d.Held == 0);
        EXPECT_STR(TYPE(&d, 0x1e), "a");
        /* With a real Shift down the keyboard sends fake breaks first: Shift must stay down. */
        EXPECT_STR(TYPE(&d, 0x36, 0xe0, 0xb6, 0xe0, 0x4b, 0xe0, 0xcb, 0xe0, 0x36, 0x1e, 0xb6, 0x1e),
                   "<1b>[DAa");
        EXPECT(FEED(&d, &e, 0xe0, 0x36) == 0 && d.Held == 0);
    }
    CASE("kbd.keypad_num_lock") {
        KbdDecoderInitialize(&d);
        EXPECT_STR(PRESS_EACH(&d, 0x47, 0x48, 0x49, 0x4a, 0x4b, 0x4c, 0x4d, 0x4e, 0x4f, 0x50, 0x51, 0x52, 0x53),
                   "<1b>[H<1b>[A<1b>[5~-<1b>[D<1b>[C+<1b>[F<1b>[B<1b>[6~<1b>[2~<1b>[3~");
        EXPECT(FEED(&d, &e, 0x4c) == 0);
        EXPECT(FEED(&d, &e, 0x45, 0xc5) == 1 && d.Leds == KBD_LED_NUM);
        EXPECT_STR(PRESS_EACH(&d, 0x47, 0x48, 0x49, 0x4a, 0x4b, 0x4c, 0x4d, 0x4e, 0x4f, 0x50, 0x51, 0x52, 0x53, 0x37),
                   "789-456+1230.*");
    }
    CASE("kbd.pause_is_skipped") {
        KbdDecoderInitialize(&d);
        EXPECT(FEED(&d, &e, 0xe1, 0x1d, 0x45, 0xe1, 0x9d, 0xc5) == 0);
        EXPECT(d.Leds == 0 && d.Held == 0 && d.PauseSkip == 0);
        EXPECT_STR(TYPE(&d, 0x1e), "a");
        EXPECT_STR(TYPE(&d, 0x2a, 0xe1, 0x1d, 0x45, 0xe1, 0x9d, 0xc5, 0x1e, 0xaa), "A");
        /* Exactly the five bytes after E1 are dropped, whatever they are. */
        EXPECT_STR(TYPE(&d, 0xe1, 0x1e, 0x1f, 0x20, 0x21, 0x22, 0x30), "b");
    }
    CASE("kbd.function_keys") {
        static const UCHAR codes[] = { 0x3b, 0x3c, 0x3d, 0x3e, 0x3f, 0x40, 0x41, 0x42, 0x43, 0x44, 0x57, 0x58 };
        KbdDecoderInitialize(&d);
        for (int i = 0; i < 12; i++) {
            e.Key = KBD_KEY_NONE;
            EXPECT(FEED(&d, &e, codes[i], codes[i] | 0x80) == 1);
            EXPECT(e.Key == KBD_KEY_F1 + i && e.Char == 0);
        }
    }
    CASE("kbd.unknown_codes_change_nothing") {
        static const UCHAR unknown[][2] = { { 0x54, 0xd4 }, { 0x56, 0xd6 }, { 0x59, 0xd9 }, { 0x7f, 0xff },
                                            { 0xe0, 0x5b }, { 0xe0, 0x37 }, { 0xe0, 0x4c }, { 0xe0, 0x46 },
                                            { 0xe0, 0x45 }, { 0xe0, 0x3a }, { 0xe0, 0x00 }, { 0x00, 0x80 } };
        KbdDecoderInitialize(&d);
        TYPE(&d, 0x2a, 0x3a, 0xba);
        for (size_t i = 0; i < ARRAYSIZE(unknown); i++) {
            KBD_DECODER before = d;
            EXPECT(FEED(&d, &e, unknown[i][0], unknown[i][1]) == 0);
            EXPECT(same_state(&d, &before));
        }
        EXPECT(d.Held == KBD_HELD_LSHIFT && d.Leds == KBD_LED_CAPS);
    }
    CASE("kbd.terminal_bytes") {
        static const struct {
            USHORT key;
            const char *want;
        } keys[] = {
            { KBD_KEY_UP, "\x1b[A" },         { KBD_KEY_DOWN, "\x1b[B" },       { KBD_KEY_RIGHT, "\x1b[C" },
            { KBD_KEY_LEFT, "\x1b[D" },       { KBD_KEY_HOME, "\x1b[H" },       { KBD_KEY_END, "\x1b[F" },
            { KBD_KEY_INSERT, "\x1b[2~" },    { KBD_KEY_DELETE, "\x1b[3~" },    { KBD_KEY_PAGE_UP, "\x1b[5~" },
            { KBD_KEY_PAGE_DOWN, "\x1b[6~" }, { KBD_KEY_F1, "\x1bOP" },         { KBD_KEY_F1 + 3, "\x1bOS" },
            { KBD_KEY_F1 + 4, "\x1b[15~" },   { KBD_KEY_F1 + 5, "\x1b[17~" },   { KBD_KEY_F1 + 9, "\x1b[21~" },
            { KBD_KEY_F1 + 10, "\x1b[23~" },  { KBD_KEY_F12, "\x1b[24~" },
        };
        CHAR out[8];
        for (size_t i = 0; i < ARRAYSIZE(keys); i++) {
            KBD_EVENT k = { .Key = keys[i].key };
            ULONG n = KbdEventToTerminal(&k, out, sizeof(out));
            EXPECT(n == strlen(keys[i].want) && memcmp(out, keys[i].want, n) == 0);
        }
        KBD_EVENT up = { .Key = KBD_KEY_UP }, x = { .Char = 'x' }, leds = { .LedsChanged = TRUE };
        EXPECT(KbdEventToTerminal(&x, out, 1) == 1 && out[0] == 'x');
        EXPECT(KbdEventToTerminal(&x, out, 0) == 0);
        memset(out, 'z', sizeof(out));
        EXPECT(KbdEventToTerminal(&up, out, 2) == 0 && out[0] == 'z');
        EXPECT(KbdEventToTerminal(&up, out, 3) == 3);
        EXPECT(KbdEventToTerminal(&leds, out, sizeof(out)) == 0);
    }
    CASE("kbd.is_key") {
        EXPECT(KbdIsKey(0x1e) && KbdIsKey(0x01) && KbdIsKey(0x39) && KbdIsKey(0x3b) && KbdIsKey(0x58));
        EXPECT(KbdIsKey(0x48) && KbdIsKey(0x4c) && KbdIsKey(0x37));
        EXPECT(!KbdIsKey(0x2a) && !KbdIsKey(0x36) && !KbdIsKey(0x1d) && !KbdIsKey(0x38));
        EXPECT(!KbdIsKey(0x3a) && !KbdIsKey(0x45) && !KbdIsKey(0x46));
        EXPECT(!KbdIsKey(0x00) && !KbdIsKey(0x54) && !KbdIsKey(0x7f) && !KbdIsKey(0x9e) && !KbdIsKey(0xe0));
    }
    CASE("kbd.every_two_byte_sequence") {
        KBD_DECODER carried;
        unsigned long bad = 0, events = 0;
        KbdDecoderInitialize(&carried);
        for (unsigned pair = 0; pair < 0x10000; pair++) {
            KbdDecoderInitialize(&d);
            bad += check_byte(&d, (UCHAR)(pair >> 8));
            bad += check_byte(&d, (UCHAR)pair);
            bad += check_byte(&carried, (UCHAR)(pair >> 8));
            bad += check_byte(&carried, (UCHAR)pair);
            KbdDecoderInitialize(&d);
            events += FEED(&d, &e, (UCHAR)(pair >> 8), (UCHAR)pair);
        }
        EXPECT(bad == 0);
        EXPECT(events > 10000); /* a decoder that never reports would pass the invariants */
    }
    CASE("kbd.random_stream") {
        uint32_t seed = 12345;
        unsigned long bad = 0;
        KbdDecoderInitialize(&d);
        for (int i = 0; i < 100000; i++) {
            seed = seed * 1103515245u + 12345u; /* fixed LCG: a failure replays */
            bad += check_byte(&d, (UCHAR)(seed >> 16));
        }
        EXPECT(bad == 0);
        /* Whatever the stream left, running out a Pause and releasing everything gives an 'a'. */
        EXPECT_STR(TYPE(&d, 0, 0, 0, 0, 0, 0xaa, 0xb6, 0x9d, 0xe0, 0x9d, 0xb8, 0xe0, 0xb8, 0x1e),
                   d.Leds & KBD_LED_CAPS ? "A" : "a");
    }
    return ktap_finish();
}
