"""Question answering: corpus, French normalisation, matching and the answer decision."""
