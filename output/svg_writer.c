/* svg_writer.c - buffered SVG output, numbers and XML text. See svg_writer.h. */
#include "svg_writer.h"

#include <stdbool.h>
#include <string.h>

#include "utf8.h"

void sw_init(svg_writer *w, FILE *f)
{
    w->f = f;
    w->len = 0;
    w->err = 0;
}

void sw_flush(svg_writer *w)
{
    if (w->len && fwrite(w->buf, 1, w->len, w->f) != w->len)
        w->err = 1;
    w->len = 0;
}

void sw_mem_flush(svg_writer *w, const char *s, size_t n)
{
    sw_flush(w);
    if (n > SW_BUF_SIZE) {
        if (fwrite(s, 1, n, w->f) != n)
            w->err = 1;
        return;
    }
    memcpy(w->buf, s, n);
    w->len = n;
}

void sw_u64(svg_writer *w, uint64_t v)
{
    char tmp[20];
    size_t i = sizeof(tmp);
    do {
        tmp[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    sw_mem(w, tmp + i, sizeof(tmp) - i);
}

void sw_commas(svg_writer *w, uint64_t v)
{
    char tmp[32];
    size_t i = sizeof(tmp), digits = 0;
    do {
        if (digits && digits % 3 == 0)
            tmp[--i] = ',';
        tmp[--i] = (char)('0' + v % 10);
        v /= 10;
        digits++;
    } while (v);
    sw_mem(w, tmp + i, sizeof(tmp) - i);
}

/* Plain arithmetic rather than llround, so that the library needs no libm (it is linked
 * into the preload). */
uint64_t sw_round100(double v)
{
    return v > 0 ? (uint64_t)(v * 100 + 0.5) : 0;
}

void sw_fix(svg_writer *w, double v)
{
    uint64_t q = sw_round100(v);
    sw_u64(w, q / 100);
    if (q % 100) {
        char d[3] = { '.', (char)('0' + q / 10 % 10), (char)('0' + q % 10) };
        sw_mem(w, d, q % 10 ? 3 : 2);
    }
}

void sw_dec2(svg_writer *w, double v)
{
    uint64_t q = sw_round100(v);
    char d[3] = { '.', (char)('0' + q / 10 % 10), (char)('0' + q % 10) };
    sw_u64(w, q / 100);
    sw_mem(w, d, 3);
}

double sw_share(uint64_t part, uint64_t total)
{
    return total ? (double)part * 100.0 / (double)total : 0;
}

void sw_pct(svg_writer *w, uint64_t part, uint64_t total)
{
    sw_dec2(w, sw_share(part, total));
}

void sw_rgb(svg_writer *w, const unsigned rgb[3])
{
    sw_str(w, "rgb(");
    for (int i = 0; i < 3; i++) {
        sw_u64(w, rgb[i]);
        sw_str(w, i < 2 ? "," : ")");
    }
}

/* Length of the UTF-8 sequence at s[0..n) if it is a character XML can carry as text, else
 * 0: well-formed UTF-8 (utf8.h), less the C1 controls (U+0080..U+009F) and the
 * non-characters U+FFFE/U+FFFF, which XML 1.0 text must not hold. */
static size_t utf8_char(const unsigned char *s, size_t n)
{
    size_t len = utf8_len(s, n);
    if (len == 2 && s[0] == 0xC2 && s[1] < 0xA0)
        return 0;
    if (len == 3 && s[0] == 0xEF && s[1] == 0xBF && s[2] >= 0xBE)
        return 0;
    return len;
}

/* ASCII that XML text can carry as it is: printable, not markup. */
static bool plain_char(unsigned char c)
{
    return c >= 0x20 && c < 0x7f && c != '&' && c != '<' && c != '>' && c != '"' && c != '\'';
}

size_t sw_text(svg_writer *w, const char *str, size_t n, size_t max)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t chars = 0, i = 0;
    while (i < n && chars < max) {
        size_t j = i;
        while (j < n && chars < max && plain_char(s[j])) { /* the common case, in one copy */
            j++;
            chars++;
        }
        if (w && j > i)
            sw_mem(w, str + i, j - i);
        i = j;
        if (i == n || chars == max)
            break;
        unsigned c = s[i];
        size_t len = c < 0x80 ? 1 : utf8_char(s + i, n - i);
        const char *rep = NULL;
        if (c == '&')
            rep = "&amp;";
        else if (c == '<')
            rep = "&lt;";
        else if (c == '>')
            rep = "&gt;";
        else if (c == '"')
            rep = "&quot;";
        else if (c == '\'')
            rep = "&#39;";
        else if (c < 0x80 || len == 0)
            rep = "?"; /* a control character, or not UTF-8 */
        if (w && rep)
            sw_str(w, rep);
        else if (w)
            sw_mem(w, str + i, len);
        i += len ? len : 1;
        chars++;
    }
    return chars;
}

size_t sw_text_all(svg_writer *w, const char *s)
{
    return sw_text(w, s, strlen(s), SIZE_MAX);
}
