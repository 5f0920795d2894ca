/* A small streaming JSON writer into a growable buffer.
 *
 * Usage:
 *     accel_json_writer w;
 *     accel_json_init(&w, 2);                 // 2-space indentation; 0 writes compact JSON
 *     accel_json_object_begin(&w);
 *     accel_json_key(&w, "name");
 *     accel_json_string(&w, "bert");
 *     accel_json_object_end(&w);
 *     char *text;
 *     if (accel_json_finish(&w, &text) == ACCEL_OK) { ...; free(text); }
 *
 * Calls never fail individually: the first error (out of memory, a key outside an object, a value without a key,
 * unbalanced containers, nesting deeper than ACCEL_JSON_MAX_DEPTH) is remembered and returned by
 * accel_json_finish, so a producer can write a whole document and check once.
 *
 * Strings are written as UTF-8: quotes, backslashes and control characters are escaped, valid multi-byte
 * sequences pass through unchanged, and bytes that are not valid UTF-8 become U+FFFD so the output is always
 * valid JSON whatever a driver returned. Not thread-safe per writer; writers are independent.
 */
#ifndef ACCEL_HW_JSON_WRITER_H
#define ACCEL_HW_JSON_WRITER_H

#include "accel.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ACCEL_JSON_MAX_DEPTH 64

typedef struct accel_json_writer {
    char *buf;                             /* NUL-terminated once anything was written */
    size_t len, cap;
    int indent;                            /* spaces per level, 0 = compact */
    int depth;                             /* open containers */
    bool is_object[ACCEL_JSON_MAX_DEPTH];  /* per open container: object (true) or array */
    bool has_items[ACCEL_JSON_MAX_DEPTH];  /* per open container: something was written in it */
    bool after_key;                        /* a key was written and waits for its value */
    bool done;                             /* the top-level value is complete */
    accel_status status;                   /* first error, ACCEL_OK if none */
} accel_json_writer;

/* Prepares an empty writer. indent < 0 is treated as 0. */
void accel_json_init(accel_json_writer *w, int indent);
/* Releases the buffer (a writer that was finished needs no free). */
void accel_json_free(accel_json_writer *w);

void accel_json_object_begin(accel_json_writer *w);
void accel_json_object_end(accel_json_writer *w);
void accel_json_array_begin(accel_json_writer *w);
void accel_json_array_end(accel_json_writer *w);

/* Writes a member name; must be inside an object and followed by exactly one value. */
void accel_json_key(accel_json_writer *w, const char *key);

/* Values. accel_json_string(w, NULL) writes null. Non-finite doubles are written as null (JSON has no NaN). */
void accel_json_string(accel_json_writer *w, const char *s);
void accel_json_string_n(accel_json_writer *w, const char *s, size_t n);
void accel_json_int(accel_json_writer *w, int64_t v);
void accel_json_uint(accel_json_writer *w, uint64_t v);
void accel_json_double(accel_json_writer *w, double v);
void accel_json_bool(accel_json_writer *w, bool v);
void accel_json_null(accel_json_writer *w);

/* Ends the document. On success *out receives the malloc'ed NUL-terminated text (the caller frees it) and the
 * writer is left empty. On error the writer is freed, *out is NULL and the error is recorded for the thread:
 * ACCEL_ERR_OUT_OF_MEMORY, or ACCEL_ERR_INVALID_ARG for a malformed sequence of calls. */
accel_status accel_json_finish(accel_json_writer *w, char **out);

#endif
