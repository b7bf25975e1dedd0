"""Qt-free classroom experiments: what to run and how to phrase the result from the numbers."""
