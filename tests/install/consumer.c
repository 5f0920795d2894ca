/* A program outside the tree that uses the installed library: proves the header, the CMake package and the
 * pkg-config file work. */
#include <accel.h>
#include <stdio.h>

int main(void) {
    accel_graph *g;
    if (accel_graph_new(NULL, &g) != ACCEL_OK) return 1;
    float xs[4] = {-2, -1, 1, 2}, ys[4];
    accel_tensor *x = accel_tensor_new_1d(g, ACCEL_F32, 4);
    accel_tensor_set_external(x, xs, sizeof xs);
    accel_tensor *y = accel_relu(g, x);
    accel_sched *s;
    if (accel_graph_add_output(g, y) || accel_sched_new(NULL, &s) || accel_sched_alloc(s, g) ||
        accel_sched_compute(s, g) || accel_tensor_get(y, ys, sizeof ys)) {
        fprintf(stderr, "consumer: %s\n", accel_last_error());
        return 1;
    }
    accel_sched_free(s);
    accel_graph_free(g);
    if (ys[0] != 0 || ys[1] != 0 || ys[2] != 1 || ys[3] != 2) return 1;
    printf("consumer ok: accel %s\n", accel_version());
    return 0;
}
