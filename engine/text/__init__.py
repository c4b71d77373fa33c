"""Report text handling: decoding, sections, sizes and negation context."""
