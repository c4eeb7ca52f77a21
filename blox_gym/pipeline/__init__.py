"""The measurement pipeline: train, distil and fine-tune Blox networks into records and tables."""
