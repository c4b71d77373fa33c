"""Question answering samples: chain views, question templates, answer builders, IIR rounds, task mix and sample ids."""
