/* shortname.c - short C++ and Rust names; see shortname.h for the contract. */
#include "shortname.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define SN_MAX_DEPTH 64 /* deeper nesting than this is skipped as a whole */

typedef struct sn {
    const char *s;
    size_t len, i;  /* input and read position */
    char *out;
    size_t o, mark; /* write position; where the current word started (for return types) */
} sn;

static bool sn_at(const sn *c, const char *word)
{
    size_t n = strlen(word);
    return c->len - c->i >= n && memcmp(c->s + c->i, word, n) == 0;
}

static void sn_copy(sn *c, size_t n)
{
    memcpy(c->out + c->o, c->s + c->i, n);
    c->o += n;
    c->i += n;
}

/* Skips a (), <> or [] group at c->i, its nested groups included. */
static void sn_skip_group(sn *c)
{
    int depth = 0;
    for (; c->i < c->len; c->i++) {
        char ch = c->s[c->i];
        if (ch == '(' || ch == '<' || ch == '[')
            depth++;
        else if ((ch == ')' || ch == '>' || ch == ']') && --depth == 0) {
            c->i++;
            return;
        }
    }
}

/* "operator" and its symbol ("()", "[]", "<", "<<=", "->*", ...); " new", " delete[]"
 * and conversions ("operator int") go on as a plain name. */
static void sn_operator(sn *c)
{
    sn_copy(c, 8);
    if (sn_at(c, "()") || sn_at(c, "[]")) {
        sn_copy(c, 2);
        return;
    }
    /* A '<' after another symbol opens template arguments ("operator+<char>"); c++filt
     * writes "operator< <int>" and "operator<< <int>" with a space. */
    size_t start = c->i;
    while (c->i < c->len && strchr("<>=!+-*/%^&|~,", c->s[c->i]) != NULL &&
           (c->s[c->i] != '<' || (c->i - start < 2 && (c->i == start || c->s[start] == '<'))))
        sn_copy(c, 1);
}

/* A "{lambda(int)#1}" or "{closure#0}": kept whole, as c++filt -p keeps it (its
 * parameters tell the lambdas of one function apart). */
static void sn_braces(sn *c)
{
    int depth = 0;
    while (c->i < c->len) {
        char ch = c->s[c->i];
        sn_copy(c, 1);
        if (ch == '{')
            depth++;
        else if (ch == '}' && --depth == 0)
            return;
    }
}

/* A word before a space at the top level is a return type, unless it reads as a phrase
 * ("vtable for X", "non-virtual thunk to X", "operator new"). */
static bool sn_phrase(const sn *c)
{
    size_t n = c->o - c->mark;
    const char *w = c->out + c->mark;
    return (n >= 3 && memcmp(w + n - 3, "for", 3) == 0) ||
           (n >= 2 && memcmp(w + n - 2, "to", 2) == 0) ||
           (n >= 8 && memcmp(w + n - 8, "operator", 8) == 0); /* operator new, int */
}

static size_t sn_run(sn *c)
{
    int kept = 0; /* open Rust "<T as Trait>" qualified paths, whose brackets stay */
    while (c->i < c->len) {
        char ch = c->s[c->i];
        bool seg_start = c->o == 0 || (c->o >= 2 && c->out[c->o - 1] == ':' &&
                                       c->out[c->o - 2] == ':') || c->out[c->o - 1] == '<';
        if (sn_at(c, "operator") && (c->o == 0 || c->out[c->o - 1] == ':' ||
                                     c->out[c->o - 1] == ' ')) {
            sn_operator(c);
        } else if (sn_at(c, "(anonymous namespace)")) {
            sn_copy(c, strlen("(anonymous namespace)"));
        } else if (ch == '<' && seg_start && kept < SN_MAX_DEPTH) {
            kept++;
            sn_copy(c, 1);
        } else if (ch == '>' && kept > 0) {
            kept--;
            sn_copy(c, 1);
        } else if (ch == '<' || sn_at(c, "[abi:")) {
            sn_skip_group(c);
        } else if (ch == '(') {
            sn_skip_group(c);
            if (!sn_at(c, "::") && kept == 0)
                break; /* the parameters: what follows is qualifiers, " [clone .cold]" */
        } else if (ch == '{') {
            sn_braces(c);
        } else if (ch == ' ' && c->i + 1 < c->len && c->s[c->i + 1] == '<') {
            c->i++; /* "operator< <int>": the template arguments follow */
            sn_skip_group(c);
        } else if (ch == ' ' && kept == 0 && !sn_phrase(c)) {
            c->o = c->mark; /* a return type: drop it */
            c->i++;
        } else {
            sn_copy(c, 1);
            if (ch == ' ')
                c->mark = c->o;
        }
    }
    return c->o;
}

static bool sn_ident(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '_' || ch == '>' || ch == ']';
}

/* A C++ or Rust name: a "::" path, or a C++ function outside any namespace ("f(int)",
 * "void g<int>(int)": a parameter list right after the name, no '.', '/' or ':' before it,
 * which Go's "main.(*T).f" and JavaScript's "f (file.js:1:2)" have). */
static bool sn_is_cxx(const char *name, size_t len)
{
    for (size_t i = 0; i + 1 < len; i++)
        if (name[i] == ':' && name[i + 1] == ':')
            return true;
    for (size_t i = 0; i < len; i++) {
        if (name[i] == '.' || name[i] == '/' || name[i] == ':')
            return false;
        if (name[i] == '(')
            return i > 0 && sn_ident(name[i - 1]);
    }
    return false;
}

size_t shortname(const char *name, size_t len, char *out)
{
    sn c = { name, len, 0, out, 0, 0 };
    size_t n = sn_is_cxx(name, len) ? sn_run(&c) : 0;
    if (n == 0) {
        if (len) /* an empty frame may come with name NULL: memcpy wants a pointer */
            memcpy(out, name, len);
        return len;
    }
    return n;
}

/* The short form of stack[0..len), frame by frame, at out (never longer than stack). */
static size_t shortname_stack(const char *stack, size_t len, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i <= len;) {
        const char *semi = memchr(stack + i, ';', len - i);
        size_t end = semi ? (size_t)(semi - stack) : len;
        o += shortname(stack + i, end - i, out + o);
        if (semi == NULL)
            break;
        out[o++] = ';';
        i = end + 1;
    }
    out[o] = '\0';
    return o;
}

int shortname_profile(folded_profile *p)
{
    char **shorter = calloc(p->len ? p->len : 1, sizeof *shorter);
    if (shorter == NULL)
        return -1;
    for (size_t k = 0; k < p->len; k++) {
        size_t len = strlen(p->entries[k].stack);
        shorter[k] = malloc(len + 1);
        if (shorter[k] == NULL) {
            while (k-- > 0)
                free(shorter[k]);
            free(shorter);
            return -1;
        }
        shortname_stack(p->entries[k].stack, len, shorter[k]);
    }
    for (size_t k = 0; k < p->len; k++) {
        free(p->entries[k].stack);
        p->entries[k].stack = shorter[k];
    }
    free(shorter);
    folded_finish(p);
    return 0;
}
