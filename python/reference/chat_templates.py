#!/usr/bin/env python3
"""Reference fixtures for the chat-template interpreter (src/text/chat_template.c): tests/fixtures/chat/*.json.

Usage (from the repository root, with the reference venv that has transformers and jinja2):
    /work/venv-torch/bin/python python/reference/chat_templates.py

Every expected string is produced by Hugging Face's own renderer,
transformers.utils.chat_template_utils.render_jinja_template (what tokenizer.apply_chat_template(...,
tokenize=False) calls: an ImmutableSandboxedEnvironment with trim_blocks=True, lstrip_blocks=True, the
loopcontrols extension, HF's tojson, raise_exception and strftime_now). Errors record the exception HF raised.

Files written:
  <template>.json   one real published chat template: its source text, where it came from, and conversations
                    rendered through the message API (role/content strings, add_generation_prompt, bos/eos);
                    some also carry "context" cases (a whole JSON context: tools, tool_calls...).
  expressions.json  small templates exercising one construct each, with a JSON context and HF's output.
  malformed.json    templates that must fail, with the status libaccel must return (and Jinja's own message
                    where Jinja can run them; limit cases are not run through Jinja).
"""
import json
import sys
from pathlib import Path

import jinja2
import transformers
from transformers.utils.chat_template_utils import render_jinja_template

OUT = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "chat"
ROOT = Path(__file__).resolve().parents[2]

# ---- the real templates ---------------------------------------------------------------------------------------
# The texts are the published tokenizer_config.json "chat_template" strings (after JSON decoding). Where they were
# taken from is recorded in each fixture's "source"; "\n" inside a Jinja string literal below is the two characters
# backslash + n, exactly as in the published JSON (which spells it "\\n").

QWEN2 = (ROOT / "tests/fixtures/models/qwen2/model/chat_template.jinja").read_text(encoding="utf-8")

QWEN2_5 = r'''{%- if tools %}
    {{- '<|im_start|>system\n' }}
    {%- if messages[0]['role'] == 'system' %}
        {{- messages[0]['content'] }}
    {%- else %}
        {{- 'You are Qwen, created by Alibaba Cloud. You are a helpful assistant.' }}
    {%- endif %}
    {{- "\n\n# Tools\n\nYou may call one or more functions to assist with the user query.\n\nYou are provided with function signatures within <tools></tools> XML tags:\n<tools>" }}
    {%- for tool in tools %}
        {{- "\n" }}
        {{- tool | tojson }}
    {%- endfor %}
    {{- "\n</tools>\n\nFor each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\n<tool_call>\n{\"name\": <function-name>, \"arguments\": <args-json-object>}\n</tool_call><|im_end|>\n" }}
{%- else %}
    {%- if messages[0]['role'] == 'system' %}
        {{- '<|im_start|>system\n' + messages[0]['content'] + '<|im_end|>\n' }}
    {%- else %}
        {{- '<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n' }}
    {%- endif %}
{%- endif %}
{%- for message in messages %}
    {%- if (message.role == "user") or (message.role == "system" and not loop.first) or (message.role == "assistant" and not message.tool_calls) %}
        {{- '<|im_start|>' + message.role + '\n' + message.content + '<|im_end|>' + '\n' }}
    {%- elif message.role == "assistant" %}
        {{- '<|im_start|>' + message.role }}
        {%- if message.content %}
            {{- '\n' + message.content }}
        {%- endif %}
        {%- for tool_call in message.tool_calls %}
            {%- if tool_call.function is defined %}
                {%- set tool_call = tool_call.function %}
            {%- endif %}
            {{- '\n<tool_call>\n{"name": "' }}
            {{- tool_call.name }}
            {{- '", "arguments": ' }}
            {{- tool_call.arguments | tojson }}
            {{- '}\n</tool_call>' }}
        {%- endfor %}
        {{- '<|im_end|>\n' }}
    {%- elif message.role == "tool" %}
        {%- if (loop.index0 == 0) or (messages[loop.index0 - 1].role != "tool") %}
            {{- '<|im_start|>user' }}
        {%- endif %}
        {{- '\n<tool_response>\n' }}
        {{- message.content }}
        {{- '\n</tool_response>' }}
        {%- if loop.last or (messages[loop.index0 + 1].role != "tool") %}
            {{- '<|im_end|>\n' }}
        {%- endif %}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|im_start|>assistant\n' }}
{%- endif %}
'''

TINYLLAMA = """{% for message in messages %}
{% if message['role'] == 'user' %}
{{ '<|user|>
' + message['content'] + eos_token }}
{% elif message['role'] == 'system' %}
{{ '<|system|>
' + message['content'] + eos_token }}
{% elif message['role'] == 'assistant' %}
{{ '<|assistant|>
'  + message['content'] + eos_token }}
{% endif %}
{% if loop.last and add_generation_prompt %}
{{ '<|assistant|>' }}
{% endif %}
{% endfor %}"""

LLAMA2 = r"""{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}{% set system_message = messages[0]['content'] %}{% else %}{% set loop_messages = messages %}{% set system_message = false %}{% endif %}{% for message in loop_messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if loop.index0 == 0 and system_message != false %}{% set content = '<<SYS>>\n' + system_message + '\n<</SYS>>\n\n' + message['content'] %}{% else %}{% set content = message['content'] %}{% endif %}{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ ' '  + content.strip() + ' ' + eos_token }}{% endif %}{% endfor %}"""

MISTRAL_V0_1 = r"""{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token + ' ' }}{% else %}{{ raise_exception('Only user and assistant roles are supported!') }}{% endif %}{% endfor %}"""

MISTRAL_V0_2 = r"""{%- if messages[0]['role'] == 'system' %}
    {%- set system_message = messages[0]['content'] %}
    {%- set loop_messages = messages[1:] %}
{%- else %}
    {%- set loop_messages = messages %}
{%- endif %}

{{- bos_token }}
{%- for message in loop_messages %}
    {%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}
        {{- raise_exception('After the optional system message, conversation roles must alternate user/assistant/user/assistant/...') }}
    {%- endif %}
    {%- if message['role'] == 'user' %}
        {%- if loop.first and system_message is defined %}
            {{- ' [INST] ' + system_message + '\n\n' + message['content'] + ' [/INST]' }}
        {%- else %}
            {{- ' [INST] ' + message['content'] + ' [/INST]' }}
        {%- endif %}
    {%- elif message['role'] == 'assistant' %}
        {{- ' ' + message['content'] + eos_token}}
    {%- else %}
        {{- raise_exception('Only user and assistant roles are supported, with the exception of an initial optional system message!') }}
    {%- endif %}
{%- endfor %}
"""

MISTRAL_V0_3 = r"""{%- if messages[0]["role"] == "system" %}
    {%- set system_message = messages[0]["content"] %}
    {%- set loop_messages = messages[1:] %}
{%- else %}
    {%- set loop_messages = messages %}
{%- endif %}
{%- if not tools is defined %}
    {%- set tools = none %}
{%- endif %}
{%- set user_messages = loop_messages | selectattr("role", "equalto", "user") | list %}

{#- This block checks for alternating user/assistant messages, skipping tool calling messages #}
{%- set ns = namespace() %}
{%- set ns.index = 0 %}
{%- for message in loop_messages %}
    {%- if not (message.role == "tool" or message.role == "tool_results" or (message.tool_calls is defined and message.tool_calls is not none)) %}
        {%- if (message["role"] == "user") != (ns.index % 2 == 0) %}
            {{- raise_exception("After the optional system message, conversation roles must alternate user/assistant/user/assistant/...") }}
        {%- endif %}
        {%- set ns.index = ns.index + 1 %}
    {%- endif %}
{%- endfor %}

{{- bos_token }}
{%- for message in loop_messages %}
    {%- if message["role"] == "user" %}
        {%- if tools is not none and (message == user_messages[-1]) %}
            {{- "[AVAILABLE_TOOLS] [" }}
            {%- for tool in tools %}
                {%- set tool = tool.function %}
                {{- '{"type": "function", "function": {' }}
                {%- for key, val in tool.items() if key != "return" %}
                    {%- if val is string %}
                        {{- '"' + key + '": "' + val + '"' }}
                    {%- else %}
                        {{- '"' + key + '": ' + val|tojson }}
                    {%- endif %}
                    {%- if not loop.last %}
                        {{- ", " }}
                    {%- endif %}
                {%- endfor %}
                {{- "}}" }}
                {%- if not loop.last %}
                    {{- ", " }}
                {%- else %}
                    {{- "]" }}
                {%- endif %}
            {%- endfor %}
            {{- "[/AVAILABLE_TOOLS]" }}
            {%- endif %}
        {%- if loop.last and system_message is defined %}
            {{- "[INST] " + system_message + "\n\n" + message["content"] + "[/INST]" }}
        {%- else %}
            {{- "[INST] " + message["content"] + "[/INST]" }}
        {%- endif %}
    {%- elif message.tool_calls is defined and message.tool_calls is not none %}
        {{- "[TOOL_CALLS] [" }}
        {%- for tool_call in message.tool_calls %}
            {%- set out = tool_call.function|tojson %}
            {{- out[:-1] }}
            {%- if not tool_call.id is defined or tool_call.id|length != 9 %}
                {{- raise_exception("Tool call IDs should be alphanumeric strings with length 9!") }}
            {%- endif %}
            {{- ', "id": "' + tool_call.id + '"}' }}
            {%- if not loop.last %}
                {{- ", " }}
            {%- else %}
                {{- "]" + eos_token }}
            {%- endif %}
        {%- endfor %}
    {%- elif message["role"] == "assistant" %}
        {{- " " + message["content"]|trim + eos_token}}
    {%- elif message["role"] == "tool_results" or message["role"] == "tool" %}
        {%- if message.content is defined and message.content.content is defined %}
            {%- set content = message.content.content %}
        {%- else %}
            {%- set content = message.content %}
        {%- endif %}
        {{- '[TOOL_RESULTS] {"content": ' + content|string + ", " }}
        {%- if not message.tool_call_id is defined or message.tool_call_id|length != 9 %}
            {{- raise_exception("Tool call IDs should be alphanumeric strings with length 9!") }}
        {%- endif %}
        {{- '"call_id": "' + message.tool_call_id + '"}[/TOOL_RESULTS]' }}
    {%- else %}
        {{- raise_exception("Only user and assistant roles are supported, with the exception of an initial optional system message!") }}
    {%- endif %}
{%- endfor %}
"""

VICUNA = r"""{% if messages[0]['role'] == 'system' %}
    {% set loop_messages = messages[1:] %}
    {% set system_message = messages[0]['content'].strip() + '\n\n' %}
{% else %}
    {% set loop_messages = messages %}
    {% set system_message = '' %}
{% endif %}
{% for message in loop_messages %}
    {% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}
        {{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}
    {% endif %}
    {% if loop.index0 == 0 %}
        {{ bos_token + system_message }}
    {% endif %}
    {% if message['role'] == 'user' %}
        {{ 'USER: ' + message['content'].strip() + '\n' }}
    {% elif message['role'] == 'assistant' %}
        {{ 'ASSISTANT: ' + message['content'].strip() + eos_token + '\n' }}
    {% endif %}
{% endfor %}
{% if add_generation_prompt %}
    {{ 'ASSISTANT:' }}
{% endif %}"""

CHATML = r"""{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"""

LLAMA3 = """{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>

'+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>

' }}{% endif %}"""

GEMMA = """{{ bos_token }}{% if messages[0]['role'] == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if (message['role'] == 'assistant') %}{% set role = 'model' %}{% else %}{% set role = message['role'] %}{% endif %}{{ '<start_of_turn>' + role + '
' + message['content'] | trim + '<end_of_turn>
' }}{% endfor %}{% if add_generation_prompt %}{{'<start_of_turn>model
'}}{% endif %}"""

QWEN3 = '{%- if tools %}\n    {{- \'<|im_start|>system\\n\' }}\n    {%- if messages[0].role == \'system\' %}\n        {{- messages[0].content + \'\\n\\n\' }}\n    {%- endif %}\n    {{- "# Tools\\n\\nYou may call one or more functions to assist with the user query.\\n\\nYou are provided with function signatures within <tools></tools> XML tags:\\n<tools>" }}\n    {%- for tool in tools %}\n        {{- "\\n" }}\n        {{- tool | tojson }}\n    {%- endfor %}\n    {{- "\\n</tools>\\n\\nFor each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\\n<tool_call>\\n{\\"name\\": <function-name>, \\"arguments\\": <args-json-object>}\\n</tool_call><|im_end|>\\n" }}\n{%- else %}\n    {%- if messages[0].role == \'system\' %}\n        {{- \'<|im_start|>system\\n\' + messages[0].content + \'<|im_end|>\\n\' }}\n    {%- endif %}\n{%- endif %}\n{%- set ns = namespace(multi_step_tool=true, last_query_index=messages|length - 1) %}\n{%- for message in messages[::-1] %}\n    {%- set index = (messages|length - 1) - loop.index0 %}\n    {%- if ns.multi_step_tool and message.role == "user" and message.content is string and not(message.content.startswith(\'<tool_response>\') and message.content.endswith(\'</tool_response>\')) %}\n        {%- set ns.multi_step_tool = false %}\n        {%- set ns.last_query_index = index %}\n    {%- endif %}\n{%- endfor %}\n{%- for message in messages %}\n    {%- if message.content is string %}\n        {%- set content = message.content %}\n    {%- else %}\n        {%- set content = \'\' %}\n    {%- endif %}\n    {%- if (message.role == "user") or (message.role == "system" and not loop.first) %}\n        {{- \'<|im_start|>\' + message.role + \'\\n\' + content + \'<|im_end|>\' + \'\\n\' }}\n    {%- elif message.role == "assistant" %}\n        {%- set reasoning_content = \'\' %}\n        {%- if message.reasoning_content is string %}\n            {%- set reasoning_content = message.reasoning_content %}\n        {%- else %}\n            {%- if \'</think>\' in content %}\n                {%- set reasoning_content = content.split(\'</think>\')[0].rstrip(\'\\n\').split(\'<think>\')[-1].lstrip(\'\\n\') %}\n                {%- set content = content.split(\'</think>\')[-1].lstrip(\'\\n\') %}\n            {%- endif %}\n        {%- endif %}\n        {%- if loop.index0 > ns.last_query_index %}\n            {%- if loop.last or (not loop.last and reasoning_content) %}\n                {{- \'<|im_start|>\' + message.role + \'\\n<think>\\n\' + reasoning_content.strip(\'\\n\') + \'\\n</think>\\n\\n\' + content.lstrip(\'\\n\') }}\n            {%- else %}\n                {{- \'<|im_start|>\' + message.role + \'\\n\' + content }}\n            {%- endif %}\n        {%- else %}\n            {{- \'<|im_start|>\' + message.role + \'\\n\' + content }}\n        {%- endif %}\n        {%- if message.tool_calls %}\n            {%- for tool_call in message.tool_calls %}\n                {%- if (loop.first and content) or (not loop.first) %}\n                    {{- \'\\n\' }}\n                {%- endif %}\n                {%- if tool_call.function %}\n                    {%- set tool_call = tool_call.function %}\n                {%- endif %}\n                {{- \'<tool_call>\\n{"name": "\' }}\n                {{- tool_call.name }}\n                {{- \'", "arguments": \' }}\n                {%- if tool_call.arguments is string %}\n                    {{- tool_call.arguments }}\n                {%- else %}\n                    {{- tool_call.arguments | tojson }}\n                {%- endif %}\n                {{- \'}\\n</tool_call>\' }}\n            {%- endfor %}\n        {%- endif %}\n        {{- \'<|im_end|>\\n\' }}\n    {%- elif message.role == "tool" %}\n        {%- if loop.first or (messages[loop.index0 - 1].role != "tool") %}\n            {{- \'<|im_start|>user\' }}\n        {%- endif %}\n        {{- \'\\n<tool_response>\\n\' }}\n        {{- content }}\n        {{- \'\\n</tool_response>\' }}\n        {%- if loop.last or (messages[loop.index0 + 1].role != "tool") %}\n            {{- \'<|im_end|>\\n\' }}\n        {%- endif %}\n    {%- endif %}\n{%- endfor %}\n{%- if add_generation_prompt %}\n    {{- \'<|im_start|>assistant\\n\' }}\n    {%- if enable_thinking is defined and enable_thinking is false %}\n        {{- \'<think>\\n\\n</think>\\n\\n\' }}\n    {%- endif %}\n{%- endif %}'

LLAMA3_2 = r"""{{- bos_token }}
{%- if custom_tools is defined %}
    {%- set tools = custom_tools %}
{%- endif %}
{%- if not tools_in_user_message is defined %}
    {%- set tools_in_user_message = true %}
{%- endif %}
{%- if not date_string is defined %}
    {%- if strftime_now is defined %}
        {%- set date_string = strftime_now("%d %b %Y") %}
    {%- else %}
        {%- set date_string = "26 Jul 2024" %}
    {%- endif %}
{%- endif %}
{%- if not tools is defined %}
    {%- set tools = none %}
{%- endif %}

{#- This block extracts the system message, so we can slot it into the right place. #}
{%- if messages[0]['role'] == 'system' %}
    {%- set system_message = messages[0]['content']|trim %}
    {%- set messages = messages[1:] %}
{%- else %}
    {%- set system_message = "" %}
{%- endif %}

{#- System message #}
{{- "<|start_header_id|>system<|end_header_id|>\n\n" }}
{%- if tools is not none %}
    {{- "Environment: ipython\n" }}
{%- endif %}
{{- "Cutting Knowledge Date: December 2023\n" }}
{{- "Today Date: " + date_string + "\n\n" }}
{%- if tools is not none and not tools_in_user_message %}
    {{- "You have access to the following functions. To call a function, please respond with JSON for a function call." }}
    {{- 'Respond in the format {"name": function name, "parameters": dictionary of argument name and its value}.' }}
    {{- "Do not use variables.\n\n" }}
    {%- for t in tools %}
        {{- t | tojson(indent=4) }}
        {{- "\n\n" }}
    {%- endfor %}
{%- endif %}
{{- system_message }}
{{- "<|eot_id|>" }}

{#- Custom tools are passed in a user message with some extra guidance #}
{%- if tools_in_user_message and not tools is none %}
    {#- Extract the first user message so we can plug it in here #}
    {%- if messages | length != 0 %}
        {%- set first_user_message = messages[0]['content']|trim %}
        {%- set messages = messages[1:] %}
    {%- else %}
        {{- raise_exception("Cannot put tools in the first user message when there's no first user message!") }}
{%- endif %}
    {{- '<|start_header_id|>user<|end_header_id|>\n\n' -}}
    {{- "Given the following functions, please respond with a JSON for a function call " }}
    {{- "with its proper arguments that best answers the given prompt.\n\n" }}
    {{- 'Respond in the format {"name": function name, "parameters": dictionary of argument name and its value}.' }}
    {{- "Do not use variables.\n\n" }}
    {%- for t in tools %}
        {{- t | tojson(indent=4) }}
        {{- "\n\n" }}
    {%- endfor %}
    {{- first_user_message + "<|eot_id|>"}}
{%- endif %}

{%- for message in messages %}
    {%- if not (message.role == 'ipython' or message.role == 'tool' or 'tool_calls' in message) %}
        {{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + '<|eot_id|>' }}
    {%- elif 'tool_calls' in message %}
        {%- if not message.tool_calls|length == 1 %}
            {{- raise_exception("This model only supports single tool-calls at once!") }}
        {%- endif %}
        {%- set tool_call = message.tool_calls[0].function %}
        {{- '<|start_header_id|>assistant<|end_header_id|>\n\n' -}}
        {{- '{"name": "' + tool_call.name + '", ' }}
        {{- '"parameters": ' }}
        {{- tool_call.arguments | tojson }}
        {{- "}" }}
        {{- "<|eot_id|>" }}
    {%- elif message.role == "tool" or message.role == "ipython" %}
        {{- "<|start_header_id|>ipython<|end_header_id|>\n\n" }}
        {%- if message.content is mapping or message.content is iterable %}
            {{- message.content | tojson }}
        {%- else %}
            {{- message.content }}
        {%- endif %}
        {{- "<|eot_id|>" }}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|start_header_id|>assistant<|end_header_id|>\n\n' }}
{%- endif %}
"""

TEMPLATES = [
    # (file name, source text, where the text came from, bos, eos, extra variables)
    ("qwen2", QWEN2, "Qwen/Qwen2-0.5B-Instruct tokenizer_config.json chat_template, as saved in "
     "tests/fixtures/models/qwen2/model/chat_template.jinja", None, "<|im_end|>", {}),
    ("qwen2_5", QWEN2_5, "Qwen/Qwen2.5-0.5B-Instruct tokenizer_config.json chat_template (the same text is quoted "
     "verbatim by public projects that read it out of Qwen/Qwen2.5-0.5B-Instruct-GGUF, found with the code search)",
     None, "<|im_end|>", {}),
    ("tinyllama", TINYLLAMA, "TinyLlama/TinyLlama-1.1B-Chat-v1.0 tokenizer_config.json chat_template (identical to "
     "HuggingFaceH4/zephyr-7b-beta; text as read from tinyllama-1.1b-chat-v1.0 GGUF metadata by a public project)",
     "<s>", "</s>", {}),
    ("llama2", LLAMA2, "meta-llama/Llama-2-7b-chat-hf tokenizer_config.json chat_template (quoted verbatim by "
     "several public projects, e.g. as meta-llama/Llama-2-13b-chat-hf)", "<s>", "</s>", {}),
    ("mistral_v0_1", MISTRAL_V0_1, "mistralai/Mistral-7B-Instruct-v0.1 tokenizer_config.json chat_template, the "
     "original release (assistant turns end with eos_token + ' ')", "<s>", "</s>", {}),
    ("mistral_v0_2", MISTRAL_V0_2, "mistralai/Mistral-7B-Instruct-v0.2 tokenizer_config.json chat_template (the "
     "2024 update, also used by the updated v0.1 and Mixtral-8x7B-Instruct-v0.1: optional system message)",
     "<s>", "</s>", {}),
    ("mistral_v0_3", MISTRAL_V0_3, "mistralai/Mistral-7B-Instruct-v0.3 tokenizer_config.json chat_template (with "
     "tool calling; selectattr, namespace, dict equality, loop filters)", "<s>", "</s>", {}),
    ("vicuna", VICUNA, "lmsys/vicuna-7b-v1.5 ships no chat_template; this is the widely used Vicuna v1.1 template "
     "chat_templates/vicuna.jinja of github.com/chujiezheng/chat_templates", "<s>", "</s>", {}),
    ("chatml", CHATML, "ChatML as in teknium/OpenHermes-2.5-Mistral-7B tokenizer_config.json chat_template",
     "<s>", "<|im_end|>", {}),
    ("llama3", LLAMA3, "meta-llama/Meta-Llama-3-8B-Instruct tokenizer_config.json chat_template (edge: filter "
     "binds tighter than +, set inside a loop)", "<|begin_of_text|>", "<|eot_id|>", {}),
    ("gemma", GEMMA, "google/gemma-7b-it tokenizer_config.json chat_template (edge: raise_exception on a system "
     "message, role renamed with set)", "<bos>", "<eos>", {}),
    ("qwen3", QWEN3, "Qwen/Qwen3 tokenizer_config.json chat_template (edge: messages[::-1], str.split/lstrip/"
     "rstrip/startswith, namespace, reasoning)", None, "<|im_end|>", {}),
    ("llama3_2", LLAMA3_2, "meta-llama/Llama-3.2-1B-Instruct tokenizer_config.json chat_template (edge: "
     "strftime_now, tojson(indent=4), is mapping/iterable, '-}}'; date_string is passed so output is fixed)",
     "<|begin_of_text|>", "<|eot_id|>", {"date_string": "26 Jul 2024"}),
]

# ---- conversations ----------------------------------------------------------------------------------------------
S = {"role": "system", "content": "You are a friendly chatbot."}
U1 = {"role": "user", "content": "Hello, who are you?"}
A1 = {"role": "assistant", "content": "I am an assistant."}
U2 = {"role": "user", "content": "What is 2 + 2?"}
A2 = {"role": "assistant", "content": "   It is 4.   "}
UNI = {"role": "user", "content": "h\u00e9llo \u4e16\u754c \U0001f389 \"double\" 'single' back\\slash\nnew line\ttab {{ not a tag }} {% raw %}"}
AUNI = {"role": "assistant", "content": "r\u00e9ponse \u2014 \u00ab ok \u00bb </s> <|im_end|>"}
EMPTY_U = {"role": "user", "content": ""}
EMPTY_A = {"role": "assistant", "content": ""}
WS_U = {"role": "user", "content": "  \n padded \t "}

CONVERSATIONS = [
    ("user_gen", [U1], True),
    ("user_nogen", [U1], False),
    ("system_user_gen", [S, U1], True),
    ("system_multi_turn", [S, U1, A1, U2], True),
    ("multi_turn_no_system", [U1, A1, U2, A2], False),
    ("multi_turn_no_system_gen", [U1, A1, U2], True),
    ("unicode_and_quotes", [UNI, AUNI, UNI], True),
    ("empty_content", [EMPTY_U, EMPTY_A, EMPTY_U], True),
    ("whitespace_content", [S, WS_U, A2, WS_U], True),
    ("system_only", [S], True),
    ("bad_alternation_user_user", [U1, U2], True),
    ("bad_alternation_starts_assistant", [A1, U1], False),
    ("unknown_role", [U1, {"role": "narrator", "content": "Meanwhile..."}], True),
    ("empty_conversation", [], True),
]

# Whole-context cases (tools, tool calls): rendered through the JSON-context entry point.
TOOLS = [{"type": "function", "function": {"name": "get_weather", "description": "Get the weather \u2600 in a city",
                                            "parameters": {"type": "object", "properties": {
                                                "city": {"type": "string", "description": "The city"},
                                                "unit": {"type": "string", "enum": ["c", "f"]}},
                                                "required": ["city"]}}}]
TOOL_CHAT = [
    {"role": "user", "content": "Weather in Paris?"},
    {"role": "assistant", "content": "", "tool_calls": [{"id": "abc123def", "type": "function", "function": {
        "name": "get_weather", "arguments": {"city": "Paris", "unit": "c"}}}]},
    {"role": "tool", "tool_call_id": "abc123def", "content": "{\"temp\": 21.5}"},
    {"role": "assistant", "content": "It is 21.5 C in Paris."},
    {"role": "user", "content": "Thanks"},
]
CONTEXT_CASES = {
    "qwen2_5": [("tools", TOOL_CHAT, TOOLS, True)],
    "mistral_v0_3": [("tools", TOOL_CHAT, TOOLS, True)],
    "qwen3": [("tools", TOOL_CHAT, TOOLS, True),
              ("reasoning", [U1, {"role": "assistant", "content": "<think>\nhmm\n</think>\n\nHi!"}, U2,
                             {"role": "assistant", "content": "<think>\nadd\n</think>\n\n4"}], None, False)],
    "llama3_2": [("tools", [TOOL_CHAT[0]], TOOLS, True)],
}


def hf_render(template, messages, add_generation_prompt, tools=None, **kwargs):
    """HF's renderer; returns ("ok", text) or ("error", "<ExceptionType>: message")."""
    try:
        out, _ = render_jinja_template(conversations=[messages], tools=tools, chat_template=template,
                                       add_generation_prompt=add_generation_prompt, **kwargs)
        return "ok", out[0]
    except Exception as e:  # noqa: BLE001  (the fixture records whatever HF raised)
        return "error", f"{type(e).__name__}: {e}"


def case_record(name, outcome, extra):
    kind, text = outcome
    rec = {"name": name, **extra}
    if kind == "ok":
        rec["expected"] = text
    else:
        # raise_exception and undefined errors are runtime errors for libaccel (ACCEL_ERR_INVALID_ARG)
        rec["error"] = text
        rec["status"] = "ACCEL_ERR_INVALID_ARG"
    return rec


def make_template_fixture(name, src, source_note, bos, eos, extra_vars):
    kw = dict(extra_vars)
    if bos is not None:
        kw["bos_token"] = bos
    if eos is not None:
        kw["eos_token"] = eos
    cases = []
    for cname, msgs, agp in CONVERSATIONS:
        cases.append(case_record(cname, hf_render(src, msgs, agp, **kw),
                                 {"messages": msgs, "add_generation_prompt": agp}))
    ctx_cases = []
    for cname, msgs, tools, agp in CONTEXT_CASES.get(name, []):
        context = {"messages": msgs, "tools": tools, "documents": None, "add_generation_prompt": agp, **kw}
        ctx_cases.append(case_record(cname, hf_render(src, msgs, agp, tools=tools, **kw), {"context": context}))
    doc = {"name": name, "source": source_note, "template": src, "bos_token": bos, "eos_token": eos,
           "variables": extra_vars, "cases": cases}
    if ctx_cases:
        doc["context_cases"] = ctx_cases
    return doc


# ---- expression-level cases ---------------------------------------------------------------------------------------
# (template, context). Context keys become template variables (messages/tools/documents/add_generation_prompt are
# always defined, as in HF: messages [] and the others None/False unless given).
CONV = [{"role": "system", "content": "sys"}, {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "yo"}, {"role": "user", "content": "bye"}]
EXPRESSIONS = [
    # text, output, comments, whitespace control, trim_blocks / lstrip_blocks
    ("plain text only", {}),
    ("", {}),
    ("trailing newline is dropped\n", {}),
    ("two trailing newlines\n\n", {}),
    ("crlf\r\nline\rend\r\n", {}),
    ("a{{ x }}b", {"x": "X"}),
    ("a{# comment #}b", {}),
    ("a\n{# comment #}\nb", {}),
    ("a\n  {# comment #}  \nb", {}),
    ("a  {#- c -#}  b", {}),
    ("{% if true %}\nx\n{% endif %}\ny", {}),
    ("a\n    {% if true %}\n    b\n    {% endif %}\nc", {}),
    ("  {% if true %}x{% endif %}", {}),
    ("a  {% if true %}x{% endif %}", {}),
    ("a \t{{ 'v' }} \nb", {}),
    ("a   {{- 'b' -}}   c  {%- if true -%}  d  {%- endif %}  e", {}),
    ("a\n\n  {{- 'b' }}\n\n", {}),
    ("{% if true +%}\nkeep{% endif %}", {}),
    ("a\n  {%+ if true %}x{% endif %}", {}),
    ("{{ 'a' }}\n{{ 'b' }}\n", {}),
    ("{% raw %}{{ not evaluated }}{% endraw %}", {}),
    ("x\n  {% raw -%}  {{ a }} {%- endraw %}\ny", {}),
    ("{{ {'a': {'b': 1}} }}", {}),
    ("{{ {'a': 1}}}", {}),
    ("{{ 'a' ~ '}}' }}", {}),
    ("{{ \"\\x41\\u00e9\\U0001F600\\t|\\\\|\\q|\\101\" }}", {}),
    ("{{ 'multi\nline' }}", {}),
    ("{{ 'adjacent' 'strings' }}", {}),
    ("{# multi\nline\ncomment #}x", {}),
    # literals and printing (Python str/repr)
    ("{{ none }} {{ true }} {{ false }} {{ True }} {{ None }}", {}),
    ("{{ 1 + 2 }} {{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % 3 }} {{ -7 % 3 }} {{ 7 % -3 }} {{ 2 * 3 - 1 }} {{ -4 }} {{ 2 ** 10 }}", {}),
    ("{{ 1 / 2 }} {{ 4 / 2 }} {{ 1.5 + 1 }} {{ 0.1 + 0.2 }} {{ 1e20 }} {{ 1e16 }} {{ 1e15 }} {{ 1.5e-5 }} {{ 0.0001 }} {{ 1.0 }} {{ -0.0 }} {{ 2.5 // 1 }} {{ 7.5 % 2 }} {{ 2 ** -1 }}", {}),
    ("{{ 123456789012345678.0 }} {{ 1/3 }} {{ 2/3 }} {{ 100.0 }} {{ 1_000 }} {{ 0x1F }} {{ 0o17 }} {{ 0b101 }} {{ 1_0.5 }}", {}),
    ("{{ [1, 'a', none, true, 1.5, {'k': 'v'}, [2]] }}", {}),
    ("{{ ['it\\'s', \"a\\\"b\", 'x\\ny', 'tab\\t', 'uni\u00e9', '\\x01', 'both\\'\"'] }}", {}),
    ("{{ (1, 2) }} {{ (1,) }} {{ () }} {{ ('a', [1]) }}", {}),
    ("{{ 1, 2 }}", {}),
    ("{{ d }} {{ d.a }} {{ d['b'] }} {{ d.b[0] }} {{ d.missing }}|{{ d['missing'] }}|", {"d": {"a": 1, "b": [1, 2]}}),
    ("{{ 'a' * 3 }} {{ [1] * 2 }} {{ 2 * 'ab' }} {{ 'x' * 0 }} {{ 'x' * -1 }}", {}),
    ("{{ true + 1 }} {{ true * 3 }} {{ 1 + 1.5 }} {{ 3 - true }}", {}),
    ("{{ [1, 2] + [3] }} {{ 'a' + 'b' }}", {}),
    ("{{ 'a' ~ 1 ~ none ~ true ~ 1.5 ~ [1] }}", {}),
    ("{{ 'a' ~ undefined_thing ~ 'b' }}", {}),
    ("{{ -(3) }} {{ +3 }} {{ - -3 }} {{ -x|abs }} {{ not 0 }}", {"x": 5}),
    # undefined
    ("[{{ missing }}]", {}),
    ("{{ missing is defined }} {{ missing is undefined }} {{ missing is none }} {{ missing|length }} {{ 'a' in missing }}", {}),
    ("{{ missing == missing }} {{ missing == none }} {{ missing != 1 }} {{ not missing }} {{ missing or 'fb' }} {{ missing and 1 }}", {}),
    ("{% for x in missing %}a{% else %}empty{% endfor %}", {}),
    ("{{ missing|default('d') }} {{ none|default('d') }} {{ ''|default('d') }} {{ ''|default('d', true) }} {{ 0|d('z', boolean=true) }}", {}),
    ("{{ d.x is defined }} {{ d.a is defined }} {{ d.a.b is defined }} {{ (d.x or 'fb') }}", {"d": {"a": "s"}}),
    ("{{ missing|string }}|{{ missing|trim }}|{{ missing|upper }}|{{ missing|list }}|{{ missing|tojson if false else 'skip' }}", {}),
    # logic and comparisons
    ("{{ 1 < 2 }}{{ 2 <= 1 }}{{ 'a' == 'a' }}{{ 'a' != 'a' }}{{ 3 > 2 }}{{ 1 >= 1 }}{{ 1 < 2 < 3 }}{{ 3 > 2 > 2 }}", {}),
    ("{{ 1 == 1.0 }} {{ true == 1 }} {{ 'a' < 'b' }} {{ 'B' < 'a' }} {{ [1] == [1] }} {{ [1, 2] < [1, 3] }} {{ {'a': 1, 'b': 2} == {'b': 2, 'a': 1} }} {{ 'a' == 1 }} {{ none == none }} {{ (1, 2) == [1, 2] }}", {}),
    ("{{ true and false }}{{ true or false }}{{ not true }}{{ not (1 == 2) }}{{ 0 or '' }}|{{ 'x' and 'y' }}{{ [] or [1] }}", {}),
    ("{{ 'b' in 'abc' }}{{ 2 in [1, 2] }}{{ 'k' in d }}{{ 'q' not in d }}{{ not 'k' in d }}{{ '' in 'abc' }}{{ 1 in (1, 2) }}", {"d": {"k": 1}}),
    ("{{ 'yes' if flag else 'no' }}|{{ 'a' if false }}|{{ 'x' if 0 else 'y' if 1 else 'z' }}", {"flag": True}),
    ("{% if x %}T{% elif y %}Y{% else %}F{% endif %}{% if not x and not y %}N{% endif %}", {"x": 0, "y": [0]}),
    # tests
    ("{{ x is defined }}{{ y is defined }}{{ y is not defined }}{{ n is none }}{{ s is string }}{{ n is not none }}", {"x": 1, "n": None, "s": "s"}),
    ("{{ 'abc' is string }}{{ 1 is number }}{{ 1 is integer }}{{ 1.0 is float }}{{ 1.0 is integer }}{{ true is number }}{{ true is integer }}{{ [] is iterable }}{{ {} is mapping }}{{ 'a' is iterable }}{{ 1 is iterable }}{{ [] is sequence }}{{ 'a' is sequence }}{{ {} is sequence }}", {}),
    ("{{ true is boolean }}{{ 1 is boolean }}{{ true is true }}{{ 1 is true }}{{ false is false }}{{ 1 is odd }}{{ 2 is even }}{{ 6 is divisibleby 3 }}{{ 7 is divisibleby(3) }}{{ 1 is sameas 1 }}{{ none is sameas none }}", {}),
    ("{{ 'abc' is lower }}{{ 'ABC' is upper }}{{ 'aB' is lower }}{{ 1 is eq 1 }}{{ 1 is equalto 2 }}{{ 1 is ne 2 }}{{ 1 is lt 2 }}{{ 2 is gt 1 }}{{ 1 is le 1 }}{{ 1 is ge 2 }}{{ 2 is in [1, 2] }}{{ 'a' is in 'xyz' }}", {}),
    ("{{ raise_exception is defined }}{{ strftime_now is defined }}{{ namespace is defined }}{{ range is defined }}{{ raise_exception is callable }}{{ 'x' is callable }}{{ d.get is callable }}", {"d": {}}),
    ("{{ d is mapping }}{{ d.k is string }}{{ d.n is number }}{{ d.l is iterable }}{{ d.z is none }}", {"d": {"k": "v", "n": 1.5, "l": [1], "z": None}}),
    # subscripts and slices
    ("{{ xs[0] }}{{ xs[-1] }}{{ xs[1:] }}{{ xs[:2] }}{{ 'hello'[1:3] }}{{ d['k'] }}{{ d.k }}{{ xs.0 }}", {"xs": [1, 2, 3], "d": {"k": "v"}}),
    ("{{ xs[::-1] }}{{ xs[::2] }}{{ xs[1::2] }}{{ xs[-1:0:-1] }}{{ xs[:-2:-1] }}{{ 'abc'[::-1] }}{{ xs[10:] }}{{ xs[-10:2] }}{{ xs[3:1] }}", {"xs": [1, 2, 3, 4, 5]}),
    ("{{ s[0] }}{{ s[-1] }}{{ s[1:3] }}{{ s|length }}{{ s[::-1] }}{{ s[5] }}|", {"s": "h\u00e9\u4e16\U0001f389"}),
    ("{{ xs[5] }}|{{ xs[-5] }}|{{ d['nope'] }}|{{ (xs[5] or 'fb') }}", {"xs": [1], "d": {}}),
    ("{{ messages[0]['role'] }} {{ messages[1:]|length }} {{ messages[-1].content }}", {"messages": CONV}),
    ("{{ [1, 'a'] }}{{ {'k': 1}['k'] }}{{ [1, 2,] }}{{ {'a': 1,} }}{{ {1: 'int key', none: 'n', true: 't'} }}", {}),
    # filters
    ("{{ '  x  ' | trim }}|{{ 'xxhixx' | trim('x') }}|{{ xs | length }}|{{ xs | count }}|{{ 'Ab' | upper }}{{ 'Ab' | lower }}|{{ xs | join('-') }}|{{ xs | join }}|{{ xs | first }}{{ xs | last }}", {"xs": [1, 2, 3]}),
    ("{{ 'hello wORLD-foo(bar)x' | title }}|{{ 'hELLO World' | capitalize }}|{{ 'a-b-a' | replace('a', 'z') }}|{{ 'aaa' | replace('a', 'b', 2) }}|{{ 'x' | replace('', '-') }}", {}),
    ("{{ 5 | string }}{{ 1.5 | string }}{{ none | string }}{{ [1] | string }}|{{ '42' | int }} {{ 'x' | int }} {{ '3.7' | int }} {{ 3.7 | int }} {{ ' 12 ' | int }} {{ true | int }} {{ 'x' | int(7) }} {{ '0x1A' | int(0, 16) }} {{ 'ff' | int(base=16) }} {{ '1_000' | int }}", {}),
    ("{{ '1.5' | float }} {{ 2 | float }} {{ 'x' | float }} {{ -3 | abs }} {{ 2.567 | round(2) }} {{ 2.5 | round }} {{ 3.5 | round }} {{ 2.1 | round(0, 'ceil') }} {{ 2.9 | round(method='floor') }}", {}),
    ("{{ {'a': 1, 'b': 2} | items | list }} {{ 'ab' | list }} {{ {'a': 1} | list }} {% for k, v in {'x': 1, 'y': 2} | items %}{{ k }}={{ v }};{% endfor %}", {}),
    ("{{ {'a': [1, 'x', none, true, 1.5]} | tojson }}|{{ 'e\u00e9\"<>&\\n\\t\\u0001\\\\' | tojson }}|{{ none | tojson }}|{{ 1.0 | tojson }}|{{ [] | tojson(indent=2) }}|{{ {} | tojson(indent=2) }}", {}),
    ("{{ {'b': [1, {'c': 'x'}], 'a': {}, 'e': []} | tojson(indent=4) }}|{{ {'b': 1, 'a': 2} | tojson(sort_keys=true) }}|{{ [1, 2] | tojson(separators=(',', ':')) }}|{{ 'caf\u00e9' | tojson(ensure_ascii=true) }}|{{ {'k': 1} | tojson(indent='  ') }}", {}),
    ("{{ tools | tojson }}", {"tools": TOOLS}),
    ("{{ x | tojson }}|{{ (1, 'a') | tojson }}|{{ {1: 'a', 2.5: 'b', true: 'c', none: 'd'} | tojson }}|{{ 1e100 | tojson }}|{{ 3 | tojson }}", {"x": {"nested": {"deep": ["\U0001f389", -1, 0.5]}}}),
    ("{{ xs | selectattr('role', 'equalto', 'user') | list | length }} {{ (xs | selectattr('role', 'equalto', 'user') | list)[-1].content }} {{ xs | rejectattr('role', 'equalto', 'user') | map(attribute='content') | join(',') }}", {"xs": CONV}),
    ("{% for i in items | selectattr('on') %}{{ i.n }}{% endfor %}|{% for i in items | rejectattr('on') %}{{ i.n }}{% endfor %}|{{ items | selectattr('on', 'defined') | list | length }}|{{ items | selectattr('n', 'gt', 1) | map(attribute='n') | list }}", {"items": [{"n": 1, "on": True}, {"n": 2, "on": False}, {"n": 3}]}),
    ("{{ [1, 2, 3, 4] | select('odd') | list }} {{ [1, 2, 3, 4] | reject('even') | list }} {{ ['a', '', 'b'] | select | list }} {{ ['a', 'B'] | map('upper') | list }} {{ [3, 1, 2] | sort | list }} {{ [3, 1, 2] | sort(reverse=true) | list }} {{ [1, 2] | reverse | list }} {{ 'abc' | reverse }} {{ [3, 1] | min }} {{ [3, 1] | max }} {{ [1, 2.5] | sum }} {{ [1, 2, 1] | unique | list }}", {}),
    ("{{ xs | map(attribute='n') | sum }} {{ xs | sort(attribute='n') | map(attribute='n') | join }} {{ xs | map(attribute='missing', default='d') | list }} {{ xs | map(attribute='n') | select('gt', 1) | list }}", {"xs": [{"n": 2}, {"n": 1}, {"n": 3}]}),
    ("{{ 'a\\nb\\n' | indent(2) }}|{{ 'a\\nb' | indent(2, true) }}|{{ 'a\\n\\nb' | indent(width='> ', blank=true) }}|{{ 'x' | indent }}", {}),
    ("{{ d | dictsort }} {{ d | dictsort(reverse=true) }} {{ {'B': 1, 'a': 2} | dictsort }} {{ {'B': 1, 'a': 2} | dictsort(true) }}", {"d": {"b": 1, "a": 2}}),
    ("{{ 'hello world foo' | wordcount }} {{ '%s-%d' | format('a', 3) }} {{ 'x' | safe }} {{ '<a href=\"x\">&\\'' | e }} {{ 'abc' | center(7) }}|{{ 'hello world' | truncate(8, true, '..', 0) }}", {}),
    ("{{ [1, 2, 3, 4, 5] | batch(2) | list }} {{ [1, 2, 3] | slice(2) | list }} {{ 'x' | attr('upper') is callable }}", {}),
    ("{% filter upper %}abc {{ 'def' }}{% endfilter %}|{% filter replace('a', 'b') | upper %}aaa{% endfilter %}", {}),
    # methods
    ("{{ ' x '.strip() }}{{ 'abc'.startswith('ab') }}{{ 'abc'.endswith('x') }}{{ 'ab'.upper() }}{{ 'hello world'.title() }}{{ ' x '.lstrip() }}|{{ ' x '.rstrip() }}|{{ 'AbC'.lower() }}{{ 'aBC dEF'.capitalize() }}", {}),
    ("[{{ '\\n\\nx\\n'.strip('\\n') }}][{{ 'xxay'.lstrip('x') }}][{{ 'ayyx'.rstrip('xy') }}][{{ ' a '.strip(none) }}][{{ '\u3000\u00a0x\\u2003'.strip() }}]", {}),
    ("{{ 'a<b>c<b>'.split('<b>') }}{{ ' a  b '.split() }}{{ 'x'.split(',') }}{{ 'r</think>a'.split('</think>')[-1] }}{{ 'a,b,c'.split(',', 1) }}{{ ''.split() }}{{ ''.split(',') }}{{ 'a b c'.split(none, 1) }}{{ 'a,b,c'.rsplit(',', 1) }}", {}),
    ("{{ 'abc'.startswith(('x', 'a')) }}{{ 'abc'.endswith('bc', 0) }}{{ 'a-b'.replace('-', '+') }}{{ 'aaa'.replace('a', 'b', 1) }}{{ 'abcabc'.find('c') }}{{ 'abc'.find('z') }}{{ 'abcabc'.count('bc') }}{{ 'a\\nb\\r\\nc'.splitlines() }}{{ '-'.join(['a', 'b']) }}", {}),
    ("{{ '12'.isdigit() }}{{ 'ab'.isalpha() }}{{ ' '.isspace() }}{{ 'Ab'.islower() }}{{ 'AB'.isupper() }}{{ 'a1'.isalnum() }}{{ 'hello'.zfill(8) }}{{ 'x'.center(5, '*') }}{{ 'x'.ljust(3, '.') }}{{ 'x'.rjust(3) }}{{ 'aBc'.swapcase() }}{{ 'Hello World'.istitle() }}", {}),
    ("{{ d.get('k') }}{{ d.get('q', 'dflt') }}{{ d.get('q') }}{{ d.keys() | list }}{{ d.values() | list }}{{ d.items() | list }}{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}", {"d": {"k": "v", "n": 1}}),
    ("{{ '{} and {}'.format('a', 1) }}|{{ '{x}!'.format(x='y') }}", {}),
    ("{{ xs.index(2) }} {{ xs.count(1) }}", {"xs": [1, 2, 1]}),
    # loops
    ("{% for x in items %}{{ loop.index }}{{ loop.index0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }}{{ loop.revindex }}{{ loop.revindex0 }};{% endfor %}", {"items": ["a", "b", "c"]}),
    ("{% for a in [1, 2, 3] %}{{ loop.previtem }}{{ loop.nextitem }}{{ loop.cycle('x', 'y') }}{{ loop.depth }}|{% endfor %}", {}),
    ("{% for x in [] %}x{% else %}empty{% endfor %}|{% for x in [1] %}{{ x }}{% else %}no{% endfor %}", {}),
    ("{% for n in [1, 2, 3, 4] %}{% if n == 2 %}{% continue %}{% endif %}{% if n == 4 %}{% break %}{% endif %}{{ n }}{% endfor %}", {}),
    ("{% for x in [1, 2, 3, 4] if x % 2 == 0 %}{{ loop.index }}:{{ x }}{% if not loop.last %},{% endif %}{% endfor %}|{% for x in [1, 3] if x > 5 %}{{ x }}{% else %}none passed{% endfor %}", {}),
    ("{% for k, v in d.items() if k != 'b' %}{{ k }}={{ v }};{% endfor %}{% for k in d %}{{ k }}{% endfor %}", {"d": {"a": 1, "b": 2, "c": 3}}),
    ("{% for a, b in [[1, 2], (3, 4)] %}{{ a }}{{ b }}{% endfor %}|{% for c in 'h\u00e9' %}[{{ c }}]{% endfor %}", {}),
    ("{% for i in range(3) %}{{ i }}{% endfor %}|{{ range(1, 8, 3) | list }}{{ range(3, -1, -1) | list }}{{ range(0, 3, -1) | list }}{{ range(0) | list }}{{ range(2) | length }}", {}),
    ("{% for x in [1, 2] %}{% for y in 'ab' %}{{ loop.index }}{{ y }}{{ loop.depth }}{% endfor %}{{ loop.index }}{% endfor %}", {}),
    ("{% for m in messages %}{{ m.role }}:{{ m.content }}{{ ',' if not loop.last }}{% endfor %}", {"messages": CONV}),
    ("{% for x in [1, 2] %}{% set y = x * 10 %}{{ y }}{% endfor %}[{{ y }}]{% for x in [1] %}{{ loop.index }}{% endfor %}{{ x }}", {}),
    # set and scope
    ("{% set a = 1 %}{% for x in [1] %}{% set a = 2 %}{{ a }}{% endfor %}{{ a }}{% if true %}{% set b = 3 %}{% endif %}{{ b }}", {}),
    ("{% for i in [1, 2] %}{% if i == 1 %}{% set x = 'a' %}{% endif %}[{{ x }}]{% endfor %}{{ x }}", {}),
    ("{% set x = 1 %}{% for i in [1, 2] %}{{ x }}{% set x = x + 1 %}{{ x }}{% endfor %}{{ x }}", {}),
    ("{% set a, b = 1, 2 %}{{ a }}{{ b }}{% set c = (3, 4) %}{{ c }}{% set t = 1, %}{{ t }}", {}),
    ("{% set block_var %}inner {{ 1 + 1 }}{% endset %}[{{ block_var }}]{% set up | upper %}shout{% endset %}{{ up }}", {}),
    ("{% set messages = messages[1:] %}{{ messages | length }}", {"messages": CONV}),
    ("{% set add_generation_prompt = true %}{{ add_generation_prompt }}", {}),
    ("{% with a = 1, b = 2 %}{{ a + b }}{% endwith %}[{{ a }}]", {}),
    # namespace
    ("{% set ns = namespace(total=0, seen=false) %}{% for x in [1, 2, 3] %}{% set ns.total = ns.total + x %}{% if x == 2 %}{% set ns.seen = true %}{% endif %}{% endfor %}{{ ns.total }} {{ ns.seen }}", {}),
    ("{% set ns = namespace() %}{% set ns.a = 'x' %}{{ ns.a }}{{ ns.b is defined }}{% set ns2 = namespace({'k': 1}, j=2) %}{{ ns2.k }}{{ ns2.j }}{{ ns }}", {}),
    ("{% set d = dict(a=1, b='x') %}{{ d }}{{ dict() }}{{ dict({'z': 1}, y=2) }}", {}),
    # macros
    ("{% macro f(a, b='x') %}{{ a }}{{ b }}{{ c }}{% endmacro %}{% set c = 'C' %}{{ f(1) }}|{{ f(1, b=2) }}|{{ f(b=3, a=4) }}|{{ f('p', 'q') }}", {}),
    ("{% macro fact(n) %}{% if n <= 1 %}1{% else %}{{ n * fact(n - 1) | int }}{% endif %}{% endmacro %}{{ fact(5) }}", {}),
    ("{% macro show(x) -%}\n  [{{ x }}]\n{%- endmacro %}\n{{ show('a') }}{{ show('b') | upper }}{{ show(x='c') | length }}", {}),
    ("{% macro m() %}{{ varargs }}{{ kwargs }}{% endmacro %}{{ m(1, 2, k=3) }}", {}),
    ("{% macro ret(x) %}{% set y = x %}{{ y }}{% endmacro %}{{ ret(1) }}[{{ y }}]", {}),
    # generation block (transformers' AssistantTracker extension renders its body)
    ("{% for m in messages %}{% if m.role == 'assistant' %}{% generation %}{{ m.content }}!{% endgeneration %}{% else %}{{ m.content }}{% endif %}|{% endfor %}", {"messages": CONV}),
    # strftime_now is a function returning a string (its value depends on the clock, so only its type is checked)
    ("{{ strftime_now('%Y') is string }} {{ strftime_now('%Y') | length }}", {}),
    # print statement
    ("{% print 'printed', 1 %}", {}),
    # generators (map/select/... are lazy and one-shot in Jinja), dict views and ranges
    ("{% set g = xs | select('odd') %}{{ g | list }}{{ g | list }}|{% set g = xs | select('odd') %}{{ g | first }}{{ g | list }}|{{ (xs | select('even')) is iterable }}{{ (xs | select) is sequence }}|{{ 'yes' if xs | selectattr('missing') else 'no' }}|{{ 2 in xs | select('even') }}|{{ xs | reverse | list }}{{ 'abc' | reverse }}", {"xs": [3, 1, 2]}),
    ("{{ d.keys() }}{{ d.values() }}{{ d.items() }}|{{ range(3) }}{{ range(0, 10, 2) }}{{ range(3) | list }}|{{ d.items() | length }}{{ d.keys() is sequence }}{{ range(5)[1:3] }}{{ range(3) == [0, 1, 2] }}", {"d": {"a": 1, "b": [2]}}),
    ("{{ 0 | select | list }}{{ none | map('upper') | list }}{{ undefined_thing | reverse | list }}{{ 'x' % undefined_thing }}|{{ [1, 2] | truncate(5) }}", {}),
    # Jinja's constant folding writes -1 as a literal before **, where Python's ** binds first
    ("{{ -1 ** x }} {{ -2 ** 2 }} {{ - x ** 2 }} {{ 2 ** 3 ** 2 }} {{ -1.5 ** x }}", {"x": 2}),
    ("{{ '-10' is lower }}{{ 'A1' is upper }}{{ 'a' is lower }}{{ '' is upper }}", {}),
    # errors at render time (the expected field is HF's exception)
    ("{{ raise_exception('boom: ' ~ 42) }}", {}),
    ("{{ missing.attr }}", {}),
    ("{{ missing['k'] }}", {}),
    ("{{ missing + 'x' }}", {}),
    ("{{ 'a' + 1 }}", {}),
    ("{{ 1 + 'a' }}", {}),
    ("{{ 1 / 0 }}", {}),
    ("{{ 1 // 0 }}", {}),
    ("{{ 1 % 0 }}", {}),
    ("{{ 1 < 'a' }}", {}),
    ("{{ - 'a' }}", {}),
    ("{{ 'x'() }}", {}),
    ("{{ 'abc'.nosuchmethod() }}", {}),
    ("{{ missing | tojson }}", {}),
    ("{{ [].append(1) }}", {}),
    ("{% set d = {'a': 1} %}{% set d.a = 2 %}", {}),
    ("{{ range(1, 2, 0) | list }}", {}),
    ("{% for a, b in [1, 2] %}{% endfor %}", {}),
    ("{{ namespace(_x=1) }}", {}),
    ("{% macro f(a) %}{{ a }}{% endmacro %}{{ f(1, 2) }}", {}),
    ("{% macro f(a) %}{{ a }}{% endmacro %}{{ f(b=2) }}", {}),
    ("{{ 'x' | int('bad') }}", {}),
    ("{{ {'a': 1}['a']['b'] }}", {}),
    ("{{ 5['x'] }}", {}),
    ("{{ 'abc'.split('') }}", {}),
    ("{{ xs | select | length }}", {"xs": [1]}),
    ("{{ xs | select | last }}", {"xs": [1]}),
    ("{{ xs | reverse | length }}", {"xs": [1]}),
    ("{{ xs[1.5:] }}", {"xs": [1]}),
    ("{{ n[1:] }}", {"n": 5}),
    ("{{ d[1:] }}", {"d": {"a": 1}}),
    ("{{ 2.0 ** 10000 }}", {}),
    ("{{ 'x' is upper 5 }}", {}),
    ("{{ undefined_thing | int }}", {}),
    ("{{ [1] | indent }}", {}),
    ("{{ 2.5 | truncate(5) }}", {}),
    ("{{ [[1], [1]] | unique | list }}", {}),
]

# ---- malformed templates ----------------------------------------------------------------------------------------
# (name, template, status, phase, run_in_jinja). phase: "parse" (accel_chat_template_parse fails) or "render".
MALFORMED = [
    ("unclosed variable", "{{ x ", "ACCEL_ERR_MODEL_FORMAT", "parse", True),
    ("unclosed block", "{% if x ", "ACCEL_ERR_MODEL_FORMAT", "parse", True),
    ("unclosed comment", "a {# never closed", "ACCEL_ERR_MODEL_FORMAT", "parse", True),
    ("missing endif", "{% if x %}a", "ACCEL_ERR_MODEL_FORMAT", "parse", True),
    ("missing endfor", "{% for x in y %}a{% if z %}{% endif %}", "ACCEL_ERR_MODEL_FORMAT", "parse", True),
    ("stray endif", "a{% endif %}", "ACCEL_ERR_MODEL_FORMAT", "parse", True),
    ("mismatched end", "{% if x %}{% endfor %}", "ACCEL_ERR_MODEL_FORMAT", "parse", True),
    ("else after else", "{% if x %}a{% else %}b{% else %}c{% endif %}", "ACCEL_ERR_MODEL_FORMAT", "parse", True),
    ("unknown tag", "{% frobnicate %}", "ACCEL_ERR_MODEL_FORMAT", "parse", True),
    ("do tag (extension not enabled)", "{% do x.append(1) %}", "ACCEL_ERR_MODEL_FORMAT", "parse", True),
    ("empty expression", "{{ }}", "ACCEL_ERR_MODEL_FORMAT", "parse", True),
    ("dangling operator", "{{ 1 + }}", "ACCEL_ERR_MODEL_FORMAT", "parse", True),
    ("unbalanced paren", "{{ (1 + 2 }}", "ACCEL_ERR_MODEL_FORMAT", "parse", True),
    ("unbalanced bracket close", "{{ a] }}", "ACCEL_ERR_MODEL_FORMAT", "parse", True),
    ("unterminated string", "{{ 'abc }}", "ACCEL_ERR_MODEL_FORMAT", "parse", True),
    ("bad character", "{{ a $ b }}", "ACCEL_ERR_MODEL_FORMAT", "parse", True),
    ("chained is", "{{ a is defined is defined }}", "ACCEL_ERR_MODEL_FORMAT", "parse", True),
    ("assign to literal", "{% set 1 = 2 %}", "ACCEL_ERR_MODEL_FORMAT", "parse", True),
    ("for without in", "{% for x y %}{% endfor %}", "ACCEL_ERR_MODEL_FORMAT", "parse", True),
    ("unknown filter", "{{ x | no_such_filter }}", "ACCEL_ERR_MODEL_FORMAT", "parse", True),
    ("unknown test", "{{ x is no_such_test }}", "ACCEL_ERR_MODEL_FORMAT", "parse", True),
    ("break outside loop", "{% break %}", "ACCEL_ERR_MODEL_FORMAT", "parse", True),
    ("macro default before plain", "{% macro f(a=1, b) %}{% endmacro %}", "ACCEL_ERR_MODEL_FORMAT", "parse", True),
    ("invalid escape", "{{ '\\x4' }}", "ACCEL_ERR_MODEL_FORMAT", "parse", True),
    ("invalid utf-8", b"{{ 'a\xff' }}".decode("latin-1"), "ACCEL_ERR_MODEL_FORMAT", "parse", False),
    ("include (no loader)", "{% include 'other.jinja' %}", "ACCEL_ERR_UNSUPPORTED", "parse", True),
    ("extends", "{% extends 'base' %}", "ACCEL_ERR_UNSUPPORTED", "parse", True),
    ("import", "{% import 'm' as m %}", "ACCEL_ERR_UNSUPPORTED", "parse", True),
    ("call block", "{% macro f() %}{{ caller() }}{% endmacro %}{% call f() %}x{% endcall %}", "ACCEL_ERR_UNSUPPORTED", "parse", True),
    ("block tag", "{% block b %}x{% endblock %}", "ACCEL_ERR_UNSUPPORTED", "parse", True),
    ("autoescape", "{% autoescape true %}x{% endautoescape %}", "ACCEL_ERR_UNSUPPORTED", "parse", True),
    ("recursive loop", "{% for x in [1] recursive %}{{ loop(x) }}{% endfor %}", "ACCEL_ERR_UNSUPPORTED", "parse", True),
    ("unsupported builtin filter", "{{ x | xmlattr }}", "ACCEL_ERR_UNSUPPORTED", "parse", True),
    ("unsupported global", "{{ cycler('a', 'b').next() }}", "ACCEL_ERR_UNSUPPORTED", "render", True),
    ("deep nesting of parentheses", "{{ " + "(" * 5000 + "1" + ")" * 5000 + " }}", "ACCEL_ERR_MODEL_FORMAT", "parse", False),
    ("deep nesting of blocks", "{% if true %}" * 3000 + "x" + "{% endif %}" * 3000, "ACCEL_ERR_MODEL_FORMAT", "parse", False),
    ("deep nesting of lists", "{{ " + "[" * 5000 + "]" * 5000 + " }}", "ACCEL_ERR_MODEL_FORMAT", "parse", False),
    ("huge loop", "{% for i in range(100000000) %}{% endfor %}", "ACCEL_ERR_INVALID_ARG", "render", False),
    ("nested huge loops", "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}", "ACCEL_ERR_INVALID_ARG", "render", False),
    ("output bomb", "{% for i in range(1000000) %}{{ 'x' * 1000 }}{% endfor %}", "ACCEL_ERR_INVALID_ARG", "render", False),
    ("string bomb", "{% set ns = namespace(s='xxxxxxxxxxxxxxxx') %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s | length }}", "ACCEL_ERR_INVALID_ARG", "render", False),
    ("infinite macro recursion", "{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}", "ACCEL_ERR_INVALID_ARG", "render", False),
    ("list bomb", "{{ ([1] * 100000000) | length }}", "ACCEL_ERR_INVALID_ARG", "render", False),
    ("integer overflow", "{{ 2 ** 200 }}", "ACCEL_ERR_UNSUPPORTED", "render", False),
]


def jinja_outcome(template, context):
    ctx = {"messages": [], "tools": None, "documents": None, "add_generation_prompt": False}
    ctx.update(context)
    msgs = ctx.pop("messages")
    tools = ctx.pop("tools")
    ctx.pop("documents")
    agp = ctx.pop("add_generation_prompt")
    return hf_render(template, msgs, agp, tools=tools, **ctx)


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    versions = {"transformers": transformers.__version__, "jinja2": jinja2.__version__}
    for name, src, note, bos, eos, extra in TEMPLATES:
        doc = make_template_fixture(name, src, note, bos, eos, extra)
        doc["generated_by"] = {"script": "python/reference/chat_templates.py", **versions}
        write(OUT / f"{name}.json", doc)
    cases = []
    for template, context in EXPRESSIONS:
        full = {"messages": [], "tools": None, "documents": None, "add_generation_prompt": False, **context}
        cases.append(case_record(template, jinja_outcome(template, context), {"template": template,
                                                                             "context": full}))
    write(OUT / "expressions.json", {"generated_by": {"script": "python/reference/chat_templates.py", **versions},
                                     "cases": cases})
    bad = []
    for name, template, status, phase, run in MALFORMED:
        rec = {"name": name, "template": template, "status": status, "phase": phase}
        if name == "invalid utf-8":
            rec["template"] = None
            rec["template_bytes_hex"] = b"{{ 'a\xff' }}".hex()
        if run:
            kind, text = jinja_outcome(template, {})
            rec["jinja"] = text if kind == "error" else "renders: " + repr(text)
        else:
            rec["jinja"] = "not run through Jinja (a resource limit case)"
        bad.append(rec)
    write(OUT / "malformed.json", {"generated_by": {"script": "python/reference/chat_templates.py", **versions},
                                   "cases": bad})
    return 0


def write(path, doc):
    path.write_text(json.dumps(doc, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    sys.exit(main())
