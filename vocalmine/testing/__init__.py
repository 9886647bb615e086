"""The test kit: generators of small songs, stems, pair corpora, shards and faults.

Shared by tests/, bench/ and, where it fits, the demo corpus, so that no test
loads a benchmark file and no benchmark loads a test file.
"""
