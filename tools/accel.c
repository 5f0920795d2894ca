/* accel — the ipfs-accelerate command line. One file per subcommand (cmd_*.c); this one dispatches. */
#include "accel.h"
#include "commands.h"

#include <stdio.h>
#include <string.h>

static int cmd_version(int argc, char **argv) {
    (void)argc;
    (void)argv;
    printf("accel %s (%s)\n", accel_version(), accel_build_info());
    return 0;
}

static int cmd_devices(int argc, char **argv) {
    (void)argc;
    (void)argv;
    int n = accel_device_count();
    printf("%-10s %-8s %-9s %s\n", "device", "type", "priority", "description");
    static const char *types[] = {"cpu", "gpu", "accel"};
    for (int i = 0; i < n; i++) {
        accel_device *d = accel_device_get(i);
        printf("%-10s %-8s %-9d %s\n", accel_device_name(d), types[accel_device_get_type(d)], accel_device_priority(d),
               accel_device_description(d));
    }
    return 0;
}

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *help;
} command;

static const command k_commands[] = {
    {"detect", accel_cmd_detect, "detect the CPU and accelerators (--json for machine output)"},
    {"devices", cmd_devices, "list the compute devices this build can run on"},
    {"version", cmd_version, "print the version and build options"},
    {"run", accel_cmd_run, "run a model: embeddings of texts, generated text (seq2seq), or a prompt's continuation"},
    {"chat", accel_cmd_chat, "chat with a causal LM (its chat template), one message per line of input"},
    {"similarity", accel_cmd_similarity, "cosine similarity matrix of texts with an embedding model"},
    {"bench", accel_cmd_bench, "measure a model's latency and throughput (random token inputs)"},
};

static void usage(FILE *f) {
    fprintf(f, "usage: accel <command> [options]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof k_commands / sizeof k_commands[0]; i++)
        fprintf(f, "  %-10s %s\n", k_commands[i].name, k_commands[i].help);
    fprintf(f, "\n'accel <command> --help' describes a command's options.\n"
               "Environment: ACCEL_LOG=error|warn|info|debug enables library logging; ACCEL_LOG_SCHED=1 prints "
               "op placement.\n");
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0) return cmd_version(argc, argv);
    for (size_t i = 0; i < sizeof k_commands / sizeof k_commands[0]; i++)
        if (strcmp(argv[1], k_commands[i].name) == 0) return k_commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "accel: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
}
