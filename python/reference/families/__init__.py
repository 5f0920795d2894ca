"""One module per model family; each has NAME and make(), which writes tests/fixtures/models/<NAME>/."""
