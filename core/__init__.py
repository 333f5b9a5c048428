"""The leaf every other package builds on: event keys, Chunk and positions, errors, metrics, tags,
time formatting, option types and the retry policy. It imports nothing of ours (tests/test_layering.py).
"""
