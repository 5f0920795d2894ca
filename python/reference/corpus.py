"""Fixed training text for the tiny tokenizers and fixed inputs for the fixtures (no downloads).

The corpus mixes plain English, numbers, punctuation, accents, CJK, emoji and code so that every tokenizer's
normalizer / pre-tokenizer / byte fallback is exercised by the trained vocabularies and by the test inputs.
"""

CORPUS = [
    "The quick brown fox jumps over the lazy dog.",
    "A transformer model reads a sequence of tokens and writes a sequence of vectors.",
    "Hugging Face hosts thousands of models for text, images, audio and video.",
    "The runtime detects the hardware, picks the best device and falls back per operation.",
    "Attention is all you need, said the paper in 2017.",
    "Rotary position embeddings rotate queries and keys by an angle that grows with position.",
    "Grouped query attention shares each key and value head among several query heads.",
    "Layer normalization subtracts the mean and divides by the standard deviation.",
    "The cat sat on the mat, and the dog slept by the door.",
    "She sells sea shells by the sea shore; the shells she sells are surely sea shells.",
    "How much wood would a woodchuck chuck if a woodchuck could chuck wood?",
    "Translate English to German: The house is wonderful.",
    "summarize: The weather today was sunny with a light breeze from the west.",
    "Question: What is the capital of France? Answer: Paris.",
    "Numbers like 3.14159, 2.71828 and 1,000,000 appear in scientific writing.",
    "Email me at someone@example.com or call +1 (555) 123-4567 before 5 p.m.",
    "def add(a, b):\n    return a + b  # adds two numbers",
    "for (int i = 0; i < n; ++i) { sum += x[i] * y[i]; }",
    "Caf\u00e9 cr\u00e8me br\u00fbl\u00e9e na\u00efve r\u00e9sum\u00e9 fa\u00e7ade \u00fcber stra\u00dfe.",
    "\u00c9COLE \u00c0 PARIS: \u00c9t\u00e9 \u00e0 la plage, \u00e7a va tr\u00e8s bien.",
    "\u4eca\u65e5\u306f\u3044\u3044\u5929\u6c17\u3067\u3059\u3002\u6211\u7231\u81ea\u7136\u8bed\u8a00\u5904\u7406\u3002",
    "Emoji are tokens too: \U0001F600 \U0001F680 \u2764\ufe0f and so are symbols like \u00a9 \u2122 \u00b0C.",
    "Machine learning models learn patterns from data instead of following explicit rules.",
    "The mitochondria is the powerhouse of the cell.",
    "Once upon a time there was a little robot who wanted to learn how to paint.",
    "The river flows through the valley and into the sea beyond the hills.",
    "In the beginning the universe was created; this has made a lot of people very angry.",
    "Good morning! How are you today? I am fine, thank you.",
    "The committee will meet on Tuesday at 10:30 to discuss the annual budget.",
    "Running, jumping, swimming and climbing are all good exercises.",
    "Unbelievably, the unbreakable unicorn untangled the unknown universe.",
    "Tokenization splits text into words, subwords or bytes before the model sees it.",
    "   Extra   spaces\tand\ttabs\nand new lines should be handled carefully.   ",
    "ALL CAPS TEXT AND MiXeD CaSe TeXt ArE NoRmAlIzEd DiFfErEnTlY.",
    "The sentence embedding of a query is compared with document embeddings by cosine similarity.",
    "A photo of a cat. A photo of a dog. A photo of a car. A diagram of a neural network.",
    "Speech recognition turns audio into text; text to speech turns text into audio.",
    "The price rose by 12% to $45.60 per share, the highest since 1999.",
    "Well-known, state-of-the-art, end-to-end: hyphenated words are common in papers.",
    "He said, \"It's not what you think,\" and she replied, 'Isn't it?'",
]

# Inputs the fixtures run. Kept apart from the corpus on purpose: some words are unseen by the trained
# vocabularies, so unknown-word / sub-word splitting and byte fallback happen.
TEST_TEXTS = [
    "The quick brown fox jumps over the lazy dog.",
    "Hello world! Tokenizers split unseen words like zygomorphic into pieces.",
    "Caf\u00e9 na\u00efve \u00dcBER 3.14 \u4eca\u65e5\u306f \U0001F600",
    "A short one.",
]

MINILM_SENTENCES = [
    "This framework generates embeddings for each input sentence.",
    "Sentences are passed as a list of strings.",
    "The quick brown fox jumps over the lazy dog.",
    "A man is eating food.",
    "A man is eating a piece of bread.",
    "The girl is carrying a baby.",
    "A man is riding a horse.",
    "A woman is playing violin.",
    "Two men pushed carts through the woods.",
    "A man is riding a white horse on an enclosed ground.",
    "A monkey is playing drums.",
    "Someone in a gorilla costume is playing a set of drums.",
    "Caf\u00e9 cr\u00e8me and na\u00efve r\u00e9sum\u00e9s \u2014 accents are stripped by the normalizer.",
    "\u4eca\u65e5\u306f\u3044\u3044\u5929\u6c17\u3067\u3059\u3002",
    "",
]
