/* Subcommands of the `accel` CLI: each is implemented in its own tools/cmd_*.c and called by tools/accel.c with
 * argv[0] set to the subcommand's name. Each returns the process exit status (0 on success). */
#ifndef ACCEL_TOOLS_COMMANDS_H
#define ACCEL_TOOLS_COMMANDS_H

/* accel detect [--json] [--no-isolate] [--timeout-ms N] [--help] */
int accel_cmd_detect(int argc, char **argv);
/* accel run <model-dir> --text "..." [--text ...] [--json] [...] (cmd_run.c): embeddings or generated text */
int accel_cmd_run(int argc, char **argv);
/* accel chat <llm-dir> [...] (cmd_chat.c): interactive chat with a causal LM, one user message per stdin line */
int accel_cmd_chat(int argc, char **argv);
/* accel similarity <model-dir> "a" "b" ... [--json] (cmd_similarity.c): cosine similarity matrix */
int accel_cmd_similarity(int argc, char **argv);
/* accel bench <model-dir> [...] (cmd_bench.c): latency and throughput of a model on this machine */
int accel_cmd_bench(int argc, char **argv);

#endif
