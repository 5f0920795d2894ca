/* Tests of the Hugging Face config readers (src/io/hf_config.c, src/io/json_util.c): realistic configs written from
 * the structure of the published bert-base-uncased, t5-small, TinyLlama-1.1B-Chat, Qwen2-0.5B-Instruct,
 * clip-vit-base-patch32, llava-1.5-7b-hf, llava-v1.6 (LLaVA-Next), clap-htsat-unfused and whisper-tiny files, and
 * malformed inputs: missing config.json, truncated JSON, wrong types, missing keys, invalid UTF-8, files over the
 * cap, non-object top level, deep nesting, trailing garbage. Each case writes files to a fresh mkdtemp dir. */
#include "accel.h"
#include "io/hf_config.h"
#include "io/json_util.h"
#include "test.h"

#include <fcntl.h>
#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- helpers ---------------------------------------------------------------------------------------------------- */

static char g_dir[256];

static const char *new_dir(void) {
    snprintf(g_dir, sizeof g_dir, "/tmp/accel_hfcfg_XXXXXX");
    if (!mkdtemp(g_dir)) {
        fprintf(stderr, "mkdtemp failed\n");
        exit(2);
    }
    return g_dir;
}

static int rm_cb(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

static void rm_dir(void) {
    if (g_dir[0]) nftw(g_dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
    g_dir[0] = '\0';
}

static void write_bytes(const char *name, const void *data, size_t n) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", g_dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, n, f) != n) {
        fprintf(stderr, "cannot write %s\n", path);
        exit(2);
    }
    fclose(f);
}

static void write_text(const char *name, const char *text) { write_bytes(name, text, strlen(text)); }

static bool contains(const char *hay, const char *needle) { return hay && needle && strstr(hay, needle) != NULL; }

static bool near(double a, double b) { return fabs(a - b) <= 1e-12 * fmax(1.0, fabs(b)); }

/* Opens g_dir expecting status want; returns the handle (NULL unless ACCEL_OK). */
static accel_hf_dir *open_dir(accel_status want) {
    accel_hf_dir *d = NULL;
    accel_status st = accel_hf_dir_open(g_dir, NULL, &d);
    CHECK_INT_EQ(st, want);
    if (want != ACCEL_OK) CHECK(d == NULL);
    return d;
}

/* Writes only config.json with text and checks that open fails with want and a message containing all needles. */
static void expect_config_error(const char *text, accel_status want, const char *needle1, const char *needle2) {
    new_dir();
    write_text("config.json", text);
    accel_hf_dir *d = open_dir(want);
    CHECK(contains(accel_last_error(), "config.json"));
    if (needle1) CHECK(contains(accel_last_error(), needle1));
    if (needle2) CHECK(contains(accel_last_error(), needle2));
    accel_hf_dir_free(d);
    rm_dir();
}

/* ---- realistic configs ------------------------------------------------------------------------------------------ */

static const char *BERT_CONFIG =
    "{\n"
    "  \"architectures\": [\"BertForMaskedLM\"],\n"
    "  \"attention_probs_dropout_prob\": 0.1,\n"
    "  \"gradient_checkpointing\": false,\n"
    "  \"hidden_act\": \"gelu\",\n"
    "  \"hidden_dropout_prob\": 0.1,\n"
    "  \"hidden_size\": 768,\n"
    "  \"initializer_range\": 0.02,\n"
    "  \"intermediate_size\": 3072,\n"
    "  \"layer_norm_eps\": 1e-12,\n"
    "  \"max_position_embeddings\": 512,\n"
    "  \"model_type\": \"bert\",\n"
    "  \"num_attention_heads\": 12,\n"
    "  \"num_hidden_layers\": 12,\n"
    "  \"pad_token_id\": 0,\n"
    "  \"position_embedding_type\": \"absolute\",\n"
    "  \"transformers_version\": \"4.6.0.dev0\",\n"
    "  \"type_vocab_size\": 2,\n"
    "  \"use_cache\": true,\n"
    "  \"vocab_size\": 30522\n"
    "}\n";

static void test_bert(void) {
    new_dir();
    write_text("config.json", BERT_CONFIG);
    write_text("tokenizer_config.json", "{\"do_lower_case\": true, \"model_max_length\": 512}");
    accel_hf_dir *d = open_dir(ACCEL_OK);
    if (!d) return rm_dir();
    CHECK_STR_EQ(accel_hf_dir_model_type(d), "bert");
    CHECK_STR_EQ(accel_hf_dir_architecture(d), "BertForMaskedLM");
    CHECK(accel_hf_dir_file(d, ACCEL_HF_GENERATION_CONFIG) == NULL);
    CHECK(accel_hf_dir_file(d, ACCEL_HF_PREPROCESSOR_CONFIG) == NULL);
    CHECK(accel_hf_dir_file(d, ACCEL_HF_SPECIAL_TOKENS_MAP) == NULL);
    CHECK(accel_hf_dir_file(d, ACCEL_HF_TOKENIZER_CONFIG) != NULL);
    const accel_hf_json *c = accel_hf_dir_config(d);
    CHECK(contains(accel_hf_json_file(c), "config.json"));
    CHECK_STR_EQ(accel_hf_json_path(c), "");

    accel_hf_hparams hp;
    accel_hf_hparams_init(&hp);
    CHECK_INT_EQ(accel_hf_hparams_read(c, ACCEL_HF_NAMING_AUTO, &hp), ACCEL_OK);
    CHECK_INT_EQ(hp.hidden_size, 768);
    CHECK_INT_EQ(hp.num_hidden_layers, 12);
    CHECK_INT_EQ(hp.num_attention_heads, 12);
    CHECK_INT_EQ(hp.num_key_value_heads, 12); /* defaulted to the head count */
    CHECK_INT_EQ(hp.head_dim, 64);
    CHECK_INT_EQ(hp.intermediate_size, 3072);
    CHECK_INT_EQ(hp.vocab_size, 30522);
    CHECK_INT_EQ(hp.type_vocab_size, 2);
    CHECK_INT_EQ(hp.max_position_embeddings, 512);
    CHECK(near(hp.norm_eps, 1e-12));
    CHECK_STR_EQ(hp.norm_eps_key, "layer_norm_eps");
    CHECK_STR_EQ(hp.hidden_act, "gelu");
    CHECK_INT_EQ(hp.pad_token_id, 0);
    CHECK_INT_EQ(hp.bos_token_id, -1);
    CHECK_INT_EQ(hp.n_eos, 0);
    CHECK(!hp.rope_scaling.present);

    /* typed getters: present, default, missing, wrong type */
    int64_t i = -5;
    double x = 0;
    bool b = false;
    const char *s = NULL;
    CHECK_INT_EQ(accel_hf_json_int(c, "hidden_size", &i), ACCEL_OK);
    CHECK_INT_EQ(i, 768);
    CHECK_INT_EQ(accel_hf_json_int_or(c, "no_such_key", 42, &i), ACCEL_OK);
    CHECK_INT_EQ(i, 42);
    CHECK_INT_EQ(accel_hf_json_int(c, "no_such_key", &i), ACCEL_ERR_MODEL_FORMAT);
    CHECK(contains(accel_last_error(), "config.json: missing key 'no_such_key'"));
    CHECK_INT_EQ(i, 42); /* unchanged on error */
    CHECK_INT_EQ(accel_hf_json_int(c, "hidden_act", &i), ACCEL_ERR_MODEL_FORMAT);
    CHECK(contains(accel_last_error(), "key 'hidden_act' is a string, expected an integer"));
    CHECK_INT_EQ(accel_hf_json_int(c, "hidden_dropout_prob", &i), ACCEL_ERR_MODEL_FORMAT); /* 0.1 is no integer */
    CHECK_INT_EQ(accel_hf_json_float(c, "layer_norm_eps", &x), ACCEL_OK);
    CHECK(near(x, 1e-12));
    CHECK_INT_EQ(accel_hf_json_float(c, "hidden_size", &x), ACCEL_OK); /* integers are numbers too */
    CHECK(near(x, 768));
    CHECK_INT_EQ(accel_hf_json_float_or(c, "rope_theta", 10000.0, &x), ACCEL_OK);
    CHECK(near(x, 10000.0));
    CHECK_INT_EQ(accel_hf_json_bool(c, "use_cache", &b), ACCEL_OK);
    CHECK(b);
    CHECK_INT_EQ(accel_hf_json_bool(c, "pad_token_id", &b), ACCEL_ERR_MODEL_FORMAT); /* 0 is not a boolean */
    CHECK(contains(accel_last_error(), "expected a boolean"));
    CHECK_INT_EQ(accel_hf_json_bool_or(c, "is_decoder", false, &b), ACCEL_OK);
    CHECK(!b);
    CHECK_INT_EQ(accel_hf_json_string(c, "architectures[0]", &s), ACCEL_OK);
    CHECK_STR_EQ(s, "BertForMaskedLM");
    CHECK_INT_EQ(accel_hf_json_string(c, "architectures", &s), ACCEL_ERR_MODEL_FORMAT);
    CHECK(contains(accel_last_error(), "is an array, expected a string"));
    CHECK_INT_EQ(accel_hf_json_string_or(c, "architectures[1]", "none", &s), ACCEL_OK); /* past the end = absent */
    CHECK_STR_EQ(s, "none");
    CHECK(accel_hf_json_has(c, "vocab_size"));
    CHECK(!accel_hf_json_has(c, "text_config"));
    const accel_hf_json *sub = (const accel_hf_json *)1;
    CHECK_INT_EQ(accel_hf_json_sub(c, "text_config", &sub), ACCEL_OK);
    CHECK(sub == NULL);
    CHECK_INT_EQ(accel_hf_json_sub(c, "vocab_size", &sub), ACCEL_ERR_MODEL_FORMAT);
    CHECK(contains(accel_last_error(), "'vocab_size' is a number, expected an object"));
    /* path into a non-object, bad path syntax */
    CHECK_INT_EQ(accel_hf_json_int(c, "vocab_size.x", &i), ACCEL_ERR_MODEL_FORMAT);
    CHECK(contains(accel_last_error(), "'vocab_size' is a number, expected an object"));
    CHECK_INT_EQ(accel_hf_json_int(c, "a..b", &i), ACCEL_ERR_INVALID_ARG);
    CHECK_INT_EQ(accel_hf_json_int(c, "architectures[x]", &i), ACCEL_ERR_INVALID_ARG);
    CHECK_INT_EQ(accel_hf_json_int(c, "", &i), ACCEL_ERR_INVALID_ARG);

    accel_hf_tokenizer_config tc;
    CHECK_INT_EQ(accel_hf_dir_tokenizer_config(d, &tc), ACCEL_OK);
    CHECK_INT_EQ(tc.do_lower_case, 1);
    CHECK_INT_EQ(tc.model_max_length, 512);
    CHECK(tc.bos.content == NULL);
    CHECK(tc.chat_template == NULL);
    const char *tmpl = NULL;
    CHECK_INT_EQ(accel_hf_dir_chat_template(d, NULL, &tmpl), ACCEL_ERR_NOT_FOUND);

    accel_hf_dir_free(d);
    rm_dir();
}

static void test_t5(void) {
    new_dir();
    write_text("config.json",
               "{\n"
               "  \"architectures\": [\"T5ForConditionalGeneration\"],\n"
               "  \"d_ff\": 2048, \"d_kv\": 64, \"d_model\": 512, \"decoder_start_token_id\": 0,\n"
               "  \"dropout_rate\": 0.1, \"eos_token_id\": 1, \"initializer_factor\": 1.0,\n"
               "  \"is_encoder_decoder\": true, \"layer_norm_epsilon\": 1e-06, \"model_type\": \"t5\",\n"
               "  \"n_positions\": 512, \"num_heads\": 8, \"num_layers\": 6, \"output_past\": true,\n"
               "  \"pad_token_id\": 0, \"relative_attention_num_buckets\": 32,\n"
               "  \"task_specific_params\": {\n"
               "    \"summarization\": {\"early_stopping\": true, \"length_penalty\": 2.0, \"max_length\": 200,\n"
               "      \"min_length\": 30, \"no_repeat_ngram_size\": 3, \"num_beams\": 4, \"prefix\": \"summarize: \"},\n"
               "    \"translation_en_to_de\": {\"early_stopping\": true, \"max_length\": 300, \"num_beams\": 4,\n"
               "      \"prefix\": \"translate English to German: \"}\n"
               "  },\n"
               "  \"vocab_size\": 32128\n"
               "}\n");
    write_text("generation_config.json", "{\"decoder_start_token_id\": 0, \"eos_token_id\": 1, \"pad_token_id\": 0,"
                                         " \"transformers_version\": \"4.27.0.dev0\"}");
    accel_hf_dir *d = open_dir(ACCEL_OK);
    if (!d) return rm_dir();
    accel_hf_hparams hp;
    accel_hf_hparams_init(&hp);
    hp.relative_attention_max_distance = 128; /* T5Config default, absent from the t5-small file */
    CHECK_INT_EQ(accel_hf_hparams_read(accel_hf_dir_config(d), ACCEL_HF_NAMING_AUTO, &hp), ACCEL_OK);
    CHECK_INT_EQ(hp.hidden_size, 512);
    CHECK_INT_EQ(hp.num_hidden_layers, 6);
    CHECK_INT_EQ(hp.num_decoder_layers, 6); /* defaults to num_layers */
    CHECK_INT_EQ(hp.num_attention_heads, 8);
    CHECK_INT_EQ(hp.intermediate_size, 2048);
    CHECK_INT_EQ(hp.head_dim, 64);
    CHECK_INT_EQ(hp.relative_attention_num_buckets, 32);
    CHECK_INT_EQ(hp.relative_attention_max_distance, 128); /* family default kept */
    CHECK(near(hp.norm_eps, 1e-6));
    CHECK_STR_EQ(hp.norm_eps_key, "layer_norm_epsilon");
    CHECK(hp.hidden_act == NULL); /* feed_forward_proj absent: family default "relu" */
    CHECK(hp.is_encoder_decoder);
    CHECK_INT_EQ(hp.vocab_size, 32128);
    CHECK_INT_EQ(hp.n_eos, 1);
    CHECK_INT_EQ(hp.eos_token_ids[0], 1);
    CHECK_INT_EQ(hp.decoder_start_token_id, 0);

    /* The standard naming does not know d_model: the error names the standard key. */
    accel_hf_hparams_init(&hp);
    CHECK_INT_EQ(accel_hf_hparams_read(accel_hf_dir_config(d), ACCEL_HF_NAMING_STANDARD, &hp), ACCEL_ERR_MODEL_FORMAT);
    CHECK(contains(accel_last_error(), "config.json: missing key 'hidden_size'"));

    accel_hf_generation g;
    CHECK_INT_EQ(accel_hf_dir_generation(d, &g), ACCEL_OK);
    CHECK_INT_EQ(g.decoder_start_token_id, 0);
    CHECK_INT_EQ(g.pad_token_id, 0);
    CHECK_INT_EQ(g.n_eos, 1);
    CHECK_INT_EQ(g.eos_token_ids[0], 1);
    CHECK_INT_EQ(g.num_beams, 1); /* HF default */
    CHECK_INT_EQ(g.max_length, 20);

    /* task-specific generation parameters through a nested view */
    const accel_hf_json *sum = NULL;
    CHECK_INT_EQ(accel_hf_json_sub(accel_hf_dir_config(d), "task_specific_params.summarization", &sum), ACCEL_OK);
    CHECK(sum != NULL);
    if (sum) {
        CHECK_STR_EQ(accel_hf_json_path(sum), "task_specific_params.summarization");
        accel_hf_generation_init(&g);
        CHECK_INT_EQ(accel_hf_generation_read(sum, &g), ACCEL_OK);
        CHECK_INT_EQ(g.num_beams, 4);
        CHECK_INT_EQ(g.early_stopping, 1);
        CHECK(near(g.length_penalty, 2.0));
        CHECK_INT_EQ(g.max_length, 200);
        CHECK_INT_EQ(g.min_length, 30);
        CHECK_INT_EQ(g.no_repeat_ngram_size, 3);
        int64_t v = 0;
        CHECK_INT_EQ(accel_hf_json_int(sum, "num_beam", &v), ACCEL_ERR_MODEL_FORMAT);
        CHECK(contains(accel_last_error(), "missing key 'task_specific_params.summarization.num_beam'"));
    }
    accel_hf_dir_free(d);
    rm_dir();
}

static const char *TINYLLAMA_TEMPLATE =
    "{% for message in messages %}\\n{% if message['role'] == 'user' %}\\n{{ '<|user|>\\\\n' + message['content'] + "
    "eos_token }}\\n{% endif %}{% endfor %}";

static void test_tinyllama(void) {
    new_dir();
    write_text("config.json",
               "{\n"
               "  \"architectures\": [\"LlamaForCausalLM\"], \"attention_bias\": false, \"bos_token_id\": 1,\n"
               "  \"eos_token_id\": 2, \"hidden_act\": \"silu\", \"hidden_size\": 2048, \"initializer_range\": 0.02,\n"
               "  \"intermediate_size\": 5632, \"max_position_embeddings\": 2048, \"model_type\": \"llama\",\n"
               "  \"num_attention_heads\": 32, \"num_hidden_layers\": 22, \"num_key_value_heads\": 4,\n"
               "  \"pretraining_tp\": 1, \"rms_norm_eps\": 1e-05, \"rope_scaling\": null, \"rope_theta\": 10000.0,\n"
               "  \"tie_word_embeddings\": false, \"torch_dtype\": \"bfloat16\", \"transformers_version\": \"4.35.0\",\n"
               "  \"use_cache\": true, \"vocab_size\": 32000\n"
               "}\n");
    write_text("generation_config.json",
               "{\"bos_token_id\": 1, \"eos_token_id\": 2, \"max_length\": 2048, \"pad_token_id\": 0}");
    char tok[4096];
    snprintf(tok, sizeof tok,
             "{\n"
             "  \"add_bos_token\": true, \"add_eos_token\": false,\n"
             "  \"added_tokens_decoder\": {\n"
             "    \"0\": {\"content\": \"<unk>\", \"lstrip\": false, \"normalized\": false, \"rstrip\": false,"
             " \"single_word\": false, \"special\": true},\n"
             "    \"1\": {\"content\": \"<s>\", \"lstrip\": false, \"normalized\": false, \"rstrip\": false,"
             " \"single_word\": false, \"special\": true},\n"
             "    \"2\": {\"content\": \"</s>\", \"lstrip\": false, \"normalized\": false, \"rstrip\": false,"
             " \"single_word\": false, \"special\": true}\n"
             "  },\n"
             "  \"bos_token\": \"<s>\", \"chat_template\": \"%s\", \"clean_up_tokenization_spaces\": false,\n"
             "  \"eos_token\": \"</s>\", \"legacy\": false,\n"
             "  \"model_max_length\": 1000000000000000019884624838656, \"pad_token\": \"</s>\",\n"
             "  \"padding_side\": \"right\", \"sp_model_kwargs\": {}, \"tokenizer_class\": \"LlamaTokenizer\",\n"
             "  \"unk_token\": \"<unk>\", \"use_default_system_prompt\": false\n"
             "}\n",
             TINYLLAMA_TEMPLATE);
    write_text("tokenizer_config.json", tok);
    write_text("special_tokens_map.json",
               "{\"bos_token\": {\"content\": \"<s>\", \"lstrip\": false, \"normalized\": false, \"rstrip\": false,"
               " \"single_word\": false}, \"eos_token\": {\"content\": \"</s>\", \"lstrip\": false, \"normalized\":"
               " false, \"rstrip\": false, \"single_word\": false}, \"pad_token\": \"</s>\", \"unk_token\":"
               " {\"content\": \"<unk>\", \"lstrip\": false, \"normalized\": false, \"rstrip\": false,"
               " \"single_word\": false}}");
    accel_hf_dir *d = open_dir(ACCEL_OK);
    if (!d) return rm_dir();
    accel_hf_hparams hp;
    accel_hf_hparams_init(&hp);
    CHECK_INT_EQ(accel_hf_hparams_read(accel_hf_dir_config(d), ACCEL_HF_NAMING_AUTO, &hp), ACCEL_OK);
    CHECK_INT_EQ(hp.hidden_size, 2048);
    CHECK_INT_EQ(hp.num_hidden_layers, 22);
    CHECK_INT_EQ(hp.num_attention_heads, 32);
    CHECK_INT_EQ(hp.num_key_value_heads, 4);
    CHECK_INT_EQ(hp.head_dim, 64);
    CHECK_INT_EQ(hp.intermediate_size, 5632);
    CHECK_INT_EQ(hp.vocab_size, 32000);
    CHECK(near(hp.norm_eps, 1e-5));
    CHECK_STR_EQ(hp.norm_eps_key, "rms_norm_eps");
    CHECK(near(hp.rope_theta, 10000.0));
    CHECK(!hp.rope_scaling.present); /* null */
    CHECK(!hp.tie_word_embeddings);
    CHECK_STR_EQ(hp.torch_dtype, "bfloat16");
    CHECK_STR_EQ(hp.hidden_act, "silu");
    CHECK_INT_EQ(hp.bos_token_id, 1);
    CHECK_INT_EQ(hp.n_eos, 1);
    CHECK_INT_EQ(hp.eos_token_ids[0], 2);
    CHECK_INT_EQ(hp.sliding_window, 0);

    accel_hf_generation g;
    CHECK_INT_EQ(accel_hf_dir_generation(d, &g), ACCEL_OK);
    CHECK_INT_EQ(g.max_length, 2048);
    CHECK_INT_EQ(g.pad_token_id, 0);
    CHECK_INT_EQ(g.bos_token_id, 1);

    accel_hf_tokenizer_config tc;
    CHECK_INT_EQ(accel_hf_dir_tokenizer_config(d, &tc), ACCEL_OK);
    CHECK_STR_EQ(tc.tokenizer_class, "LlamaTokenizer");
    CHECK_STR_EQ(tc.bos.content, "<s>");
    CHECK(tc.bos.normalized); /* tokenizer_config's plain string wins over special_tokens_map's dict */
    CHECK_STR_EQ(tc.eos.content, "</s>");
    CHECK_STR_EQ(tc.unk.content, "<unk>");
    CHECK_STR_EQ(tc.pad.content, "</s>");
    CHECK(tc.mask.content == NULL);
    CHECK_INT_EQ(tc.add_bos_token, 1);
    CHECK_INT_EQ(tc.add_eos_token, 0);
    CHECK_INT_EQ(tc.clean_up_tokenization_spaces, 0);
    CHECK_INT_EQ(tc.model_max_length, INT64_MAX);
    CHECK_STR_EQ(tc.padding_side, "right");
    CHECK(contains(tc.chat_template, "{% for message in messages %}\n{% if"));
    CHECK(contains(tc.chat_template, "'<|user|>\\n'"));
    accel_hf_dir_free(d);
    rm_dir();
}

static void test_qwen2(void) {
    new_dir();
    write_text("config.json",
               "{\n"
               "  \"architectures\": [\"Qwen2ForCausalLM\"], \"attention_dropout\": 0.0, \"bos_token_id\": 151643,\n"
               "  \"eos_token_id\": 151645, \"hidden_act\": \"silu\", \"hidden_size\": 896,\n"
               "  \"initializer_range\": 0.02, \"intermediate_size\": 4864, \"max_position_embeddings\": 32768,\n"
               "  \"max_window_layers\": 24, \"model_type\": \"qwen2\", \"num_attention_heads\": 14,\n"
               "  \"num_hidden_layers\": 24, \"num_key_value_heads\": 2, \"rms_norm_eps\": 1e-06,\n"
               "  \"rope_theta\": 1000000.0, \"sliding_window\": 32768, \"tie_word_embeddings\": true,\n"
               "  \"torch_dtype\": \"bfloat16\", \"transformers_version\": \"4.40.1\", \"use_cache\": true,\n"
               "  \"use_sliding_window\": false, \"vocab_size\": 151936\n"
               "}\n");
    write_text("generation_config.json",
               "{\"bos_token_id\": 151643, \"pad_token_id\": 151643, \"do_sample\": true,"
               " \"eos_token_id\": [151645, 151643], \"repetition_penalty\": 1.1, \"temperature\": 0.7,"
               " \"top_p\": 0.8, \"top_k\": 20, \"transformers_version\": \"4.37.0\"}");
    write_text("tokenizer_config.json",
               "{\n"
               "  \"add_prefix_space\": false,\n"
               "  \"added_tokens_decoder\": {\n"
               "    \"151643\": {\"content\": \"<|endoftext|>\", \"lstrip\": false, \"normalized\": false,"
               " \"rstrip\": false, \"single_word\": false, \"special\": true},\n"
               "    \"151644\": {\"content\": \"<|im_start|>\", \"lstrip\": false, \"normalized\": false,"
               " \"rstrip\": false, \"single_word\": false, \"special\": true}\n"
               "  },\n"
               "  \"additional_special_tokens\": [\"<|im_start|>\", \"<|im_end|>\"],\n"
               "  \"bos_token\": null,\n"
               "  \"chat_template\": \"{% for message in messages %}{% if loop.first and messages[0]['role'] !="
               " 'system' %}{{ '<|im_start|>system\\nYou are a helpful assistant.<|im_end|>\\n' }}{% endif %}"
               "{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}"
               "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}\",\n"
               "  \"clean_up_tokenization_spaces\": false, \"eos_token\": \"<|im_end|>\", \"errors\": \"replace\",\n"
               "  \"model_max_length\": 32768, \"pad_token\": \"<|endoftext|>\", \"split_special_tokens\": false,\n"
               "  \"tokenizer_class\": \"Qwen2Tokenizer\", \"unk_token\": null\n"
               "}\n");
    accel_hf_dir *d = open_dir(ACCEL_OK);
    if (!d) return rm_dir();
    accel_hf_hparams hp;
    accel_hf_hparams_init(&hp);
    CHECK_INT_EQ(accel_hf_hparams_read(accel_hf_dir_config(d), ACCEL_HF_NAMING_AUTO, &hp), ACCEL_OK);
    CHECK_INT_EQ(hp.hidden_size, 896);
    CHECK_INT_EQ(hp.num_hidden_layers, 24);
    CHECK_INT_EQ(hp.num_attention_heads, 14);
    CHECK_INT_EQ(hp.num_key_value_heads, 2);
    CHECK_INT_EQ(hp.head_dim, 64);
    CHECK_INT_EQ(hp.intermediate_size, 4864);
    CHECK_INT_EQ(hp.vocab_size, 151936);
    CHECK(near(hp.rope_theta, 1e6));
    CHECK(hp.tie_word_embeddings);
    CHECK_INT_EQ(hp.sliding_window, 0); /* use_sliding_window false */
    CHECK_INT_EQ(hp.max_position_embeddings, 32768);

    accel_hf_generation g;
    CHECK_INT_EQ(accel_hf_dir_generation(d, &g), ACCEL_OK);
    CHECK(g.do_sample);
    CHECK(near(g.temperature, 0.7));
    CHECK(near(g.top_p, 0.8));
    CHECK_INT_EQ(g.top_k, 20);
    CHECK(near(g.repetition_penalty, 1.1));
    CHECK_INT_EQ(g.n_eos, 2);
    CHECK_INT_EQ(g.eos_token_ids[0], 151645);
    CHECK_INT_EQ(g.eos_token_ids[1], 151643);
    CHECK_INT_EQ(g.pad_token_id, 151643);

    accel_hf_tokenizer_config tc;
    CHECK_INT_EQ(accel_hf_dir_tokenizer_config(d, &tc), ACCEL_OK);
    CHECK(tc.bos.content == NULL); /* null */
    CHECK(tc.unk.content == NULL);
    CHECK_STR_EQ(tc.eos.content, "<|im_end|>");
    CHECK_STR_EQ(tc.pad.content, "<|endoftext|>");
    CHECK_INT_EQ(tc.model_max_length, 32768);
    CHECK_INT_EQ(tc.add_bos_token, -1);
    CHECK(contains(tc.chat_template, "'<|im_start|>assistant\n'"));
    const char *t = NULL;
    CHECK_INT_EQ(accel_hf_dir_chat_template(d, "default", &t), ACCEL_OK);
    CHECK(t == tc.chat_template);
    CHECK_INT_EQ(accel_hf_dir_chat_template(d, "tool_use", &t), ACCEL_ERR_NOT_FOUND);
    CHECK(contains(accel_last_error(), "tool_use"));
    /* added_tokens_decoder entries are views too */
    const accel_hf_json *tj = accel_hf_dir_file(d, ACCEL_HF_TOKENIZER_CONFIG), *at = NULL;
    CHECK_INT_EQ(accel_hf_json_sub(tj, "added_tokens_decoder.151644", &at), ACCEL_OK);
    const char *content = NULL;
    if (at) CHECK_INT_EQ(accel_hf_json_string(at, "content", &content), ACCEL_OK);
    CHECK_STR_EQ(content, "<|im_start|>");
    accel_hf_dir_free(d);
    rm_dir();
}

static const char *CLIP_PREPROC =
    "{\"crop_size\": 224, \"do_center_crop\": true, \"do_normalize\": true, \"do_resize\": true,"
    " \"feature_extractor_type\": \"CLIPFeatureExtractor\", \"image_mean\": [0.48145466, 0.4578275, 0.40821073],"
    " \"image_std\": [0.26862954, 0.26130258, 0.27577711], \"resample\": 3, \"size\": 224}";

static void test_clip(void) {
    new_dir();
    write_text("config.json",
               "{\n"
               "  \"_name_or_path\": \"openai/clip-vit-base-patch32\", \"architectures\": [\"CLIPModel\"],\n"
               "  \"initializer_factor\": 1.0, \"logit_scale_init_value\": 2.6592, \"model_type\": \"clip\",\n"
               "  \"projection_dim\": 512,\n"
               "  \"text_config\": {\"_name_or_path\": \"\", \"add_cross_attention\": false, \"architectures\": null,\n"
               "    \"attention_dropout\": 0.0, \"bos_token_id\": 0, \"dropout\": 0.0, \"eos_token_id\": 2,\n"
               "    \"hidden_act\": \"quick_gelu\", \"hidden_size\": 512, \"initializer_factor\": 1.0,\n"
               "    \"initializer_range\": 0.02, \"intermediate_size\": 2048, \"layer_norm_eps\": 1e-05,\n"
               "    \"max_position_embeddings\": 77, \"model_type\": \"clip_text_model\", \"num_attention_heads\": 8,\n"
               "    \"num_hidden_layers\": 12, \"pad_token_id\": 1, \"projection_dim\": 512, \"vocab_size\": 49408},\n"
               "  \"text_config_dict\": null, \"transformers_version\": null,\n"
               "  \"vision_config\": {\"_name_or_path\": \"\", \"attention_dropout\": 0.0, \"dropout\": 0.0,\n"
               "    \"hidden_act\": \"quick_gelu\", \"hidden_size\": 768, \"image_size\": 224,\n"
               "    \"intermediate_size\": 3072, \"layer_norm_eps\": 1e-05, \"model_type\": \"clip_vision_model\",\n"
               "    \"num_attention_heads\": 12, \"num_hidden_layers\": 12, \"patch_size\": 32,\n"
               "    \"projection_dim\": 512},\n"
               "  \"vision_config_dict\": null\n"
               "}\n");
    write_text("preprocessor_config.json", CLIP_PREPROC);
    accel_hf_dir *d = open_dir(ACCEL_OK);
    if (!d) return rm_dir();
    const accel_hf_json *c = accel_hf_dir_config(d), *tcfg = NULL, *vcfg = NULL, *none = NULL;
    CHECK_INT_EQ(accel_hf_json_sub(c, "text_config", &tcfg), ACCEL_OK);
    CHECK_INT_EQ(accel_hf_json_sub(c, "vision_config", &vcfg), ACCEL_OK);
    CHECK_INT_EQ(accel_hf_json_sub(c, "text_config_dict", &none), ACCEL_OK); /* null = absent */
    CHECK(none == NULL);
    CHECK(tcfg && vcfg);
    if (tcfg && vcfg) {
        CHECK_STR_EQ(accel_hf_json_path(tcfg), "text_config");
        const accel_hf_json *again = NULL;
        CHECK_INT_EQ(accel_hf_json_sub(c, "text_config", &again), ACCEL_OK);
        CHECK(again == tcfg); /* the same view each time */
        accel_hf_hparams t, v;
        accel_hf_hparams_init(&t);
        accel_hf_hparams_init(&v);
        CHECK_INT_EQ(accel_hf_hparams_read(tcfg, ACCEL_HF_NAMING_AUTO, &t), ACCEL_OK);
        CHECK_INT_EQ(accel_hf_hparams_read(vcfg, ACCEL_HF_NAMING_AUTO, &v), ACCEL_OK);
        CHECK_INT_EQ(t.hidden_size, 512);
        CHECK_INT_EQ(t.num_attention_heads, 8);
        CHECK_INT_EQ(t.max_position_embeddings, 77);
        CHECK_INT_EQ(t.vocab_size, 49408);
        CHECK_INT_EQ(t.eos_token_ids[0], 2);
        CHECK_STR_EQ(t.hidden_act, "quick_gelu");
        CHECK_STR_EQ(t.model_type, "clip_text_model");
        CHECK_INT_EQ(v.hidden_size, 768);
        CHECK_INT_EQ(v.image_size, 224);
        CHECK_INT_EQ(v.patch_size, 32);
        CHECK_INT_EQ(v.projection_dim, 512);
        CHECK_INT_EQ(v.intermediate_size, 3072);
        /* sub-view getter messages carry the sub-config's path */
        int64_t x;
        CHECK_INT_EQ(accel_hf_json_int(vcfg, "num_channels", &x), ACCEL_ERR_MODEL_FORMAT);
        CHECK(contains(accel_last_error(), "config.json: missing key 'vision_config.num_channels'"));
        CHECK_INT_EQ(accel_hf_json_string(tcfg, "architectures", NULL), ACCEL_ERR_MODEL_FORMAT);
        CHECK(contains(accel_last_error(), "key 'text_config.architectures' is null"));
    }
    accel_hf_image_proc p;
    accel_hf_image_proc_init(&p);
    CHECK_INT_EQ(accel_hf_image_proc_read(accel_hf_dir_file(d, ACCEL_HF_PREPROCESSOR_CONFIG), &p), ACCEL_OK);
    CHECK_STR_EQ(p.processor_type, "CLIPFeatureExtractor");
    CHECK_INT_EQ(p.size_scalar, 224);
    CHECK_INT_EQ(p.size_shortest_edge, 0);
    CHECK_INT_EQ(p.crop_height, 224);
    CHECK_INT_EQ(p.crop_width, 224);
    CHECK_INT_EQ(p.resample, 3);
    CHECK(p.do_center_crop && p.do_normalize && p.do_resize && p.do_rescale);
    CHECK(near(p.rescale_factor, 1.0 / 255.0));
    CHECK_INT_EQ(p.n_mean, 3);
    CHECK(near(p.image_mean[0], 0.48145466) && near(p.image_mean[2], 0.40821073));
    CHECK(near(p.image_std[1], 0.26130258));
    double *mean = NULL;
    size_t n = 0;
    CHECK_INT_EQ(accel_hf_json_float_array(accel_hf_dir_file(d, ACCEL_HF_PREPROCESSOR_CONFIG), "image_mean", true,
                                           &mean, &n),
                 ACCEL_OK);
    CHECK_INT_EQ(n, 3);
    if (mean) CHECK(near(mean[1], 0.4578275));
    free(mean);
    accel_hf_dir_free(d);
    rm_dir();
}

static const char *LLAVA_CONFIG =
    "{\n"
    "  \"architectures\": [\"LlavaForConditionalGeneration\"], \"ignore_index\": -100,\n"
    "  \"image_token_index\": 32000, \"model_type\": \"llava\", \"pad_token_id\": 32001,\n"
    "  \"projector_hidden_act\": \"gelu\",\n"
    "  \"text_config\": {\"_name_or_path\": \"lmsys/vicuna-7b-v1.5\", \"architectures\": [\"LlamaForCausalLM\"],\n"
    "    \"max_position_embeddings\": 4096, \"model_type\": \"llama\", \"rms_norm_eps\": 1e-05,\n"
    "    \"torch_dtype\": \"float16\", \"vocab_size\": 32064},\n"
    "  \"tie_word_embeddings\": false, \"torch_dtype\": \"float16\", \"transformers_version\": \"4.36.0.dev0\",\n"
    "  \"vision_config\": {\"hidden_size\": 1024, \"image_size\": 336, \"intermediate_size\": 4096,\n"
    "    \"model_type\": \"clip_vision_model\", \"num_attention_heads\": 16, \"num_hidden_layers\": 24,\n"
    "    \"patch_size\": 14, \"projection_dim\": 768, \"vocab_size\": 32000},\n"
    "  \"vision_feature_layer\": -2, \"vision_feature_select_strategy\": \"default\", \"vocab_size\": 32064\n"
    "}\n";

static void test_llava(void) {
    new_dir();
    write_text("config.json", LLAVA_CONFIG);
    write_text("preprocessor_config.json",
               "{\"crop_size\": {\"height\": 336, \"width\": 336}, \"do_center_crop\": true, \"do_convert_rgb\": true,"
               " \"do_normalize\": true, \"do_rescale\": true, \"do_resize\": true,"
               " \"image_mean\": [0.48145466, 0.4578275, 0.40821073], \"image_processor_type\": \"CLIPImageProcessor\","
               " \"image_std\": [0.26862954, 0.26130258, 0.27577711], \"processor_class\": \"LlavaProcessor\","
               " \"resample\": 3, \"rescale_factor\": 0.00392156862745098, \"size\": {\"shortest_edge\": 336}}");
    write_text("chat_template.json",
               "{\"chat_template\": \"{% for message in messages %}{{ message['role'].upper() }}: {% endfor %}\"}");
    accel_hf_dir *d = open_dir(ACCEL_OK);
    if (!d) return rm_dir();
    CHECK_STR_EQ(accel_hf_dir_architecture(d), "LlavaForConditionalGeneration");
    const accel_hf_json *c = accel_hf_dir_config(d), *text = NULL, *vision = NULL;
    CHECK_INT_EQ(accel_hf_json_sub(c, "text_config", &text), ACCEL_OK);
    CHECK_INT_EQ(accel_hf_json_sub(c, "vision_config", &vision), ACCEL_OK);
    int64_t layer = 0;
    CHECK_INT_EQ(accel_hf_json_int(c, "vision_feature_layer", &layer), ACCEL_OK);
    CHECK_INT_EQ(layer, -2);
    if (text) {
        /* The saved text_config omits the LlamaConfig defaults: without them the reader says what is missing. */
        accel_hf_hparams hp;
        accel_hf_hparams_init(&hp);
        CHECK_INT_EQ(accel_hf_hparams_read(text, ACCEL_HF_NAMING_AUTO, &hp), ACCEL_ERR_MODEL_FORMAT);
        CHECK(contains(accel_last_error(), "config.json: missing key 'text_config.hidden_size'"));
        /* With the family's defaults (LlamaConfig: 4096, 32 layers, 32 heads, 11008) it fills the rest. */
        accel_hf_hparams_init(&hp);
        hp.hidden_size = 4096;
        hp.num_hidden_layers = 32;
        hp.num_attention_heads = 32;
        hp.intermediate_size = 11008;
        hp.vocab_size = 32000;
        hp.rope_theta = 10000.0;
        CHECK_INT_EQ(accel_hf_hparams_read(text, ACCEL_HF_NAMING_AUTO, &hp), ACCEL_OK);
        CHECK_INT_EQ(hp.vocab_size, 32064); /* from the file */
        CHECK_INT_EQ(hp.max_position_embeddings, 4096);
        CHECK_INT_EQ(hp.num_key_value_heads, 32);
        CHECK_INT_EQ(hp.head_dim, 128);
        CHECK_STR_EQ(hp.torch_dtype, "float16");
        CHECK(near(hp.rope_theta, 10000.0));
    }
    if (vision) {
        accel_hf_hparams hp;
        accel_hf_hparams_init(&hp);
        CHECK_INT_EQ(accel_hf_hparams_read(vision, ACCEL_HF_NAMING_AUTO, &hp), ACCEL_OK);
        CHECK_INT_EQ(hp.hidden_size, 1024);
        CHECK_INT_EQ(hp.num_hidden_layers, 24);
        CHECK_INT_EQ(hp.image_size, 336);
        CHECK_INT_EQ(hp.patch_size, 14);
    }
    accel_hf_image_proc p;
    accel_hf_image_proc_init(&p);
    CHECK_INT_EQ(accel_hf_image_proc_read(accel_hf_dir_file(d, ACCEL_HF_PREPROCESSOR_CONFIG), &p), ACCEL_OK);
    CHECK_STR_EQ(p.processor_type, "CLIPImageProcessor");
    CHECK_INT_EQ(p.size_shortest_edge, 336);
    CHECK_INT_EQ(p.size_scalar, 0);
    CHECK_INT_EQ(p.crop_height, 336);
    CHECK_INT_EQ(p.crop_width, 336);
    CHECK(near(p.rescale_factor, 0.00392156862745098));
    CHECK_INT_EQ(p.n_grid_pinpoints, 0);
    const char *t = NULL;
    CHECK_INT_EQ(accel_hf_dir_chat_template(d, NULL, &t), ACCEL_OK); /* from chat_template.json */
    CHECK(contains(t, "message['role'].upper()"));
    accel_hf_dir_free(d);
    rm_dir();
}

static void test_llava_next(void) {
    new_dir();
    write_text("config.json",
               "{\"architectures\": [\"LlavaNextForConditionalGeneration\"], \"image_grid_pinpoints\":"
               " [[336, 672], [672, 336], [672, 672], [1008, 336], [336, 1008]], \"image_token_index\": 32000,"
               " \"model_type\": \"llava_next\", \"text_config\": {\"_name_or_path\": \"mistralai/Mistral-7B-Instruct-v0.2\","
               " \"architectures\": [\"MistralForCausalLM\"], \"intermediate_size\": 14336, \"max_position_embeddings\":"
               " 32768, \"model_type\": \"mistral\", \"num_key_value_heads\": 8, \"rms_norm_eps\": 1e-05, \"rope_theta\":"
               " 1000000.0, \"sliding_window\": null, \"torch_dtype\": \"bfloat16\", \"vocab_size\": 32064},"
               " \"use_image_newline_parameter\": true, \"vision_config\": {\"hidden_size\": 1024, \"image_size\": 336,"
               " \"intermediate_size\": 4096, \"model_type\": \"clip_vision_model\", \"num_attention_heads\": 16,"
               " \"num_hidden_layers\": 24, \"patch_size\": 14, \"projection_dim\": 768, \"vocab_size\": 32000}}");
    write_text("preprocessor_config.json",
               "{\"aspect_ratio_setting\": \"anyres\", \"crop_size\": {\"height\": 336, \"width\": 336},"
               " \"do_center_crop\": true, \"do_convert_rgb\": true, \"do_normalize\": true, \"do_rescale\": true,"
               " \"do_resize\": true, \"image_grid_pinpoints\": [[336, 672], [672, 336], [672, 672], [1008, 336],"
               " [336, 1008]], \"image_mean\": [0.48145466, 0.4578275, 0.40821073],"
               " \"image_processor_type\": \"LlavaNextImageProcessor\", \"image_std\": [0.26862954, 0.26130258,"
               " 0.27577711], \"processor_class\": \"LlavaNextProcessor\", \"resample\": 3,"
               " \"rescale_factor\": 0.00392156862745098, \"size\": {\"shortest_edge\": 336}}");
    accel_hf_dir *d = open_dir(ACCEL_OK);
    if (!d) return rm_dir();
    accel_hf_image_proc p;
    accel_hf_image_proc_init(&p);
    CHECK_INT_EQ(accel_hf_image_proc_read(accel_hf_dir_file(d, ACCEL_HF_PREPROCESSOR_CONFIG), &p), ACCEL_OK);
    CHECK_INT_EQ(p.n_grid_pinpoints, 5);
    CHECK_INT_EQ(p.grid_pinpoints[0][0], 336);
    CHECK_INT_EQ(p.grid_pinpoints[0][1], 672);
    CHECK_INT_EQ(p.grid_pinpoints[3][0], 1008);
    CHECK_INT_EQ(p.grid_pinpoints[4][1], 1008);
    const accel_hf_json *text = NULL;
    CHECK_INT_EQ(accel_hf_json_sub(accel_hf_dir_config(d), "text_config", &text), ACCEL_OK);
    if (text) {
        accel_hf_hparams hp;
        accel_hf_hparams_init(&hp);
        hp.hidden_size = 4096; /* MistralConfig defaults */
        hp.num_hidden_layers = 32;
        hp.num_attention_heads = 32;
        hp.sliding_window = 4096;
        CHECK_INT_EQ(accel_hf_hparams_read(text, ACCEL_HF_NAMING_AUTO, &hp), ACCEL_OK);
        CHECK_INT_EQ(hp.num_key_value_heads, 8);
        CHECK_INT_EQ(hp.intermediate_size, 14336);
        CHECK_INT_EQ(hp.sliding_window, 4096); /* null keeps the default: the family decides */
        CHECK(near(hp.rope_theta, 1e6));
    }
    int64_t *pins = NULL;
    size_t n = 0;
    CHECK_INT_EQ(accel_hf_json_int_array(accel_hf_dir_config(d), "image_grid_pinpoints[2]", true, &pins, &n),
                 ACCEL_OK);
    CHECK_INT_EQ(n, 2);
    if (pins) CHECK_INT_EQ(pins[0] + pins[1], 1344);
    free(pins);
    CHECK_INT_EQ(accel_hf_json_int_array(accel_hf_dir_config(d), "image_grid_pinpoints", true, &pins, &n),
                 ACCEL_ERR_MODEL_FORMAT);
    CHECK(contains(accel_last_error(), "'image_grid_pinpoints[0]' is an array, expected an integer"));
    CHECK(pins == NULL);
    accel_hf_dir_free(d);
    rm_dir();
}

static void test_whisper(void) {
    new_dir();
    write_text("config.json",
               "{\n"
               "  \"_name_or_path\": \"openai/whisper-tiny\", \"activation_dropout\": 0.0,\n"
               "  \"activation_function\": \"gelu\", \"architectures\": [\"WhisperForConditionalGeneration\"],\n"
               "  \"attention_dropout\": 0.0, \"begin_suppress_tokens\": [220, 50257], \"bos_token_id\": 50257,\n"
               "  \"d_model\": 384, \"decoder_attention_heads\": 6, \"decoder_ffn_dim\": 1536,\n"
               "  \"decoder_layerdrop\": 0.0, \"decoder_layers\": 4, \"decoder_start_token_id\": 50258,\n"
               "  \"dropout\": 0.0, \"encoder_attention_heads\": 6, \"encoder_ffn_dim\": 1536,\n"
               "  \"encoder_layerdrop\": 0.0, \"encoder_layers\": 4, \"eos_token_id\": 50257,\n"
               "  \"forced_decoder_ids\": [[1, 50259], [2, 50359], [3, 50363]], \"init_std\": 0.02,\n"
               "  \"is_encoder_decoder\": true, \"max_length\": 448, \"max_source_positions\": 1500,\n"
               "  \"max_target_positions\": 448, \"model_type\": \"whisper\", \"num_hidden_layers\": 4,\n"
               "  \"num_mel_bins\": 80, \"pad_token_id\": 50257, \"scale_embedding\": false,\n"
               "  \"suppress_tokens\": [1, 2, 7, 8, 9, 10, 14, 25], \"torch_dtype\": \"float32\",\n"
               "  \"transformers_version\": \"4.27.0.dev0\", \"use_cache\": true, \"vocab_size\": 51865\n"
               "}\n");
    write_text("preprocessor_config.json",
               "{\"chunk_length\": 30, \"feature_extractor_type\": \"WhisperFeatureExtractor\", \"feature_size\": 80,"
               " \"hop_length\": 160, \"mel_filters\": [[0.0, 0.02486259490251541], [0.0, 0.001990821911022067]],"
               " \"n_fft\": 400, \"n_samples\": 480000, \"nb_max_frames\": 3000, \"padding_side\": \"right\","
               " \"padding_value\": 0.0, \"processor_class\": \"WhisperProcessor\", \"return_attention_mask\": false,"
               " \"sampling_rate\": 16000}");
    accel_hf_dir *d = open_dir(ACCEL_OK);
    if (!d) return rm_dir();
    accel_hf_hparams hp;
    accel_hf_hparams_init(&hp);
    CHECK_INT_EQ(accel_hf_hparams_read(accel_hf_dir_config(d), ACCEL_HF_NAMING_AUTO, &hp), ACCEL_OK);
    CHECK_INT_EQ(hp.hidden_size, 384);
    CHECK_INT_EQ(hp.num_hidden_layers, 4);
    CHECK_INT_EQ(hp.num_decoder_layers, 4);
    CHECK_INT_EQ(hp.num_attention_heads, 6);
    CHECK_INT_EQ(hp.num_decoder_attention_heads, 6);
    CHECK_INT_EQ(hp.intermediate_size, 1536);
    CHECK_INT_EQ(hp.decoder_intermediate_size, 1536);
    CHECK_INT_EQ(hp.head_dim, 64);
    CHECK_INT_EQ(hp.num_mel_bins, 80);
    CHECK_INT_EQ(hp.max_source_positions, 1500);
    CHECK_INT_EQ(hp.max_target_positions, 448);
    CHECK_INT_EQ(hp.vocab_size, 51865);
    CHECK_STR_EQ(hp.hidden_act, "gelu");
    CHECK_INT_EQ(hp.decoder_start_token_id, 50258);
    CHECK_INT_EQ(hp.eos_token_ids[0], 50257);
    CHECK(hp.norm_eps == 0); /* Whisper has no eps key: the family uses 1e-5 */

    int64_t *pair = NULL;
    size_t n = 0;
    CHECK_INT_EQ(accel_hf_json_int_array(accel_hf_dir_config(d), "forced_decoder_ids[1]", true, &pair, &n), ACCEL_OK);
    CHECK(n == 2 && pair && pair[0] == 2 && pair[1] == 50359);
    free(pair);

    accel_hf_audio_proc a;
    accel_hf_audio_proc_init(&a);
    CHECK_INT_EQ(accel_hf_audio_proc_read(accel_hf_dir_file(d, ACCEL_HF_PREPROCESSOR_CONFIG), &a), ACCEL_OK);
    CHECK_STR_EQ(a.processor_type, "WhisperFeatureExtractor");
    CHECK_INT_EQ(a.feature_size, 80);
    CHECK_INT_EQ(a.sampling_rate, 16000);
    CHECK_INT_EQ(a.n_fft, 400);
    CHECK_INT_EQ(a.hop_length, 160);
    CHECK_INT_EQ(a.chunk_length, 30);
    CHECK_INT_EQ(a.n_samples, 480000);
    CHECK_INT_EQ(a.nb_max_frames, 3000);
    CHECK(!a.return_attention_mask);
    CHECK_STR_EQ(a.padding_side, "right");
    accel_hf_dir_free(d);
    rm_dir();
}

static void test_clap(void) {
    new_dir();
    write_text("config.json",
               "{\"architectures\": [\"ClapModel\"], \"audio_config\": {\"depths\": [2, 2, 6, 2], \"hidden_size\": 768,"
               " \"model_type\": \"clap_audio_model\", \"num_attention_heads\": [4, 8, 16, 32], \"num_mel_bins\": 64,"
               " \"patch_embeds_hidden_size\": 96, \"spec_size\": 256, \"window_size\": 8},"
               " \"logit_scale_init_value\": 14.285714285714285, \"model_type\": \"clap\", \"projection_dim\": 512,"
               " \"text_config\": {\"model_type\": \"clap_text_model\", \"vocab_size\": 50265,"
               " \"max_position_embeddings\": 514, \"type_vocab_size\": 1, \"pad_token_id\": 1}}");
    write_text("preprocessor_config.json",
               "{\"chunk_length_s\": 10, \"feature_extractor_type\": \"ClapFeatureExtractor\", \"feature_size\": 64,"
               " \"fft_window_size\": 1024, \"frequency_max\": 14000, \"frequency_min\": 50, \"hop_length\": 480,"
               " \"max_length_s\": 10, \"n_fft\": 1024, \"nb_frequency_bins\": 513, \"nb_max_frames\": 1000,"
               " \"nb_max_samples\": 480000, \"padding\": \"repeatpad\", \"padding_side\": \"right\","
               " \"padding_value\": 0.0, \"return_attention_mask\": false, \"sampling_rate\": 48000,"
               " \"top_db\": null, \"truncation\": \"fusion\"}");
    accel_hf_dir *d = open_dir(ACCEL_OK);
    if (!d) return rm_dir();
    const accel_hf_json *audio = NULL;
    CHECK_INT_EQ(accel_hf_json_sub(accel_hf_dir_config(d), "audio_config", &audio), ACCEL_OK);
    CHECK(audio != NULL);
    if (audio) {
        int64_t *depths = NULL, *heads = NULL;
        size_t nd = 0, nh = 0;
        CHECK_INT_EQ(accel_hf_json_int_array(audio, "depths", true, &depths, &nd), ACCEL_OK);
        CHECK_INT_EQ(accel_hf_json_int_array(audio, "num_attention_heads", true, &heads, &nh), ACCEL_OK);
        CHECK(nd == 4 && depths && depths[2] == 6);
        CHECK(nh == 4 && heads && heads[3] == 32);
        free(depths);
        free(heads);
        /* Swin-style per-stage heads are not a single head count */
        accel_hf_hparams hp;
        accel_hf_hparams_init(&hp);
        CHECK_INT_EQ(accel_hf_hparams_read(audio, ACCEL_HF_NAMING_AUTO, &hp), ACCEL_ERR_MODEL_FORMAT);
        CHECK(contains(accel_last_error(), "'audio_config.num_attention_heads' is an array, expected an integer"));
    }
    accel_hf_audio_proc a;
    accel_hf_audio_proc_init(&a);
    CHECK_INT_EQ(accel_hf_audio_proc_read(accel_hf_dir_file(d, ACCEL_HF_PREPROCESSOR_CONFIG), &a), ACCEL_OK);
    CHECK_INT_EQ(a.feature_size, 64);
    CHECK_INT_EQ(a.sampling_rate, 48000);
    CHECK_INT_EQ(a.n_fft, 1024);
    CHECK_INT_EQ(a.hop_length, 480);
    CHECK(near(a.max_length_s, 10));
    CHECK(near(a.frequency_min, 50) && near(a.frequency_max, 14000));
    CHECK_STR_EQ(a.truncation, "fusion");
    CHECK_STR_EQ(a.padding, "repeatpad");
    accel_hf_dir_free(d);
    rm_dir();
}

static void test_rope_and_aliases(void) {
    new_dir();
    write_text("config.json",
               "{\"model_type\": \"llama\", \"hidden_size\": 2048, \"num_hidden_layers\": 16,"
               " \"num_attention_heads\": 32, \"num_key_value_heads\": 8, \"head_dim\": 64, \"rope_theta\": 500000.0,"
               " \"rope_scaling\": {\"factor\": 32.0, \"high_freq_factor\": 4.0, \"low_freq_factor\": 1.0,"
               " \"original_max_position_embeddings\": 8192, \"rope_type\": \"llama3\"},"
               " \"eos_token_id\": [128001, 128008, 128009], \"tie_word_embeddings\": true, \"vocab_size\": 128256}");
    write_text("chat_template.jinja", "{{ bos_token }}{% for m in messages %}{{ m['content'] }}{% endfor %}");
    accel_hf_dir *d = open_dir(ACCEL_OK);
    if (d) {
        accel_hf_hparams hp;
        accel_hf_hparams_init(&hp);
        CHECK_INT_EQ(accel_hf_hparams_read(accel_hf_dir_config(d), ACCEL_HF_NAMING_AUTO, &hp), ACCEL_OK);
        CHECK(hp.rope_scaling.present);
        CHECK_STR_EQ(hp.rope_scaling.type, "llama3");
        CHECK(near(hp.rope_scaling.factor, 32.0));
        CHECK(near(hp.rope_scaling.high_freq_factor, 4.0));
        CHECK(near(hp.rope_scaling.low_freq_factor, 1.0));
        CHECK_INT_EQ(hp.rope_scaling.original_max_position_embeddings, 8192);
        CHECK(near(hp.rope_theta, 500000.0));
        CHECK_INT_EQ(hp.n_eos, 3);
        CHECK_INT_EQ(hp.eos_token_ids[2], 128009);
        const char *t = NULL;
        CHECK_INT_EQ(accel_hf_dir_chat_template(d, NULL, &t), ACCEL_OK); /* chat_template.jinja */
        CHECK(contains(t, "{{ bos_token }}"));
    }
    accel_hf_dir_free(d);
    rm_dir();

    /* yarn with the legacy "type" key, GPT-2 aliases */
    new_dir();
    write_text("config.json",
               "{\"model_type\": \"gpt2\", \"n_embd\": 768, \"n_layer\": 12, \"n_head\": 12, \"n_positions\": 1024,"
               " \"layer_norm_epsilon\": 1e-05, \"activation_function\": \"gelu_new\", \"vocab_size\": 50257,"
               " \"rope_scaling\": {\"type\": \"yarn\", \"factor\": 4, \"beta_fast\": 32, \"beta_slow\": 1,"
               " \"original_max_position_embeddings\": 32768}}");
    d = open_dir(ACCEL_OK);
    if (d) {
        accel_hf_hparams hp;
        accel_hf_hparams_init(&hp);
        CHECK_INT_EQ(accel_hf_hparams_read(accel_hf_dir_config(d), ACCEL_HF_NAMING_AUTO, &hp), ACCEL_OK);
        CHECK_INT_EQ(hp.hidden_size, 768);
        CHECK_INT_EQ(hp.num_hidden_layers, 12);
        CHECK_INT_EQ(hp.max_position_embeddings, 1024);
        CHECK_STR_EQ(hp.hidden_act, "gelu_new");
        CHECK_STR_EQ(hp.rope_scaling.type, "yarn");
        CHECK(near(hp.rope_scaling.factor, 4.0));
        CHECK(near(hp.rope_scaling.beta_fast, 32.0));
        CHECK(near(hp.rope_scaling.beta_slow, 1.0));
    }
    accel_hf_dir_free(d);
    rm_dir();
}

/* ---- malformed inputs -------------------------------------------------------------------------------------------- */

static void test_missing_config(void) {
    new_dir();
    write_text("tokenizer_config.json", "{}");
    accel_hf_dir *d = open_dir(ACCEL_ERR_NOT_FOUND);
    CHECK(contains(accel_last_error(), "config.json"));
    accel_hf_dir_free(d);
    rm_dir();
    d = (accel_hf_dir *)1;
    CHECK_INT_EQ(accel_hf_dir_open("/nonexistent/accel/model", NULL, &d), ACCEL_ERR_NOT_FOUND);
    CHECK(d == NULL);
    CHECK_INT_EQ(accel_hf_dir_open(NULL, NULL, &d), ACCEL_ERR_INVALID_ARG);
    accel_hf_dir_free(NULL); /* no-op */
    /* config.json is a directory */
    new_dir();
    char p[512];
    snprintf(p, sizeof p, "%s/config.json", g_dir);
    mkdir(p, 0700);
    d = open_dir(ACCEL_ERR_IO);
    CHECK(contains(accel_last_error(), "config.json"));
    rm_dir();
}

static void test_malformed_json(void) {
    /* truncated */
    size_t n = strlen(BERT_CONFIG);
    char *trunc = malloc(n);
    memcpy(trunc, BERT_CONFIG, n / 2);
    trunc[n / 2] = '\0';
    expect_config_error(trunc, ACCEL_ERR_MODEL_FORMAT, "malformed JSON", NULL);
    free(trunc);
    expect_config_error("", ACCEL_ERR_MODEL_FORMAT, "malformed JSON", NULL);
    expect_config_error("{\"a\": 1,}", ACCEL_ERR_MODEL_FORMAT, "line 1", NULL);
    expect_config_error("{\"a\": 1}\n{\"b\": 2}", ACCEL_ERR_MODEL_FORMAT, "line 2", NULL); /* trailing content */
    expect_config_error("{\"a\": tru}", ACCEL_ERR_MODEL_FORMAT, "malformed", NULL);
    expect_config_error("{\"a\": NaN}", ACCEL_ERR_MODEL_FORMAT, "malformed", NULL);
    expect_config_error("{\"a\": \"unterminated}", ACCEL_ERR_MODEL_FORMAT, "malformed", NULL);
    /* not an object at top level */
    expect_config_error("[1, 2, 3]", ACCEL_ERR_MODEL_FORMAT, "top-level value is an array", NULL);
    expect_config_error("42", ACCEL_ERR_MODEL_FORMAT, "top-level value is a number", NULL);
    expect_config_error("\"config\"", ACCEL_ERR_MODEL_FORMAT, "expected an object", NULL);
    expect_config_error("null", ACCEL_ERR_MODEL_FORMAT, "expected an object", NULL);
    /* nesting deeper than cJSON's limit */
    size_t depth = 5000;
    char *deep = malloc(depth * 2 + 16);
    size_t k = 0;
    deep[k++] = '{';
    memcpy(deep + k, "\"a\":", 4), k += 4;
    for (size_t i = 0; i < depth; i++) deep[k++] = '[';
    for (size_t i = 0; i < depth; i++) deep[k++] = ']';
    deep[k++] = '}';
    deep[k] = '\0';
    expect_config_error(deep, ACCEL_ERR_MODEL_FORMAT, "malformed JSON", NULL);
    free(deep);
    /* wrong types at open */
    expect_config_error("{\"architectures\": \"LlamaForCausalLM\"}", ACCEL_ERR_MODEL_FORMAT,
                        "key 'architectures' is a string, expected an array", NULL);
    expect_config_error("{\"architectures\": [\"A\", 3]}", ACCEL_ERR_MODEL_FORMAT, "architectures[1]", NULL);
    expect_config_error("{\"model_type\": 7}", ACCEL_ERR_MODEL_FORMAT, "'model_type' is a number, expected a string",
                        NULL);
    /* a malformed optional file fails the open and is named */
    new_dir();
    write_text("config.json", BERT_CONFIG);
    write_text("generation_config.json", "{\"max_length\": 20");
    accel_hf_dir *d = open_dir(ACCEL_ERR_MODEL_FORMAT);
    CHECK(contains(accel_last_error(), "generation_config.json"));
    accel_hf_dir_free(d);
    rm_dir();
    new_dir();
    write_text("config.json", BERT_CONFIG);
    write_text("special_tokens_map.json", "[]");
    d = open_dir(ACCEL_ERR_MODEL_FORMAT);
    CHECK(contains(accel_last_error(), "special_tokens_map.json"));
    rm_dir();
}

static void test_invalid_utf8(void) {
    static const struct {
        const char *bytes;
        const char *what;
    } cases[] = {
        {"{\"model_type\": \"b\xC3\x28rt\"}", "bad continuation"},
        {"{\"model_type\": \"\xC0\xAF\"}", "overlong 2-byte"},
        {"{\"model_type\": \"\xE0\x80\xAF\"}", "overlong 3-byte"},
        {"{\"model_type\": \"\xED\xA0\x80\"}", "UTF-16 surrogate"},
        {"{\"model_type\": \"\xF4\x90\x80\x80\"}", "above U+10FFFF"},
        {"{\"model_type\": \"\xFF\"}", "0xFF"},
        {"{\"model_type\": \"\xE2\x82\"}", "truncated sequence"},
        {"{\"model_type\": \"bert\"}\xE2", "truncated at end of file"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        new_dir();
        write_text("config.json", cases[i].bytes);
        accel_hf_dir *d = open_dir(ACCEL_ERR_MODEL_FORMAT);
        if (!contains(accel_last_error(), "UTF-8") || !contains(accel_last_error(), "config.json")) {
            fprintf(stderr, "  case %s: %s\n", cases[i].what, accel_last_error());
            CHECK(false);
        }
        accel_hf_dir_free(d);
        rm_dir();
    }
    /* an embedded NUL byte */
    new_dir();
    write_bytes("config.json", "{\"a\": \"x\0y\"}", 12);
    accel_hf_dir *d = open_dir(ACCEL_ERR_MODEL_FORMAT);
    CHECK(contains(accel_last_error(), "byte 8"));
    accel_hf_dir_free(d);
    rm_dir();
    /* invalid UTF-8 in chat_template.jinja */
    new_dir();
    write_text("config.json", "{}");
    write_text("chat_template.jinja", "{{ x }}\xC3");
    d = open_dir(ACCEL_ERR_MODEL_FORMAT);
    CHECK(contains(accel_last_error(), "chat_template.jinja"));
    rm_dir();
    /* valid multi-byte text, a BOM, and the checker itself */
    new_dir();
    write_text("config.json", "\xEF\xBB\xBF{\"model_type\": \"\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\xF4\x8F\xBF\xBF\"}");
    d = open_dir(ACCEL_OK);
    CHECK_STR_EQ(accel_hf_dir_model_type(d), "\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\xF4\x8F\xBF\xBF");
    accel_hf_dir_free(d);
    rm_dir();
    size_t bad = 99;
    CHECK(accel_json_utf8_check("abc", 3, &bad));
    CHECK(!accel_json_utf8_check("ab\x80", 3, &bad));
    CHECK_INT_EQ(bad, 2);
    CHECK(!accel_json_utf8_check("\xF8\x88\x80\x80\x80", 5, &bad));
    CHECK_INT_EQ(bad, 0);
    CHECK(accel_json_utf8_check("\xEF\xBF\xBF", 3, NULL)); /* U+FFFF is allowed */
}

static void test_size_cap(void) {
    new_dir();
    /* a valid config padded with whitespace to 4000 bytes, opened with a 1024-byte cap */
    char *big = malloc(4001);
    memset(big, ' ', 4000);
    memcpy(big, "{\"hidden_size\": 8}", 18);
    big[4000] = '\0';
    write_text("config.json", big);
    free(big);
    accel_hf_dir_params p = accel_hf_dir_default_params();
    CHECK(p.max_file_bytes == ACCEL_JSON_DEFAULT_MAX_BYTES);
    p.max_file_bytes = 1024;
    accel_hf_dir *d = (accel_hf_dir *)1;
    CHECK_INT_EQ(accel_hf_dir_open(g_dir, &p, &d), ACCEL_ERR_MODEL_FORMAT);
    CHECK(d == NULL);
    CHECK(contains(accel_last_error(), "config.json"));
    CHECK(contains(accel_last_error(), "over the limit of 1024 bytes"));
    p.max_file_bytes = 4000; /* exactly at the cap is fine */
    CHECK_INT_EQ(accel_hf_dir_open(g_dir, &p, &d), ACCEL_OK);
    accel_hf_dir_free(d);
    /* the default cap: a sparse file one byte over 64 MiB, rejected before reading */
    char path[512];
    snprintf(path, sizeof path, "%s/tokenizer_config.json", g_dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    CHECK(fd >= 0);
    if (fd >= 0) {
        CHECK(ftruncate(fd, (off_t)ACCEL_JSON_DEFAULT_MAX_BYTES + 1) == 0);
        close(fd);
    }
    d = open_dir(ACCEL_ERR_MODEL_FORMAT);
    CHECK(contains(accel_last_error(), "tokenizer_config.json"));
    CHECK(contains(accel_last_error(), "over the limit"));
    rm_dir();
}

static void test_wrong_types_in_readers(void) {
    struct {
        const char *config;
        const char *needle;
    } cases[] = {
        {"{\"hidden_size\": \"768\", \"num_hidden_layers\": 2, \"num_attention_heads\": 2}",
         "key 'hidden_size' is a string, expected an integer"},
        {"{\"hidden_size\": 768.5, \"num_hidden_layers\": 2, \"num_attention_heads\": 2}", "expected an integer"},
        {"{\"hidden_size\": 1e300, \"num_hidden_layers\": 2, \"num_attention_heads\": 2}", "expected an integer"},
        {"{\"hidden_size\": 64, \"num_hidden_layers\": 2}", "missing key 'num_attention_heads'"},
        {"{\"hidden_size\": 64, \"num_hidden_layers\": 2, \"num_attention_heads\": 6, \"num_key_value_heads\": 4}",
         "not a multiple of num_key_value_heads"},
        {"{\"hidden_size\": 100, \"num_hidden_layers\": 2, \"num_attention_heads\": 3}", "no head_dim"},
        {"{\"hidden_size\": 64, \"num_hidden_layers\": -2, \"num_attention_heads\": 2}", "negative"},
        {"{\"hidden_size\": 64, \"num_hidden_layers\": 2, \"num_attention_heads\": 2, \"rms_norm_eps\": \"1e-6\"}",
         "key 'rms_norm_eps' is a string, expected a number"},
        {"{\"hidden_size\": 64, \"num_hidden_layers\": 2, \"num_attention_heads\": 2, \"tie_word_embeddings\": 1}",
         "key 'tie_word_embeddings' is a number, expected a boolean"},
        {"{\"hidden_size\": 64, \"num_hidden_layers\": 2, \"num_attention_heads\": 2, \"rope_scaling\": 2}",
         "key 'rope_scaling' is a number, expected an object"},
        {"{\"hidden_size\": 64, \"num_hidden_layers\": 2, \"num_attention_heads\": 2,"
         " \"rope_scaling\": {\"type\": \"linear\", \"factor\": \"2\"}}",
         "key 'rope_scaling.factor' is a string, expected a number"},
        {"{\"hidden_size\": 64, \"num_hidden_layers\": 2, \"num_attention_heads\": 2, \"eos_token_id\": [1, \"2\"]}",
         "key 'eos_token_id[1]' is a string"},
        {"{\"hidden_size\": 64, \"num_hidden_layers\": 2, \"num_attention_heads\": 2,"
         " \"eos_token_id\": [1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17]}",
         "more than 16"},
        {"{\"hidden_size\": 64, \"num_hidden_layers\": 2, \"num_attention_heads\": 2, \"hidden_act\": [\"gelu\"]}",
         "key 'hidden_act' is an array, expected a string"},
        {"{\"text_config\": {\"hidden_size\": 64, \"num_hidden_layers\": 2, \"num_attention_heads\": true}}",
         "key 'text_config.num_attention_heads' is a boolean, expected an integer"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        new_dir();
        write_text("config.json", cases[i].config);
        accel_hf_dir *d = open_dir(ACCEL_OK);
        if (d) {
            const accel_hf_json *j = accel_hf_dir_config(d), *tc = NULL;
            if (accel_hf_json_sub(j, "text_config", &tc) == ACCEL_OK && tc) j = tc;
            accel_hf_hparams hp;
            accel_hf_hparams_init(&hp);
            accel_status st = accel_hf_hparams_read(j, ACCEL_HF_NAMING_AUTO, &hp);
            if (st != ACCEL_ERR_MODEL_FORMAT || !contains(accel_last_error(), cases[i].needle) ||
                !contains(accel_last_error(), "config.json")) {
                fprintf(stderr, "  case %zu: status %s, message: %s\n", i, accel_status_name(st), accel_last_error());
                CHECK(false);
            }
        }
        accel_hf_dir_free(d);
        rm_dir();
    }
}

static void test_malformed_other_files(void) {
    new_dir();
    write_text("config.json", "{\"model_type\": \"x\", \"a\": 1, \"a\": 2}"); /* duplicate: last wins */
    write_text("generation_config.json", "{\"early_stopping\": \"sometimes\", \"num_beams\": 0}");
    write_text("preprocessor_config.json",
               "{\"size\": {\"shortest\": 224}, \"image_mean\": [0.5, 0.5, 0.5], \"image_std\": [0.5, 0.5],"
               " \"image_grid_pinpoints\": [[336, 672], [672]], \"crop_size\": \"224\", \"sampling_rate\": 0}");
    write_text("tokenizer_config.json",
               "{\"bos_token\": {\"lstrip\": false}, \"chat_template\": [{\"name\": \"default\", \"template\": \"A\"},"
               " {\"name\": \"rag\", \"template\": 5}], \"model_max_length\": -3, \"add_bos_token\": \"yes\"}");
    accel_hf_dir *d = open_dir(ACCEL_OK);
    if (!d) return rm_dir();
    int64_t a = 0;
    CHECK_INT_EQ(accel_hf_json_int(accel_hf_dir_config(d), "a", &a), ACCEL_OK);
    CHECK_INT_EQ(a, 2);

    accel_hf_generation g;
    CHECK_INT_EQ(accel_hf_dir_generation(d, &g), ACCEL_ERR_MODEL_FORMAT);
    CHECK(contains(accel_last_error(), "generation_config.json"));
    CHECK(contains(accel_last_error(), "'early_stopping' is a string, expected true, false or \"never\""));

    accel_hf_image_proc p;
    accel_hf_image_proc_init(&p);
    CHECK_INT_EQ(accel_hf_image_proc_read(accel_hf_dir_file(d, ACCEL_HF_PREPROCESSOR_CONFIG), &p),
                 ACCEL_ERR_MODEL_FORMAT);
    CHECK(contains(accel_last_error(), "preprocessor_config.json: key 'size' has none of"));
    accel_hf_audio_proc ap;
    accel_hf_audio_proc_init(&ap);
    CHECK_INT_EQ(accel_hf_audio_proc_read(accel_hf_dir_file(d, ACCEL_HF_PREPROCESSOR_CONFIG), &ap),
                 ACCEL_ERR_MODEL_FORMAT);
    CHECK(contains(accel_last_error(), "'sampling_rate' must be positive"));

    accel_hf_tokenizer_config tc;
    CHECK_INT_EQ(accel_hf_dir_tokenizer_config(d, &tc), ACCEL_ERR_MODEL_FORMAT);
    CHECK(contains(accel_last_error(), "tokenizer_config.json: missing key 'bos_token.content'"));
    const char *t = NULL;
    CHECK_INT_EQ(accel_hf_dir_chat_template(d, "default", &t), ACCEL_ERR_MODEL_FORMAT); /* rag's template is 5 */
    CHECK(contains(accel_last_error(), "'chat_template[1].template' is a number, expected a string"));
    accel_hf_dir_free(d);
    rm_dir();

    /* each preprocessor problem alone */
    const char *pre[][2] = {
        {"{\"image_mean\": [0.5, 0.5, 0.5], \"image_std\": [0.5, 0.5]}", "same count"},
        {"{\"image_grid_pinpoints\": [[336, 672], [672]]}", "'image_grid_pinpoints[1]' is not a pair"},
        {"{\"image_grid_pinpoints\": [[336, -672]]}", "'image_grid_pinpoints[0][1]' must be positive"},
        {"{\"crop_size\": \"224\"}", "'crop_size' is a string, expected an integer or an object"},
        {"{\"size\": {\"height\": 0, \"width\": 224}}", "'size.height' must be positive"},
        {"{\"image_std\": [0.5, 0, 0.5], \"image_mean\": [0.5, 0.5, 0.5]}", "has a zero"},
        {"{\"resample\": 9}", "PIL filter"},
        {"{\"do_resize\": \"true\"}", "'do_resize' is a string, expected a boolean"},
    };
    for (size_t i = 0; i < sizeof pre / sizeof pre[0]; i++) {
        new_dir();
        write_text("config.json", "{}");
        write_text("preprocessor_config.json", pre[i][0]);
        d = open_dir(ACCEL_OK);
        if (d) {
            accel_hf_image_proc_init(&p);
            accel_status st = accel_hf_image_proc_read(accel_hf_dir_file(d, ACCEL_HF_PREPROCESSOR_CONFIG), &p);
            if (st != ACCEL_ERR_MODEL_FORMAT || !contains(accel_last_error(), pre[i][1])) {
                fprintf(stderr, "  preprocessor case %zu: %s: %s\n", i, accel_status_name(st), accel_last_error());
                CHECK(false);
            }
        }
        accel_hf_dir_free(d);
        rm_dir();
    }
    /* tokenizer problems alone; chat template list with names */
    const char *tok[][2] = {
        {"{\"model_max_length\": -3}", "'model_max_length' must be positive"},
        {"{\"add_bos_token\": \"yes\"}", "'add_bos_token' is a string, expected a boolean"},
        {"{\"eos_token\": 2}", "'eos_token' is a number, expected a string or an AddedToken"},
        {"{\"pad_token\": {\"content\": \"<pad>\", \"special\": \"yes\"}}", "'pad_token.special' is a string"},
        {"{\"chat_template\": 5}", "'chat_template' is a number, expected a string or a list"},
        {"{\"chat_template\": [\"x\"]}", "'chat_template[0]' is a string, expected an object"},
    };
    for (size_t i = 0; i < sizeof tok / sizeof tok[0]; i++) {
        new_dir();
        write_text("config.json", "{}");
        write_text("tokenizer_config.json", tok[i][0]);
        d = open_dir(ACCEL_OK);
        if (d) {
            accel_status st = accel_hf_dir_tokenizer_config(d, &tc);
            if (st != ACCEL_ERR_MODEL_FORMAT || !contains(accel_last_error(), tok[i][1]) ||
                !contains(accel_last_error(), "tokenizer_config.json")) {
                fprintf(stderr, "  tokenizer case %zu: %s: %s\n", i, accel_status_name(st), accel_last_error());
                CHECK(false);
            }
        }
        accel_hf_dir_free(d);
        rm_dir();
    }
    new_dir();
    write_text("config.json", "{}");
    write_text("tokenizer_config.json",
               "{\"chat_template\": [{\"name\": \"default\", \"template\": \"D\"}, {\"name\": \"tool_use\","
               " \"template\": \"T\"}], \"mask_token\": {\"__type\": \"AddedToken\", \"content\": \"[MASK]\","
               " \"lstrip\": true, \"normalized\": false, \"rstrip\": false, \"single_word\": false,"
               " \"special\": true}}");
    d = open_dir(ACCEL_OK);
    if (d) {
        CHECK_INT_EQ(accel_hf_dir_chat_template(d, "tool_use", &t), ACCEL_OK);
        CHECK_STR_EQ(t, "T");
        CHECK_INT_EQ(accel_hf_dir_tokenizer_config(d, &tc), ACCEL_OK);
        CHECK_STR_EQ(tc.chat_template, "D");
        CHECK_STR_EQ(tc.mask.content, "[MASK]");
        CHECK(tc.mask.lstrip && !tc.mask.rstrip && !tc.mask.normalized && tc.mask.special);
        const accel_hf_json *el = NULL;
        CHECK_INT_EQ(accel_hf_json_sub(accel_hf_dir_file(d, ACCEL_HF_TOKENIZER_CONFIG), "chat_template[1]", &el),
                     ACCEL_OK);
        CHECK(el != NULL);
        if (el) CHECK_STR_EQ(accel_hf_json_path(el), "chat_template[1]");
    }
    accel_hf_dir_free(d);
    rm_dir();
}

int main(void) {
    RUN(test_bert);
    RUN(test_t5);
    RUN(test_tinyllama);
    RUN(test_qwen2);
    RUN(test_clip);
    RUN(test_llava);
    RUN(test_llava_next);
    RUN(test_whisper);
    RUN(test_clap);
    RUN(test_rope_and_aliases);
    RUN(test_missing_config);
    RUN(test_malformed_json);
    RUN(test_invalid_utf8);
    RUN(test_size_cap);
    RUN(test_wrong_types_in_readers);
    RUN(test_malformed_other_files);
    return test_summary();
}
