/* Graph building: shapes, views, dtype rules, sticky errors, topological order; dtype conversions. */
#include "core/graph.h"
#include "test.h"

#include <math.h>
#include <stdlib.h>

static void test_views(void) {
    accel_graph *g;
    CHECK(accel_graph_new(NULL, &g) == ACCEL_OK);
    accel_tensor *a = accel_tensor_new_3d(g, ACCEL_F32, 2, 3, 4);
    CHECK(accel_tensor_is_contiguous(a));
    CHECK_INT_EQ(accel_tensor_stride(a, 0), 48);
    CHECK_INT_EQ(accel_tensor_stride(a, -1), 4);

    accel_tensor *t = accel_transpose(g, a);
    CHECK_INT_EQ(accel_tensor_dim(t, 1), 4);
    CHECK_INT_EQ(accel_tensor_dim(t, 2), 3);
    CHECK_INT_EQ(accel_tensor_stride(t, 1), 4);
    CHECK_INT_EQ(accel_tensor_stride(t, 2), 16);
    CHECK(!accel_tensor_is_contiguous(t));
    CHECK(t->view_src == a);

    accel_tensor *sl = accel_slice(g, a, -1, 1, 4, 2); /* columns 1 and 3 */
    CHECK_INT_EQ(accel_tensor_dim(sl, 2), 2);
    CHECK_INT_EQ(accel_tensor_stride(sl, 2), 8);
    CHECK(sl->view_offset == 4);
    accel_tensor *sl2 = accel_slice(g, sl, 1, 2, 3, 1); /* a view of a view points at the base */
    CHECK(sl2->view_src == a);
    CHECK(sl2->view_offset == 4 + 2 * 16);

    accel_tensor *r = accel_reshape(g, a, 2, (const int64_t[]){-1, 4});
    CHECK_INT_EQ(accel_tensor_dim(r, 0), 6);
    CHECK(r->op == ACCEL_OP_VIEW);
    /* reshaping a non-contiguous view inserts a contiguous copy, like torch.reshape */
    accel_tensor *r2 = accel_reshape(g, t, 1, (const int64_t[]){24});
    CHECK(r2 && r2->view_src && r2->view_src->op == ACCEL_OP_CPY);

    accel_tensor *p = accel_permute(g, a, (const int[]){2, 0, 1});
    CHECK_INT_EQ(accel_tensor_dim(p, 0), 4);
    CHECK_INT_EQ(accel_tensor_stride(p, 0), 4);
    CHECK(accel_graph_status(g) == ACCEL_OK);
    accel_graph_free(g);
}

static void test_shapes_and_dtypes(void) {
    accel_graph *g;
    CHECK(accel_graph_new(NULL, &g) == ACCEL_OK);
    accel_tensor *x = accel_tensor_new_3d(g, ACCEL_F16, 2, 5, 8);
    accel_tensor *w = accel_tensor_new_2d(g, ACCEL_BF16, 16, 8);
    accel_tensor *b = accel_tensor_new_1d(g, ACCEL_F32, 16);
    accel_tensor *y = accel_linear(g, x, w, b);
    CHECK(y && y->ndim == 3 && y->shape[0] == 2 && y->shape[1] == 5 && y->shape[2] == 16);
    CHECK(y->dtype == ACCEL_F16); /* the activation's dtype */

    accel_tensor *m1 = accel_tensor_new_4d(g, ACCEL_F32, 3, 1, 4, 5);
    accel_tensor *m2 = accel_tensor_new_3d(g, ACCEL_F32, 7, 5, 2);
    accel_tensor *mm = accel_matmul(g, m1, m2); /* batch dims broadcast to [3, 7] */
    CHECK(mm && mm->ndim == 4 && mm->shape[0] == 3 && mm->shape[1] == 7 && mm->shape[2] == 4 && mm->shape[3] == 2);

    accel_tensor *img = accel_tensor_new_4d(g, ACCEL_F32, 1, 3, 224, 224);
    accel_tensor *k = accel_tensor_new_4d(g, ACCEL_F32, 64, 3, 7, 7);
    accel_conv_params cp = accel_conv_default_params();
    cp.stride[0] = cp.stride[1] = 2;
    cp.padding[0] = cp.padding[1] = 3;
    accel_tensor *c = accel_conv2d(g, img, k, NULL, &cp);
    CHECK(c && c->shape[1] == 64 && c->shape[2] == 112 && c->shape[3] == 112);
    accel_pool_params pp = accel_pool_default_params();
    pp.kernel[0] = pp.kernel[1] = 3;
    pp.stride[0] = pp.stride[1] = 2;
    pp.padding[0] = pp.padding[1] = 1;
    accel_tensor *pl = accel_pool2d(g, c, &pp);
    CHECK(pl && pl->shape[2] == 56 && pl->shape[3] == 56);

    accel_tensor *ids = accel_tensor_new_2d(g, ACCEL_I64, 2, 7);
    accel_tensor *table = accel_tensor_new_2d(g, ACCEL_F32, 100, 32);
    accel_tensor *emb = accel_get_rows(g, table, ids);
    CHECK(emb && emb->ndim == 3 && emb->shape[2] == 32);

    accel_tensor *idx = NULL;
    accel_tensor *vals = accel_top_k(g, table, 5, &idx);
    CHECK(vals && idx && idx->dtype == ACCEL_I32 && vals->shape[1] == 5);
    accel_tensor *am = accel_argmax(g, table, -1);
    CHECK(am && am->dtype == ACCEL_I32 && am->shape[1] == 1);

    accel_tensor *win_in = accel_tensor_new_4d(g, ACCEL_F32, 2, 8, 12, 3);
    accel_tensor *win = accel_window_partition(g, win_in, 4);
    CHECK(win && win->shape[0] == 2 * 2 * 3 && win->shape[1] == 4 && win->shape[3] == 3);
    accel_tensor *merged = accel_window_merge(g, win, 4, 8, 12);
    CHECK(merged && merged->shape[0] == 2 && merged->shape[1] == 8 && merged->shape[2] == 12);

    accel_tensor *q = accel_tensor_new_4d(g, ACCEL_F32, 1, 14, 3, 64);
    accel_tensor *kk = accel_tensor_new_4d(g, ACCEL_F32, 1, 2, 10, 64);
    accel_attention_params ap = accel_attention_default_params();
    ap.causal = true;
    accel_tensor *att = accel_attention(g, q, kk, kk, NULL, &ap);
    CHECK(att && att->shape[1] == 14 && att->shape[2] == 3);
    CHECK(fabsf(accel_param_f32(att, 0) - 0.125f) < 1e-7f);
    CHECK(accel_graph_status(g) == ACCEL_OK);
    accel_graph_free(g);
}

static void test_errors_are_sticky(void) {
    accel_graph *g;
    CHECK(accel_graph_new(NULL, &g) == ACCEL_OK);
    accel_tensor *a = accel_tensor_new_2d(g, ACCEL_F32, 3, 4);
    accel_tensor *b = accel_tensor_new_2d(g, ACCEL_F32, 5, 6);
    CHECK(accel_matmul(g, a, b) == NULL);
    CHECK(accel_graph_status(g) == ACCEL_ERR_INVALID_ARG);
    CHECK(strstr(accel_last_error(), "inner sizes") != NULL);
    /* later builders return NULL too, and outputs can't be added */
    CHECK(accel_relu(g, a) == NULL);
    CHECK(accel_graph_add_output(g, a) != ACCEL_OK);
    accel_graph_free(g);

    CHECK(accel_graph_new(NULL, &g) == ACCEL_OK);
    a = accel_tensor_new_2d(g, ACCEL_F32, 3, 4);
    CHECK(accel_relu(g, NULL) == NULL);
    accel_graph_free(g);

    /* each of these must fail cleanly with a message */
    CHECK(accel_graph_new(NULL, &g) == ACCEL_OK);
    a = accel_tensor_new_2d(g, ACCEL_F32, 4, 6);
    CHECK(accel_reshape(g, a, 2, (const int64_t[]){5, -1}) == NULL);
    accel_graph_free(g);
    CHECK(accel_graph_new(NULL, &g) == ACCEL_OK);
    a = accel_tensor_new_2d(g, ACCEL_F32, 4, 6);
    CHECK(accel_slice(g, a, 0, 3, 2, 1) == NULL);
    accel_graph_free(g);
    CHECK(accel_graph_new(NULL, &g) == ACCEL_OK);
    a = accel_tensor_new_2d(g, ACCEL_I32, 4, 6);
    CHECK(accel_softmax(g, a, NULL, 1.0f, false) == NULL); /* ints are not a softmax input */
    accel_graph_free(g);
    CHECK(accel_graph_new(NULL, &g) == ACCEL_OK);
    a = accel_tensor_new_2d(g, ACCEL_F32, 4, 6);
    CHECK(accel_view(g, a, 1, (const int64_t[]){30}, (const int64_t[]){4}, 0) == NULL); /* past the end */
    accel_graph_free(g);
    CHECK(accel_graph_new(NULL, &g) == ACCEL_OK);
    a = accel_tensor_new_4d(g, ACCEL_F32, 1, 6, 5, 5);
    CHECK(accel_group_norm(g, a, 4, NULL, NULL, 1e-5f) == NULL); /* 6 channels, 4 groups */
    accel_graph_free(g);
    CHECK(accel_graph_new(NULL, &g) == ACCEL_OK);
    CHECK(accel_tensor_new(g, ACCEL_F32, 7, (const int64_t[]){1, 1, 1, 1, 1, 1, 1}) == NULL);
    accel_graph_free(g);
    CHECK(accel_graph_new(NULL, &g) == ACCEL_OK);
    CHECK(accel_tensor_new_2d(g, ACCEL_F32, -1, 4) == NULL);
    accel_graph_free(g);
    CHECK(accel_graph_new(NULL, &g) == ACCEL_OK);
    CHECK(accel_tensor_new_2d(g, ACCEL_F32, INT64_MAX / 2, 4) == NULL); /* size overflow */
    accel_graph_free(g);
    accel_graph_free(NULL);
}

static void test_topological_order(void) {
    accel_graph_params gp = accel_graph_default_params();
    gp.arena_bytes = 4096; /* force many arena chunks */
    accel_graph *g;
    CHECK(accel_graph_new(&gp, &g) == ACCEL_OK);
    accel_tensor *x = accel_tensor_new_1d(g, ACCEL_F32, 8);
    accel_tensor *t = x;
    for (int i = 0; i < 200; i++) t = accel_add(g, accel_relu(g, t), x);
    CHECK(accel_graph_add_output(g, t) == ACCEL_OK);
    CHECK_INT_EQ(accel_graph_node_count(g), 400);
    /* every source comes before its consumer */
    bool ordered = true;
    for (int i = 0; i < accel_graph_node_count(g); i++) {
        accel_tensor *n = accel_graph_node(g, i);
        for (int k = 0; k < ACCEL_MAX_SRC; k++)
            if (n->src[k] && n->src[k]->op != ACCEL_OP_NONE && n->src[k]->sched_index >= i) ordered = false;
    }
    CHECK(ordered);
    CHECK_STR_EQ(accel_tensor_op_name(accel_graph_node(g, 0)), "relu");
    /* another graph's tensor is refused */
    accel_graph *g2;
    CHECK(accel_graph_new(NULL, &g2) == ACCEL_OK);
    accel_tensor *y = accel_tensor_new_1d(g2, ACCEL_F32, 8);
    accel_tensor *bad = accel_add(g, t, y);
    CHECK(accel_graph_add_output(g, bad) == ACCEL_ERR_INVALID_ARG);
    accel_graph_free(g2);
    accel_graph_free(g);
}

static void test_dtype_conversions(void) {
    /* every finite f16 value survives f16 -> f32 -> f16 exactly */
    int bad = 0;
    for (uint32_t h = 0; h < 65536; h++) {
        if ((h & 0x7c00u) == 0x7c00u) continue; /* inf / nan */
        float f = accel_f16_to_f32((uint16_t)h);
        if (accel_f32_to_f16(f) != h) bad++;
    }
    CHECK_INT_EQ(bad, 0);
    CHECK(accel_f32_to_f16(1.0f) == 0x3c00);
    CHECK(accel_f32_to_f16(65504.0f) == 0x7bff);
    CHECK(accel_f32_to_f16(65520.0f) == 0x7c00);          /* rounds to inf */
    CHECK(accel_f32_to_f16(1.0f + 1.0f / 2048) == 0x3c00); /* tie -> even */
    CHECK(accel_f32_to_f16(5.9604645e-08f) == 0x0001);     /* smallest subnormal */
    CHECK(accel_f16_to_f32(0x0001) == 5.9604645e-08f);
    CHECK(isnan(accel_f16_to_f32(accel_f32_to_f16(NAN))));
    CHECK(accel_f32_to_bf16(1.0f) == 0x3f80);
    CHECK(accel_bf16_to_f32(0x3f80) == 1.0f);
    CHECK(accel_f32_to_bf16(1.0f + 1.0f / 256) == 0x3f80); /* tie -> even */
    CHECK(accel_f32_to_bf16(1.0f + 3.0f / 256) == 0x3f82);
    CHECK(isnan(accel_bf16_to_f32(accel_f32_to_bf16(NAN))));

    accel_dtype d;
    CHECK(accel_dtype_from_name("bf16", &d) == ACCEL_OK && d == ACCEL_BF16);
    CHECK(accel_dtype_from_name("float99", &d) == ACCEL_ERR_INVALID_ARG);
    CHECK_STR_EQ(accel_dtype_name(ACCEL_Q4_0), "q4_0");
    CHECK_STR_EQ(accel_dtype_name((accel_dtype)99), "?");
    CHECK_INT_EQ(accel_dtype_block_elems(ACCEL_Q8_0), 32);
    unsigned char buf[8];
    accel_store_f64(buf, ACCEL_I8, 300.7);
    CHECK(accel_load_f64(buf, ACCEL_I8) == 127);
    accel_store_f64(buf, ACCEL_I32, -2.9);
    CHECK(accel_load_f64(buf, ACCEL_I32) == -2);
    CHECK_STR_EQ(accel_status_name(ACCEL_ERR_MODEL_FORMAT), "ACCEL_ERR_MODEL_FORMAT");
}

int main(void) {
    RUN(test_views);
    RUN(test_shapes_and_dtypes);
    RUN(test_errors_are_sticky);
    RUN(test_topological_order);
    RUN(test_dtype_conversions);
    return test_summary();
}
