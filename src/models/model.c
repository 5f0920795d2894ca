/* model.c — loading a model directory, the weight table, sessions, and running graphs on a session. */
#include "models/model.h"

#include "core/error.h"
#include "core/tensor.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

extern const accel_family accel_family_bert;
extern const accel_family accel_family_t5;
extern const accel_family accel_family_llama;
extern const accel_family accel_family_qwen2;
extern const accel_family accel_family_mistral;

static const accel_family *const families[] = {&accel_family_bert, &accel_family_t5, &accel_family_llama,
                                               &accel_family_qwen2, &accel_family_mistral};
#define N_FAMILIES ((int)(sizeof families / sizeof families[0]))

int accel_family_count(void) { return N_FAMILIES; }
const accel_family *accel_family_get(int i) { return i >= 0 && i < N_FAMILIES ? families[i] : NULL; }

static const accel_family *family_for(const char *model_type) {
    if (!model_type) return NULL;
    for (int f = 0; f < N_FAMILIES; f++)
        for (const char *const *t = families[f]->model_types; *t; t++)
            if (strcmp(*t, model_type) == 0) return families[f];
    return NULL;
}

accel_model_params accel_model_default_params(void) {
    accel_model_params p = {NULL, 0, 0};
    return p;
}

/* ---- weights ------------------------------------------------------------------------------------------------- */

static void format_shape(char *buf, size_t cap, int ndim, const int64_t *shape) {
    size_t n = (size_t)snprintf(buf, cap, "[");
    for (int i = 0; i < ndim && n < cap; i++)
        n += (size_t)snprintf(buf + n, cap - n, "%s%lld", i ? ", " : "", (long long)shape[i]);
    if (n < cap) snprintf(buf + n, cap - n, "]");
}

/* Finds name, then each prefix + name. Returns the safetensors index or -1; *found gets the full name. */
static int find_tensor(const accel_model *m, const char *name, char *found, size_t cap) {
    int i = accel_st_find(m->st, name);
    if (i >= 0) {
        snprintf(found, cap, "%s", name);
        return i;
    }
    for (const char *const *p = m->name_prefixes; p && *p; p++) {
        snprintf(found, cap, "%s%s", *p, name);
        if ((i = accel_st_find(m->st, found)) >= 0) return i;
    }
    return -1;
}

bool model_has_tensor(const accel_model *m, const char *fmt, ...) {
    char name[256], found[320];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(name, sizeof name, fmt, ap);
    va_end(ap);
    return find_tensor(m, name, found, sizeof found) >= 0;
}

static _Thread_local accel_status g_weight_status = ACCEL_OK;

/* Records why a weight call fails, for model_weight_status. */
static int weight_fail(accel_status st) {
    g_weight_status = st;
    return MW_ERROR;
}

accel_status model_weight_status(void) { return g_weight_status; }

/* Appends w to the weight table, which then owns w.name and w.owned (freed here on failure). */
static int weight_append(accel_model *m, model_weight_entry w) {
    if (m->n_weights == m->cap_weights) {
        int cap = m->cap_weights ? m->cap_weights * 2 : 64;
        model_weight_entry *nw = realloc(m->weights, sizeof *nw * (size_t)cap);
        if (!nw) {
            free(w.name);
            free(w.owned);
            return weight_fail(accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "out of memory"));
        }
        m->weights = nw;
        m->cap_weights = cap;
    }
    m->weights[m->n_weights] = w;
    return m->n_weights++;
}

int model_weight_add(accel_model *m, unsigned flags, int ndim, const int64_t *shape, const char *fmt, ...) {
    char name[256], found[320], want[160], have[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(name, sizeof name, fmt, ap);
    va_end(ap);
    int si = find_tensor(m, name, found, sizeof found);
    if (si < 0) {
        if (flags & MW_OPTIONAL) return MW_ABSENT;
        return weight_fail(accel_set_error(ACCEL_ERR_MODEL_FORMAT, "%s: checkpoint has no tensor '%s' (needed by %s)",
                                           accel_hf_dir_path(m->dir), name, m->family->name));
    }
    accel_st_info info;
    accel_status ist = accel_st_info_get(m->st, si, &info);
    if (ist != ACCEL_OK) return weight_fail(ist);
    bool same = info.ndim == ndim;
    for (int d = 0; same && d < ndim; d++) same = info.shape[d] == shape[d];
    if (!same) {
        format_shape(want, sizeof want, ndim, shape);
        format_shape(have, sizeof have, info.ndim, info.shape);
        return weight_fail(accel_set_error(ACCEL_ERR_MODEL_FORMAT,
                                           "%s: tensor '%s' has shape %s, the config implies %s",
                                           accel_hf_dir_path(m->dir), found, have, want));
    }
    accel_dtype stored;
    if (accel_st_dtype_to_accel(info.dtype, &stored) != ACCEL_OK || !(stored == ACCEL_F32 || stored == ACCEL_F16 ||
                                                                      stored == ACCEL_BF16)) {
        return weight_fail(accel_set_error(ACCEL_ERR_UNSUPPORTED,
                                           "%s: tensor '%s' is %s; weights must be F32, F16 or BF16",
                                           accel_hf_dir_path(m->dir), found, accel_st_dtype_name(info.dtype)));
    }
    accel_dtype dtype = (flags & MW_F32) ? ACCEL_F32 : stored;
    size_t esize = accel_dtype_block_bytes(dtype);
    model_weight_entry w = {0};
    w.dtype = dtype;
    w.ndim = ndim;
    for (int d = 0; d < ndim; d++) w.shape[d] = shape[d];
    w.nbytes = (size_t)info.nelements * esize;
    if (dtype == stored && ((uintptr_t)info.data % esize) == 0) {
        w.data = (void *)info.data; /* zero copy: the read-only mapping */
    } else {
        w.owned = malloc(w.nbytes ? w.nbytes : 1);
        if (!w.owned) {
            return weight_fail(accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "out of memory converting '%s'", found));
        }
        accel_status lst = accel_st_load_as(m->st, found, dtype, w.owned, w.nbytes);
        if (lst != ACCEL_OK) {
            free(w.owned);
            return weight_fail(lst);
        }
        w.data = w.owned;
    }
    w.name = strdup(found);
    if (!w.name) {
        free(w.owned);
        return weight_fail(accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "out of memory"));
    }
    return weight_append(m, w);
}

/* The parts of a fused weight stay in the read-only mapping but are no longer read by the graphs: drop their pages
 * from this process's resident set (the kernel keeps them in the page cache; touching them again re-reads the
 * unchanged file, so this is always safe). Without it a fused f32 TinyLlama holds 7.6 GB resident instead of 4.4. */
static void release_mapped_pages(const void *data, size_t nbytes) {
    const long page = sysconf(_SC_PAGESIZE);
    if (page <= 0) return;
    uintptr_t begin = ((uintptr_t)data + (uintptr_t)page - 1) / (uintptr_t)page * (uintptr_t)page;
    uintptr_t end = ((uintptr_t)data + nbytes) / (uintptr_t)page * (uintptr_t)page;
    if (end > begin) (void)madvise((void *)begin, end - begin, MADV_DONTNEED);
}

/* model_weight_concat: see model.h */
int model_weight_concat(accel_model *m, const int *parts, int n, const char *name) {
    if (!m || !parts || n < 1 || !name) {
        return weight_fail(accel_set_error(ACCEL_ERR_INTERNAL, "model_weight_concat: invalid arguments"));
    }
    model_weight_entry w = {0};
    for (int p = 0; p < n; p++) {
        const int i = parts[p];
        bool ok = i >= 0 && i < m->n_weights;
        const model_weight_entry *src = ok ? &m->weights[i] : NULL;
        if (ok && p > 0) {
            ok = src->dtype == w.dtype && src->ndim == w.ndim;
            for (int d = 1; ok && d < w.ndim; d++) ok = src->shape[d] == w.shape[d];
        }
        if (!ok) {
            return weight_fail(
                accel_set_error(ACCEL_ERR_INTERNAL, "model_weight_concat: part %d of '%s' does not match", p, name));
        }
        if (p == 0) {
            w.dtype = src->dtype;
            w.ndim = src->ndim;
            memcpy(w.shape, src->shape, sizeof w.shape);
            w.shape[0] = 0;
        }
        w.shape[0] += src->shape[0];
        w.nbytes += src->nbytes;
    }
    w.owned = malloc(w.nbytes ? w.nbytes : 1);
    w.name = strdup(name);
    if (!w.owned || !w.name) {
        free(w.owned);
        free(w.name);
        return weight_fail(accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "out of memory making '%s'", name));
    }
    size_t off = 0;
    for (int p = 0; p < n; p++) {
        const model_weight_entry *src = &m->weights[parts[p]];
        memcpy((char *)w.owned + off, src->data, src->nbytes);
        off += src->nbytes;
        if (!src->owned) release_mapped_pages(src->data, src->nbytes);
    }
    w.data = w.owned;
    return weight_append(m, w);
}

accel_tensor *model_weight(accel_graph *g, const accel_model *m, int i) {
    if (!g) return NULL;
    if (!m || i < 0 || i >= m->n_weights) {
        /* a family bug (an index it never declared): record it in the graph through a failing builder call */
        accel_set_error(ACCEL_ERR_INTERNAL, "model_weight: no weight %d", i);
        return accel_cont(g, NULL);
    }
    const model_weight_entry *w = &m->weights[i];
    accel_tensor *t = accel_tensor_new(g, w->dtype, w->ndim, w->shape);
    if (!t) return NULL;
    accel_tensor_set_name(t, w->name);
    if (accel_tensor_set_external(t, w->data, w->nbytes) != ACCEL_OK) return NULL;
    accel_tensor_set_weight(t);
    return t;
}

accel_status model_require_positive(const accel_model *m, int64_t value, const char *key) {
    if (value > 0) return ACCEL_OK;
    return accel_set_error(ACCEL_ERR_MODEL_FORMAT, "%s/config.json: missing or invalid '%s' (a positive integer)",
                           accel_hf_dir_path(m->dir), key);
}

/* ---- load / free ------------------------------------------------------------------------------------------------ */

static void model_free_parts(accel_model *m) {
    if (m->family && m->family->free_data && m->family_data) m->family->free_data(m);
    for (int i = 0; i < m->n_weights; i++) {
        free(m->weights[i].name);
        free(m->weights[i].owned);
    }
    free(m->weights);
    free(m->devices);
    accel_tokenizer_free(m->tok);
    accel_st_close(m->st);
    accel_hf_dir_free(m->dir);
}

void accel_model_free(accel_model *m) {
    if (!m) return;
    model_free_parts(m);
    free(m);
}

accel_status accel_model_load(const char *dir, const accel_model_params *params, accel_model **out) {
    if (out) *out = NULL;
    if (!dir || !out) return accel_set_error(ACCEL_ERR_INVALID_ARG, "accel_model_load: NULL argument");
    accel_model_params p = params ? *params : accel_model_default_params();
    if (p.n_threads < 0 || p.n_devices < 0 || (p.n_devices > 0 && !p.devices))
        return accel_set_error(ACCEL_ERR_INVALID_ARG, "accel_model_load: invalid params");
    accel_model *m = calloc(1, sizeof *m);
    if (!m) return accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "out of memory");
    accel_status st = accel_hf_dir_open(dir, NULL, &m->dir);
    if (st != ACCEL_OK) goto fail;

    const char *model_type = accel_hf_dir_model_type(m->dir);
    const char *arch = accel_hf_dir_architecture(m->dir);
    m->family = family_for(model_type);
    if (!m->family) {
        if (model_type) {
            char names[256] = "";
            for (int f = 0; f < N_FAMILIES; f++)
                for (const char *const *t = families[f]->model_types; *t; t++)
                    snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", names[0] ? ", " : "", *t);
            st = accel_set_error(ACCEL_ERR_UNSUPPORTED, "%s: model_type '%s' (%s) is not implemented; implemented: %s",
                                 dir, model_type, arch ? arch : "no architectures", names);
        } else {
            st = accel_set_error(ACCEL_ERR_MODEL_FORMAT, "%s/config.json: no \"model_type\" (architectures: %s)",
                                 dir, arch ? arch : "none");
        }
        goto fail;
    }
    snprintf(m->architecture, sizeof m->architecture, "%s", arch ? arch : m->family->name);
    accel_hf_hparams_init(&m->hp);
    st = accel_hf_hparams_read(accel_hf_dir_config(m->dir), m->family->naming, &m->hp);
    if (st != ACCEL_OK) goto fail;
    st = accel_hf_dir_generation(m->dir, &m->gen);
    if (st != ACCEL_OK) goto fail;
    st = accel_hf_dir_tokenizer_config(m->dir, &m->tokcfg);
    if (st != ACCEL_OK) goto fail;

    st = accel_st_open(dir, &m->st);
    if (st != ACCEL_OK) goto fail;
    char tok_path[4096];
    snprintf(tok_path, sizeof tok_path, "%s/tokenizer.json", dir);
    FILE *f = fopen(tok_path, "rb");
    if (f) {
        fclose(f);
        st = accel_tokenizer_load(tok_path, &m->tok);
        if (st != ACCEL_OK) goto fail;
    }

    if (p.n_devices > 0) {
        m->devices = malloc(sizeof *m->devices * (size_t)p.n_devices);
        if (!m->devices) {
            st = accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "out of memory");
            goto fail;
        }
        memcpy(m->devices, p.devices, sizeof *m->devices * (size_t)p.n_devices);
        m->n_devices = p.n_devices;
    }
    m->n_threads = p.n_threads;

    st = m->family->load(m);
    if (st != ACCEL_OK) goto fail;
    *out = m;
    return ACCEL_OK;
fail:
    model_free_parts(m);
    free(m);
    return st;
}

const char *accel_model_family(const accel_model *m) { return m ? m->family->name : ""; }
const char *accel_model_architecture(const accel_model *m) { return m ? m->architecture : ""; }
bool accel_model_supports(const accel_model *m, accel_task task) {
    return m && (unsigned)task < ACCEL_TASK_COUNT && (m->family->tasks & (1u << task));
}
int64_t accel_model_embedding_dim(const accel_model *m) {
    if (!m) return 0;
    return m->family->embedding_dim ? m->family->embedding_dim(m) : m->hp.hidden_size;
}
int64_t accel_model_max_tokens(const accel_model *m) {
    if (!m) return 0;
    return m->family->max_tokens ? m->family->max_tokens(m) : 0;
}

/* ---- sessions ------------------------------------------------------------------------------------------------ */

accel_session_params accel_session_default_params(void) {
    accel_session_params p = {0};
    return p;
}

accel_status accel_session_new(accel_model *m, const accel_session_params *params, accel_session **out) {
    if (out) *out = NULL;
    if (!m || !out) return accel_set_error(ACCEL_ERR_INVALID_ARG, "accel_session_new: NULL argument");
    accel_session_params p = params ? *params : accel_session_default_params();
    if (p.n_threads < 0) return accel_set_error(ACCEL_ERR_INVALID_ARG, "accel_session_new: n_threads < 0");
    accel_session *s = calloc(1, sizeof *s);
    if (!s) return accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "out of memory");
    s->model = m;
    s->n_threads = p.n_threads ? p.n_threads : m->n_threads;
    accel_sched_params sp = accel_sched_default_params();
    sp.devices = m->devices;
    sp.n_devices = m->n_devices;
    sp.n_threads = s->n_threads;
    accel_status st = accel_sched_new(&sp, &s->sched);
    if (st == ACCEL_OK && m->family->session_init) st = m->family->session_init(s);
    if (st != ACCEL_OK) {
        accel_session_free(s);
        return st;
    }
    *out = s;
    return ACCEL_OK;
}

void accel_session_free(accel_session *s) {
    if (!s) return;
    if (s->model->family->session_free) s->model->family->session_free(s);
    accel_sched_free(s->sched);
    free(s);
}

const char *accel_session_devices_used(const accel_session *s) { return s ? s->devices_used : ""; }

/* ---- running --------------------------------------------------------------------------------------------------- */

accel_status model_graph_new(size_t n_nodes_hint, accel_graph **out) {
    accel_graph_params gp = accel_graph_default_params();
    /* about 400 bytes of metadata per tensor; views and leaves roughly double the node count */
    size_t want = n_nodes_hint * 3 * 512;
    if (want > gp.arena_bytes) gp.arena_bytes = want;
    return accel_graph_new(&gp, out);
}

accel_status session_alloc(accel_session *s, accel_graph *g) { return accel_sched_alloc(s->sched, g); }

accel_status session_compute(accel_session *s, accel_graph *g) {
    accel_status st = accel_sched_compute(s->sched, g);
    if (st != ACCEL_OK) return st;
    /* the distinct devices of the placement, in order of first use */
    const accel_device *seen[8];
    int n_seen = 0;
    s->devices_used[0] = '\0';
    size_t len = 0;
    int n = accel_sched_placement_count(s->sched);
    for (int i = 0; i < n; i++) {
        accel_placement pl;
        if (accel_sched_placement(s->sched, i, &pl) != ACCEL_OK || !pl.device) continue;
        bool dup = false;
        for (int k = 0; k < n_seen; k++) dup = dup || seen[k] == pl.device;
        if (dup || n_seen == 8) continue;
        seen[n_seen++] = pl.device;
        len += (size_t)snprintf(s->devices_used + len, sizeof s->devices_used - len, "%s%s", len ? "+" : "",
                                accel_device_name(pl.device));
        if (len >= sizeof s->devices_used) break;
    }
    return ACCEL_OK;
}

accel_tensor *model_input(accel_graph *g, accel_dtype dtype, int ndim, const int64_t *shape, const char *name) {
    accel_tensor *t = accel_tensor_new(g, dtype, ndim, shape);
    if (!t) return NULL;
    accel_tensor_set_name(t, name);
    accel_tensor_set_input(t);
    return t;
}

void accel_free(void *p) { free(p); }
